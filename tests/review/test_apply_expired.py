"""apply_expired(): each due policy carried out once, over every saver: a default answer
resumes the thread (its node runs, logged by "policy"), a cancel closes the interrupt
unanswered (later answers refused), an escalation reassigns it with a new deadline, and a
warning is sent once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from _expire_graphs import build

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.review import Expire, InterruptExpiredError, aapply_expired, apply_expired
from hitlgraph.types import Command

LATER = datetime.now(timezone.utc) + timedelta(days=1)
"""A `now` after every deadline these tests set (an hour from when they ask)."""


def _paused(saver: BaseCheckpointSaver, rule: str, thread: str = "t", **more: Any) -> Any:
    app = build(rule, **more).compile(checkpointer=saver)
    app.invoke({}, {"configurable": {"thread_id": thread}})
    return app


def test_nothing_is_due_before_the_deadline(saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "cancel")
    assert apply_expired(app) == []
    assert [p.thread_id for p in saver.list_pending()] == ["t"]  # type: ignore[attr-defined]


def test_a_default_answer_resumes_the_thread_through_its_node(
        saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "answer")
    [done] = apply_expired(app, now=LATER)
    assert (done.thread_id, done.result) == ("t", "answered")
    state = app.get_state({"configurable": {"thread_id": "t"}})
    assert state.values["done"] == "finished with {'approved': False}"
    [decision] = saver.list_decisions(thread_id="t")  # type: ignore[attr-defined]
    assert (decision.outcome, decision.by, decision.reason, decision.answer) == (
        "answered", "policy", "expired: default answer", {"approved": False})
    kinds = [e.kind for e in saver.list_review_events()]  # type: ignore[attr-defined]
    assert kinds == ["interrupt.created", "interrupt.expired"]
    assert apply_expired(app, now=LATER) == []


def test_a_cancel_closes_the_interrupt_and_refuses_later_answers(
        saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "cancel")
    [done] = apply_expired(app, now=LATER)
    assert done.result == "cancelled" and done.decision is not None
    assert (done.decision.outcome, done.decision.by) == ("expired", "policy")
    assert list(saver.list_pending()) == []  # type: ignore[attr-defined]
    config = {"configurable": {"thread_id": "t"}}
    state = app.get_state(config)
    assert "done" not in state.values and state.next == ()  # the run ended, values kept
    assert state.metadata["source"] == "update"
    assert (state.metadata["expired_interrupt"], state.metadata["expired_reason"]) == (
        done.interrupt_id, "expired: cancelled")
    assert [d.outcome for d in saver.list_decisions(thread_id="t")] == ["expired"]  # type: ignore[attr-defined]
    assert apply_expired(app, now=LATER) == []


def test_a_cancel_says_its_reason_in_the_state_and_the_log(saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "cancel_why")
    [done] = asyncio.run(aapply_expired(app, now=LATER))
    state = app.get_state({"configurable": {"thread_id": "t"}})
    assert state.metadata["expired_reason"] == "expired: no reply from the customer"
    assert state.next == () and state.interrupts == ()
    assert done.decision is not None
    assert done.decision.reason == "expired: no reply from the customer"


def test_a_cancel_without_a_graph_closes_the_interrupt_and_refuses_answers(
        saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "cancel")
    [done] = apply_expired(None, saver, now=LATER)
    assert done.result == "cancelled" and done.detail is None
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(InterruptExpiredError, match="expired and its policy closed it"):
        app.invoke(Command(resume={"approved": True}, by="alice"), config)
    assert app.get_state(config).next == ("ask",)  # nothing could end the run


def test_a_cancel_reason_must_be_text() -> None:
    with pytest.raises(ValueError, match=r"Expire.cancel\(reason=''\) needs a non-empty"):
        Expire.cancel("")


def test_an_escalation_reassigns_with_a_new_deadline(saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "escalate", assignee="bob")
    [asked] = saver.list_pending()  # type: ignore[attr-defined]
    due = datetime.fromisoformat(asked.expires_at) + timedelta(seconds=1)
    [done] = apply_expired(app, now=due)
    assert (done.result, done.detail) == ("escalated", "lead")
    [item] = saver.list_pending()  # type: ignore[attr-defined]
    assert item.assignee == "lead" and item.expires_at is not None
    assert datetime.fromisoformat(item.expires_at) > datetime.now(timezone.utc) + timedelta(
        minutes=119)
    assert done.decision is not None and done.decision.answer == {"from": "bob", "to": "lead"}
    assert apply_expired(app, now=due) == []  # its new deadline is two hours from now
    events = saver.list_review_events()  # type: ignore[attr-defined]
    assert [e.kind for e in events] == ["interrupt.created", "interrupt.expired"]
    assert events[1].data["reason"] == "expired: escalated to lead"


def test_a_warning_is_sent_once_before_the_deadline(saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "cancel", warn_before=timedelta(minutes=10))
    [item] = saver.list_pending()  # type: ignore[attr-defined]
    assert item.warn_at is not None
    warn_time = datetime.fromisoformat(item.warn_at) + timedelta(seconds=1)
    assert [d.result for d in apply_expired(app, now=warn_time)] == ["warned"]
    assert apply_expired(app, now=warn_time) == []
    [_, warning] = saver.list_review_events()  # type: ignore[attr-defined]
    assert (warning.kind, warning.data["expires_at"]) == ("interrupt.warning", item.expires_at)


def test_a_default_answer_the_schema_refuses_is_reported_and_stays_open(
        saver: BaseCheckpointSaver) -> None:
    schema = {"type": "object", "properties": {"approved": {"type": "string"}},
              "required": ["approved"]}
    app = _paused(saver, "answer", response_schema=schema)
    [done] = apply_expired(app, now=LATER)
    assert done.result == "failed" and "refused" in (done.detail or "")
    assert [p.thread_id for p in saver.list_pending()] == ["t"]  # type: ignore[attr-defined]


def test_aapply_expired_does_what_apply_expired_does(saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "answer")
    _paused(saver, "cancel", thread="u")
    done = asyncio.run(aapply_expired(app, now=LATER))
    assert sorted((d.thread_id, d.result) for d in done) == [("t", "answered"),
                                                             ("u", "cancelled")]


def test_bad_arguments_are_refused(saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "cancel")
    with pytest.raises(ValueError, match="limit=0"):
        apply_expired(app, limit=0)
    with pytest.raises(ValueError, match="no time zone"):
        apply_expired(app, now=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="index of open interrupts"):
        apply_expired(build("cancel").compile())


def test_a_default_answer_decides_a_k_of_n_interrupt_alone(saver: BaseCheckpointSaver) -> None:
    app = _paused(saver, "answer", approvals=3, approvers=["ann", "ben", "cat"])
    config = {"configurable": {"thread_id": "t"}}
    app.invoke(Command(resume={"approved": True}, by="ann"), config)
    assert app.get_state(config).next == ("ask",)  # one of three: still waiting
    [done] = apply_expired(app, now=LATER)
    assert done.result == "answered"
    decisions = app.get_state(config).values["answer"]
    assert [(d.by, d.answer) for d in decisions] == [
        ("ann", {"approved": True}), ("policy", {"approved": False})]
