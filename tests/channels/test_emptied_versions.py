"""A Command's update or update_state that empties a channel moves that channel's version on,
as in LangGraph; before, a resume's update that emptied a Topic kept its old version, so the
saver kept (and showed again) the old value. Side by side (tests/_side_by_side.py)."""

from __future__ import annotations

from _side_by_side import on_both, require_langgraph

_SCRIPT = """from typing import Annotated
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.channels import Topic
from langgraph.types import Command, interrupt

class S(TypedDict, total=False):
    n: int
    t: Annotated[list, Topic(str)]

def first(s):
    return {"t": "a", "n": 1}
def ask(s):
    print("ask sees", sorted(s.items()))
    interrupt("go?")
    return {"n": 2}
g = StateGraph(S)
g.add_node("first", first); g.add_node("ask", ask)
g.add_edge(START, "first"); g.add_edge("first", "ask")
app = g.compile(checkpointer=InMemorySaver())

def changed(cfg):
    hist = list(app.get_state_history(cfg))
    for new, old in zip(hist, hist[1:]):
        nv, ov = new.config, old.config
        a = app.checkpointer.get_tuple(nv).checkpoint["channel_versions"]
        b = app.checkpointer.get_tuple(ov).checkpoint["channel_versions"]
        moved = sorted(k for k in a if a.get(k) != b.get(k) and not k.startswith("branch:"))
        print(new.metadata["source"], new.metadata["step"], moved)
    print(sorted(app.get_state(cfg).values.items()))

cfg = {"configurable": {"thread_id": "1"}}
app.invoke({"n": 0}, cfg)
print(app.invoke(Command(resume=1, update={"t": []}), cfg))
changed(cfg)
cfg = {"configurable": {"thread_id": "2"}}
app.invoke({"n": 0}, cfg)
app.update_state(cfg, {"t": []})
changed(cfg)
"""


def test_an_update_that_empties_a_channel_moves_its_version_side_by_side() -> None:
    require_langgraph("langgraph.channels")
    theirs, ours = on_both(_SCRIPT)
    assert ours == theirs
