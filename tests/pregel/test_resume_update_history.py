"""A resume's Command(update=...) is saved on the checkpoint it resumes (under NULL_TASK_ID, as
LangGraph saves it), so it is part of that checkpoint's state: a node that pauses again after
the resume, or fails, keeps the update for the run that continues it (it was lost), and
history shows it where LangGraph does. Side by side with LangGraph, and on each saver."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from _run_modes import Runner
from _saver_params import SYNC_SAVERS, open_saver
from _side_by_side import on_both, require_langgraph
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.constants import NULL_TASK_ID
from hitlgraph.errors import InvalidUpdateError
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.pregel.compiled import CompiledStateGraph
from hitlgraph.types import Command, interrupt

_GRAPHS = """
import asyncio
import operator
from typing import Annotated
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt, Command

class S(TypedDict):
    log: Annotated[list, operator.add]
    note: str

failing = [True]

def a(s):
    return {"log": ["a"]}

def ask(s):
    one = interrupt("q1")
    two = interrupt("q2")
    if two == "boom" and failing:
        failing.pop()
        raise RuntimeError("boom")
    return {"log": [f"ask:{one}:{two}:{s['note']}"]}

def ask_once(s):
    return {"log": [f"ask:{interrupt('q')}:{s['note']}"]}

def b(s):
    return {"log": ["b"]}

def c(s):
    return {"log": ["c"]}

def graph(asker):
    builder = StateGraph(S)
    builder.add_node("a", a)
    builder.add_node("ask", asker, destinations=("b", "c"))
    builder.add_node("b", b)
    builder.add_node("c", c)
    builder.add_edge(START, "a")
    builder.add_edge("a", "ask")
    builder.add_edge("ask", "b")
    builder.add_edge("b", END)
    builder.add_edge("c", END)
    return builder.compile(checkpointer=InMemorySaver())

def call(g, value, cfg, use_async):
    try:
        if use_async:
            out = asyncio.run(g.ainvoke(value, cfg))
        else:
            out = g.invoke(value, cfg)
    except RuntimeError as exc:
        print("raised", exc)
        return
    print({k: v for k, v in out.items() if k != "__interrupt__"},
          [i.value for i in out.get("__interrupt__", ())])

def scenarios(show):
    for use_async in (False, True):
        failing.append(True)
        g = graph(ask)
        cfg = {"configurable": {"thread_id": f"t{use_async}"}}
        call(g, {"log": [], "note": "n0"}, cfg, use_async)
        call(g, Command(resume="yes", update={"note": "n1", "log": ["u"]}), cfg, use_async)
        show(g, cfg)
        call(g, Command(resume="boom", update={"log": ["u2"]}), cfg, use_async)
        show(g, cfg)
        call(g, None, cfg, use_async)
        show(g, cfg)
        g = graph(ask_once)
        cfg = {"configurable": {"thread_id": f"goto{use_async}"}}
        call(g, {"log": [], "note": "n0"}, cfg, use_async)
        call(g, Command(resume="ok", update={"note": "x"}, goto="c"), cfg, use_async)
        show(g, cfg)
"""

_OUTCOMES = _GRAPHS + """
scenarios(lambda g, cfg: None)

# update_state on the paused checkpoint starts from its stored values: LangGraph leaves the
# resume's update (and answer) behind there, and so does hitlgraph
g = graph(ask)
cfg = {"configurable": {"thread_id": "edited"}}
call(g, {"log": [], "note": "n0"}, cfg, False)
call(g, Command(resume="yes", update={"note": "n1", "log": ["u"]}), cfg, False)
g.update_state(cfg, {"log": ["edit"]})
print(g.get_state(cfg).values)
call(g, Command(resume="no"), cfg, False)
"""

_HISTORY = _GRAPHS + """
def show(g, cfg):
    now = g.get_state(cfg)
    print("state", now.values, now.next, now.metadata["step"])
    hist = list(g.get_state_history(cfg))
    ids = {h.config["configurable"]["checkpoint_id"]: i for i, h in enumerate(hist)}
    for i, h in enumerate(hist):
        parent = h.parent_config and ids.get(h.parent_config["configurable"]["checkpoint_id"])
        print(" ", i, h.values, h.next, h.metadata["source"], h.metadata["step"], parent,
              [(t.name, [x.value for x in t.interrupts]) for t in h.tasks])

scenarios(show)
"""


def test_what_runs_see_after_a_resume_with_update_side_by_side() -> None:
    require_langgraph("langgraph.graph")
    theirs, ours = on_both(_OUTCOMES)
    assert "ask:yes:boom:n1" in ours
    assert ours == theirs


def test_history_shows_a_resume_update_on_the_resumed_checkpoint_side_by_side() -> None:
    require_langgraph("langgraph.graph")
    theirs, ours = on_both(_HISTORY)
    assert ours == theirs


class _S(TypedDict):
    log: Annotated[list[str], operator.add]
    note: str


def _asks_twice(state: _S) -> dict[str, Any]:
    one, two = interrupt("q1"), interrupt("q2")
    return {"log": [f"ask:{one}:{two}:{state['note']}"]}


def _graph(saver: BaseCheckpointSaver) -> CompiledStateGraph:
    builder = StateGraph(_S)
    builder.add_node("a", lambda s: {"log": ["a"]})
    builder.add_node("ask", _asks_twice)
    builder.add_edge(START, "a")
    builder.add_edge("a", "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


@pytest.fixture(params=SYNC_SAVERS)
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver]:
    with open_saver(request.param, tmp_path / "resume.db", "hg_resume_update") as found:
        yield found


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_a_resume_update_is_kept_when_the_node_pauses_again(
        saver: BaseCheckpointSaver, run: Runner, config: dict[str, Any], durability: str
) -> None:
    graph = _graph(saver)
    run.invoke(graph, {"log": [], "note": "n0"}, config, durability=durability)
    paused = saver.get_tuple(config)
    assert paused is not None
    run.invoke(graph, Command(resume="yes", update={"note": "n1", "log": ["u"]}), config,
               durability=durability)
    again = saver.get_tuple(config)
    assert again is not None and again.checkpoint["id"] == paused.checkpoint["id"]
    saved = [(chan, value) for tid, chan, value in again.pending_writes or ()
             if tid == NULL_TASK_ID]
    assert saved == [("note", "n1"), ("log", ["u"])]
    out = run.invoke(graph, Command(resume="no"), config, durability=durability)
    assert out == {"log": ["a", "u", "ask:yes:no:n1"], "note": "n1"}


def test_an_update_refused_claims_no_answer_and_two_updates_are_both_kept(
        saver: BaseCheckpointSaver, run: Runner, config: dict[str, Any]) -> None:
    graph = _graph(saver)
    run.invoke(graph, {"log": [], "note": "n0"}, config)
    with pytest.raises(InvalidUpdateError, match="'nope'"):
        run.invoke(graph, Command(resume="yes", update={"nope": 1}), config)
    run.invoke(graph, Command(resume="yes", update={"log": ["u1"]}), config)
    out = run.invoke(graph, Command(resume="no", update={"note": "n2", "log": ["u2"]}), config)
    assert out == {"log": ["a", "u1", "u2", "ask:yes:no:n2"], "note": "n2"}
