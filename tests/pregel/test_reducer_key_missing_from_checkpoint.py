"""A reducer key the thread's checkpoint lacks (the thread was started by another graph, or
the key is new in this graph) reads as its empty value, as in LangGraph; side by side."""

from __future__ import annotations

from _side_by_side import on_both, require_langgraph

PROGRAM = '''
import operator
from typing import Annotated
from typing_extensions import TypedDict
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph

class A(TypedDict, total=False):
    topic: str

class B(TypedDict, total=False):
    value: str
    log: Annotated[list[str], operator.add]

def build(schema, node):
    g = StateGraph(schema)
    g.add_node("n", node)
    g.add_edge(START, "n")
    return g.compile(checkpointer=saver)

saver = InMemorySaver()
first = build(A, lambda s: {"topic": "x"})
second = build(B, lambda s: {"value": "y", "log": ["b saw " + repr(s.get("log"))]})
cfg = {"configurable": {"thread_id": "t"}}
first.invoke({"topic": "t"}, cfg)
print(second.invoke({"value": "v"}, cfg))
print(second.get_state(cfg).values)
print([s.values for s in second.get_state_history(cfg)])
'''


def test_a_thread_started_by_another_graph_shows_empty_reducer_keys() -> None:
    require_langgraph("langgraph.graph")
    theirs, ours = on_both(PROGRAM)
    assert "b saw []" in ours
    assert ours == theirs
