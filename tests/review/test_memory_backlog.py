"""InMemorySaver's backlog of review facts (checkpoint/_memory_review.py): a stored write's
index entry, decision rows and events wait until something reads them. What a reader sees
must be what it would have seen had each been carried out at once: the same records in the
same order whenever it reads, a bounded backlog, and an expiry-closed interrupt refused at
the write, not later."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, TypedDict

import pytest
from _expire_graphs import build

from hitlgraph.checkpoint._memory_review import BACKLOG_MAX
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.review import InterruptExpiredError, apply_expired
from hitlgraph.types import Command, interrupt


class State(TypedDict, total=False):
    a: Any


def _graph(saver: InMemorySaver) -> Any:
    def ask(state: State) -> dict[str, Any]:
        return {"a": interrupt("a?")}

    builder = StateGraph(State)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    return builder.compile(checkpointer=saver)


def _trips(saver: InMemorySaver, count: int, read_each: bool) -> list[Any]:
    """`count` interrupt round trips on threads t0.., with the index read after each step
    (read_each) or never; what a reader sees at the end, times left out (they differ)."""
    app = _graph(saver)
    for n in range(count):
        config = {"configurable": {"thread_id": f"t{n}"}}
        app.invoke({}, config)
        if read_each:
            assert [p.thread_id for p in saver.list_pending(thread_id=f"t{n}")] == [f"t{n}"]
        app.invoke(Command(resume=n, by="alice"), config)
        if read_each:
            assert list(saver.list_pending(thread_id=f"t{n}")) == []
    asked: dict[str, int] = {}  # interrupt ids (made from times) by first appearance
    events = [(e.seq, e.kind, e.thread_id, asked.setdefault(e.interrupt_id, len(asked)),
               e.data) for e in saver.list_review_events(limit=1000)]
    decisions = [(d.seq, d.thread_id, asked[d.interrupt_id], d.answer, d.by)
                 for d in saver.list_decisions(limit=1000)]
    return [events, decisions, saver.verify_decisions()]


def test_a_late_reader_sees_what_an_eager_one_saw() -> None:
    late, eager = InMemorySaver(), InMemorySaver()
    assert _trips(late, 5, read_each=False) == _trips(eager, 5, read_each=True)
    assert not late._backlog


def test_the_backlog_stays_bounded_without_readers() -> None:
    saver = InMemorySaver()
    app = _graph(saver)
    for n in range(BACKLOG_MAX // 2 + 10):  # (at least two facts a round trip)
        config = {"configurable": {"thread_id": f"t{n}"}}
        app.invoke({}, config)
        app.invoke(Command(resume=n), config)
        assert len(saver._backlog) < BACKLOG_MAX
    assert len(list(saver.list_decisions(limit=10_000))) == BACKLOG_MAX // 2 + 10


def test_an_open_question_waits_in_the_backlog_until_read() -> None:
    saver = InMemorySaver()
    _graph(saver).invoke({}, {"configurable": {"thread_id": "t"}})
    assert saver._backlog  # nothing read yet
    [pending] = saver.list_pending()
    assert (pending.thread_id, pending.node, pending.value) == ("t", "ask", "a?")
    assert not saver._backlog


def test_an_expired_question_is_refused_while_other_facts_wait() -> None:
    saver = InMemorySaver()
    app = build("cancel").compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    app.invoke({}, config)
    [done] = apply_expired(None, saver, now=datetime.now(timezone.utc) + timedelta(days=1))
    assert done.result == "cancelled"
    _graph(saver).invoke({}, {"configurable": {"thread_id": "other"}})
    assert saver._backlog  # another thread's question waits
    with pytest.raises(InterruptExpiredError, match="expired and its policy closed it"):
        app.invoke(Command(resume={"approved": True}, by="alice"), config)
