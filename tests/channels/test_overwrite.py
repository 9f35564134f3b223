"""Overwrite: a write that replaces a reducer key's value, side by side with LangGraph, and
kept across a checkpoint (the task's writes are saved with the Overwrite in them)."""

from __future__ import annotations

import operator
import textwrap
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from _side_by_side import on_both, require_langgraph
from hitlgraph.channels import BinaryOperatorAggregate
from hitlgraph.channels.binop import Overwrite
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.errors import InvalidUpdateError
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt

# (Overwrite is imported from channels.binop, where LangGraph's binop has it too, until
# hitlgraph.types re-exports it)
_SCRIPT = """
import operator
from typing import Annotated
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.channels import BinaryOperatorAggregate
from langgraph.channels.binop import Overwrite
from langgraph.errors import InvalidUpdateError

class S(TypedDict):
    items: Annotated[list, operator.add]
    total: Annotated[int, operator.add]
    name: str
    obj: Annotated[list, BinaryOperatorAggregate(list, operator.add)]

def a(s):
    return {"items": ["a"], "obj": ["a"]}
def b(s):
    return {"items": Overwrite(["b"]), "total": Overwrite(10), "obj": Overwrite(["b"])}
def c(s):
    return {"items": {"__overwrite__": ["c"]}, "name": "x",
            "obj": {"type": "__overwrite__", "value": ["c"]}}
g = StateGraph(S)
g.add_node("a", a); g.add_node("b", b); g.add_node("c", c)
g.add_edge(START, "a"); g.add_edge("a", "b"); g.add_edge("b", "c")
app = g.compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "1"}}
for chunk in app.stream({"items": ["start"], "total": 1}, cfg, stream_mode=["updates", "values"]):
    print(chunk)
app.update_state(cfg, {"items": Overwrite(["u"]), "obj": Overwrite([])})
print(app.get_state(cfg).values)

def d(s): return {"items": Overwrite(["d"])}
def e(s): return {"items": Overwrite(["e"])}
def f(s): return {"items": ["f"]}
for second in (e, f):
    g2 = StateGraph(S)
    g2.add_node("d", d); g2.add_node("z", second)
    g2.add_edge(START, "d"); g2.add_edge(START, "z")
    try:
        print(g2.compile().invoke({"items": ["x"]}))
    except InvalidUpdateError as ex:
        print(type(ex).__name__)

class T(TypedDict):
    total: Annotated[int, operator.add]
g4 = StateGraph(T); g4.add_node("h", lambda s: {"total": Overwrite(5)}); g4.add_edge(START, "h")
print(g4.compile().invoke({}))
print(Overwrite(3))
"""


def test_overwrite_side_by_side() -> None:
    require_langgraph("langgraph.channels")
    theirs, ours = on_both(textwrap.dedent(_SCRIPT))
    assert ours == theirs


class State(TypedDict):
    items: Annotated[list[str], operator.add]


def test_an_overwrite_saved_before_a_pause_is_applied_on_resume(tmp_path: Path) -> None:
    def replace(state: State) -> dict[str, Any]:
        return {"items": Overwrite(["replaced"])}

    def ask(state: State) -> dict[str, Any]:
        return {"items": [interrupt("more?")]}

    builder = StateGraph(State)
    builder.add_node("replace", replace)
    builder.add_node("ask", ask)
    builder.add_edge(START, "replace")
    builder.add_edge(START, "ask")
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(tmp_path / "cp.db")) as saver:
        builder.compile(checkpointer=saver).invoke({"items": ["start"]}, config)
    with SqliteSaver.from_conn_string(str(tmp_path / "cp.db")) as saver:
        graph = builder.compile(checkpointer=saver)
        out = graph.invoke(Command(resume="answer"), config)
    # ('ask' is applied first, in path order: the Overwrite replaces its write too)
    assert out == {"items": ["replaced"]}


def test_a_channel_object_takes_one_overwrite_per_step() -> None:
    chan = BinaryOperatorAggregate(list, operator.add)
    chan.key = "items"
    assert chan.update([["a"], Overwrite(["b"]), ["c"]]) and chan.get() == ["b"]
    with pytest.raises(InvalidUpdateError, match="'items' got two Overwrite writes"):
        chan.update([Overwrite(["x"]), {"__overwrite__": ["y"]}])
