"""A paused thread whose stored `__interrupt__` or `__resume__` write has another shape than the
engine's (savers store what they are given: a hand edit, another program's put_writes, a
damaged approval tally) is refused with a CorruptCheckpointError naming the thread and the
checkpoint, by invoke(None) and by a resume: never a KeyError, TypeError or AttributeError
from inside a step (issue 17)."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.serde import CorruptCheckpointError
from hitlgraph.constants import INTERRUPT, RESUME
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, Interrupt, interrupt


class State(TypedDict, total=False):
    answer: Any


def _paused(thread: str) -> tuple[Any, InMemorySaver, dict[str, Any], str]:
    """A graph paused at an interrupt asking for two approvals: (graph, saver, the paused
    checkpoint's config, the paused task's id)."""
    saver = InMemorySaver()
    builder = StateGraph(State).add_node(
        "ask", lambda s: {"answer": interrupt("ok?", approvals=2)})
    builder.add_edge(START, "ask")
    app = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread}}
    app.invoke({}, config)
    state = app.get_state(config)
    return app, saver, state.config, state.tasks[0].id


MALFORMED = {
    "interrupt not a list": (INTERRUPT, "ok?"),
    "interrupt items not Interrupts": (INTERRUPT, [1, 2]),
    "interrupt without an id": (INTERRUPT, [Interrupt(value="ok?", id="")]),
    "resume log a map": (RESUME, {"some-id": "yes"}),
    "resume entry wrong arity": (RESUME, [["some-id", "yes"]]),
    "resume entry id not text": (RESUME, [[7, "yes", True]]),
    "resume entry in force not a bool": (RESUME, [["some-id", "yes", "true"]]),
    "approval without its principal": (RESUME, [["approval:some-id", "yes", False]]),
}


@pytest.mark.parametrize("name", MALFORMED)
@pytest.mark.parametrize("how", ["invoke(None)", "resume", "ainvoke(None)"])
def test_a_malformed_pause_is_refused_naming_thread_and_checkpoint(name: str, how: str
                                                                   ) -> None:
    app, saver, at, task_id = _paused("t-damaged")
    channel, value = MALFORMED[name]
    saver.put_writes(at, [(channel, value)], task_id)
    config = {"configurable": {"thread_id": "t-damaged"}}
    with pytest.raises(CorruptCheckpointError) as refused:
        if how == "invoke(None)":
            app.invoke(None, config)
        elif how == "resume":
            app.invoke(Command(resume="yes", by="alice"), config)
        else:
            asyncio.run(app.ainvoke(None, config))
    error = refused.value
    checkpoint_id = at["configurable"]["checkpoint_id"]
    assert (error.thread_id, error.checkpoint_id) == ("t-damaged", checkpoint_id)
    assert "'t-damaged'" in str(error) and repr(checkpoint_id) in str(error)
    assert isinstance(error.__cause__, TypeError)


def test_a_well_formed_pause_still_resumes() -> None:
    app, _, _, _ = _paused("t-fine")
    config = {"configurable": {"thread_id": "t-fine"}}
    app.invoke(Command(resume="yes", by="alice"), config)
    out = app.invoke(Command(resume="yes", by="bob"), config)
    assert [d.by for d in out["answer"]] == ["alice", "bob"]
