"""DeltaChannel (a reducer key whose reducer takes a step's writes as one batch) side by side
with LangGraph (tests/_side_by_side.py): fan-out writes, a pause and resume, an Overwrite,
update_state and history. Both store the writes since a snapshot, but LangGraph replays
them in one reducer call where hitlgraph makes one per stored update, so the reducer's call
count is not compared (test_delta_channel_storage.py checks the storage)."""

from __future__ import annotations

import pytest

from _side_by_side import on_both, require_langgraph
from hitlgraph.channels import DeltaChannel

_SCRIPT = """import operator
from typing import Annotated
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.channels import DeltaChannel
from langgraph.channels.binop import Overwrite
from langgraph.types import Send, interrupt, Command
from langgraph.errors import InvalidUpdateError

def merge(old, new):
    return old + [x for batch in new for x in batch]

class S(TypedDict, total=False):
    n: int
    ev: Annotated[list[str], DeltaChannel(merge)]

def a(s):
    print("a sees", sorted(s.items()))
    return {"ev": ["a1", "a2"]}
def fan(s):
    return [Send("w", i) for i in range(3)]
def w(i):
    return {"ev": [f"w{i}"]}
def ask(s):
    v = interrupt("ok?")
    return {"ev": [v], "n": len(s["ev"])}
def reset(s):
    return {"ev": Overwrite(["reset"])}
g = StateGraph(S)
g.add_node("a", a); g.add_node("w", w); g.add_node("ask", ask); g.add_node("reset", reset)
g.add_edge(START, "a"); g.add_conditional_edges("a", fan, ["w"]); g.add_edge("w", "ask")
g.add_edge("ask", "reset")
app = g.compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "1"}}
for c in app.stream({"n": 0}, cfg, stream_mode="values"):
    print({k: v for k, v in c.items() if k != "__interrupt__"})
print(app.get_state(cfg).values, app.get_state(cfg).next)
for c in app.stream(Command(resume="yes"), cfg, stream_mode="updates"):
    print(c)
print(app.get_state(cfg).values)
app.update_state(cfg, {"ev": ["u"]})
print(app.get_state(cfg).values)
print([s.values for s in app.get_state_history(cfg)])
def two(s):
    return {"ev": Overwrite(["x"])}
g2 = StateGraph(S)
g2.add_node("b", two); g2.add_node("c", two)
g2.add_edge(START, "b"); g2.add_edge(START, "c")
try:
    g2.compile().invoke({"n": 1})
except InvalidUpdateError as e:
    print("InvalidUpdateError")
try:
    DeltaChannel(merge, snapshot_frequency=0)
except ValueError:
    print("ValueError")
"""


def test_delta_channel_side_by_side() -> None:
    require_langgraph("langgraph.channels")
    theirs, ours = on_both(_SCRIPT)
    assert ours == theirs


def test_delta_channel_refuses_a_snapshot_frequency_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="snapshot_frequency must be a positive int, got 0"):
        DeltaChannel(lambda old, new: old, snapshot_frequency=0)


_IN_PLACE = """from typing import Annotated
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.channels import DeltaChannel
from langgraph.checkpoint.memory import InMemorySaver

def extend(old, writes):
    for w in writes:
        old.extend(w)
    return old

class S(TypedDict, total=False):
    n: int
    ev: Annotated[list, DeltaChannel(extend, snapshot_frequency=4)]

def step(s):
    n = s.get("n", 0)
    return {"n": n + 1, "ev": [f"i{n}"]}

g = StateGraph(S)
g.add_node("step", step)
g.add_edge(START, "step")
g.add_conditional_edges("step", lambda s: END if s["n"] >= 10 else "step")
app = g.compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "t"}}
print(app.invoke({"n": 0}, cfg)["ev"])
for c in app.stream({"n": 7}, {"configurable": {"thread_id": "u"}}, stream_mode="values"):
    print(c.get("ev"))
"""


def test_a_reducer_that_extends_in_place_side_by_side() -> None:
    """The channel's copies hold copies of the value, as LangGraph's, so a reducer that adds
    to the list it is given does not add twice. Only what a run returns and streams is
    compared: LangGraph's stored state of such a key varies from run to run (its checkpoints
    are serialized in the background, after the reducer may have changed the value);
    test_delta_channel_storage.py checks hitlgraph's."""
    require_langgraph("langgraph.channels")
    theirs, ours = on_both(_IN_PLACE)
    assert ours == theirs
    assert "'i9']" in theirs
