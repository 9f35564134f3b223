"""The index's approvals_given (issue 14): each answer to a k-of-n interrupt that does not
decide yet updates, in its own transaction, who the interrupt counts so far, which
list_pending() shows as PendingInterrupt.approvals_given. Over memory, a SQLite file and
PostgreSQL, with both drivers."""

from __future__ import annotations

from typing import Any, TypedDict

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import PendingInterrupt
from hitlgraph.types import Command, interrupt


class State(TypedDict, total=False):
    answer: Any


def _graph(saver: BaseCheckpointSaver) -> Any:
    builder = StateGraph(State)
    builder.add_node("ask", lambda s: {"answer": interrupt("ship?", approvals=3)})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


def _open(saver: BaseCheckpointSaver) -> list[PendingInterrupt]:
    return list(saver.list_pending(thread_id="t"))  # type: ignore[attr-defined]


def test_each_answer_adds_its_principal_until_the_interrupt_decides(
        saver: BaseCheckpointSaver, run: Any) -> None:
    app = _graph(saver)
    config = {"configurable": {"thread_id": "t"}}
    run.invoke(app, {}, config)
    [asked] = _open(saver)
    assert (asked.approvals, asked.approvals_given) == (3, ())
    run.invoke(app, Command(resume="yes", by="alice"), config)
    assert [p.approvals_given for p in _open(saver)] == [("alice",)]
    run.invoke(app, Command(resume="yes", by="bob"), config)
    assert [p.approvals_given for p in _open(saver)] == [("alice", "bob")]
    out = run.invoke(app, Command(resume="no", by="carol"), config)
    assert [d.by for d in out["answer"]] == ["alice", "bob", "carol"]
    assert _open(saver) == []
