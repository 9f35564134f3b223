"""Checks of the review policies the index of open interrupts stores (hitlgraph.review):
the policy fields of list_pending()'s records, and its assignment and deadline filters and
orders. A saver without the capability (not a `review.PendingIndex`) passes them trivially."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hitlgraph._policy import Expire, ReviewPolicy, policy_of
from hitlgraph.checkpoint.base import BaseCheckpointSaver, RunnableConfig
from hitlgraph.checkpoint.conformance._helpers import Backend, _eq, _raises
from hitlgraph.checkpoint.conformance._pending import _open, _put
from hitlgraph.review import PendingIndex
from hitlgraph.types import Interrupt

__all__ = ["check_pending_policy_fields", "check_pending_policy_filters_and_orders"]


def _ask_with(saver: BaseCheckpointSaver, at: RunnableConfig, task: str, iid: str,
              policy: ReviewPolicy | None) -> None:
    saver.put_writes(at, [("__interrupt__", [Interrupt({"q": iid}, id=iid, policy=policy)])],
                     task, "review")


def _later(at: str, seconds: float) -> str:
    return (datetime.fromisoformat(at) + timedelta(seconds=seconds)).isoformat(
        timespec="microseconds")


def check_pending_policy_fields(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """An interrupt asked with a policy is listed with it (its default answer exactly, even
    one JSON cannot hold), its deadline and warning time counted from created_at, its
    assignee, group and approvals; one asked without has none of them."""
    if not isinstance(saver, PendingIndex):
        return
    policy = policy_of(expires_in=timedelta(minutes=5), warn_before=60,
                       on_expire=Expire.answer({"approved": False, "tags": {"late"}}),
                       assignee="bob", group="support", approvals=2, approvers="leads")
    at = _put(saver, "t")
    _ask_with(saver, at, "task", "i1", policy)
    _ask_with(saver, at, "task2", "i2", None)
    found = {p.interrupt_id: p for p in _open(saver)}
    one, two = found["i1"], found["i2"]
    _eq(one.policy, policy, "the policy, default answer included")
    _eq((one.expires_at, one.warn_at), (_later(one.created_at, 300), _later(one.created_at, 240)),
        "the deadline and the warning's time")
    _eq((one.assignee, one.group, one.approvals), ("bob", "support", 2), "who answers")
    _eq((two.policy, two.expires_at, two.warn_at, two.assignee, two.group, two.approvals),
        (None, None, None, None, None, 1), "no policy")


def _ids(saver: BaseCheckpointSaver, **query: Any) -> list[str]:
    return [p.interrupt_id for p in _open(saver, **query)]


def check_pending_policy_filters_and_orders(saver: BaseCheckpointSaver,
                                            backend: Backend) -> None:
    """assignee, group, unassigned (alone: no one holds it; with assignee: theirs and no
    one's) and expired_before filter; order="deadline" lists the nearest deadline first and
    those without one last, page by page with its cursors; a cursor of the other order, an
    unknown order or a naive time is a ValueError."""
    if not isinstance(saver, PendingIndex):
        return
    asked = [("a", policy_of(expires_in=300, assignee="alice", group="ops")),
             ("b", policy_of(expires_in=100, group="ops")),
             ("c", None),
             ("d", policy_of(expires_in=200, assignee="bob")),
             ("e", policy_of(assignee="alice"))]
    for i, (iid, policy) in enumerate(asked):
        _ask_with(saver, _put(saver, f"t{i}"), "task", iid, policy)
    _eq(_ids(saver), ["e", "d", "c", "b", "a"], "newest first")
    _eq(_ids(saver, assignee="alice"), ["e", "a"], "assignee")
    _eq(_ids(saver, unassigned=True), ["c", "b"], "unassigned")
    _eq(_ids(saver, assignee="alice", unassigned=True), ["e", "c", "b", "a"],
        "assignee and unassigned: theirs and no one's")
    _eq(_ids(saver, group="ops"), ["b", "a"], "group")
    _eq(_ids(saver, group="ops", assignee="alice"), ["a"], "group and assignee")
    _eq(_ids(saver, order="deadline"), ["b", "d", "a", "c", "e"], "deadline order")
    first = _open(saver, order="deadline", limit=2)
    _eq([p.interrupt_id for p in _open(saver, order="deadline", limit=2,
                                       after=first[-1].cursor)], ["a", "c"], "next page")
    deadline_of = {p.interrupt_id: p.expires_at for p in _open(saver)}
    cutoff = deadline_of["d"]
    assert cutoff is not None
    _eq(_ids(saver, expired_before=cutoff, order="deadline"), ["b", "d"], "expired_before")
    _eq(_ids(saver, expired_before=datetime.fromisoformat(cutoff) - timedelta(days=1)), [],
        "expired_before, a datetime")
    newest = _open(saver, limit=1)[0]
    with _raises(ValueError, "a created cursor in deadline order"):
        _open(saver, order="deadline", after=newest.cursor)
    with _raises(ValueError, "a deadline cursor in created order"):
        _open(saver, after=first[-1].cursor)
    with _raises(ValueError, "an unknown order"):
        _open(saver, order="soonest")
    with _raises(ValueError, "a naive expired_before"):
        _open(saver, expired_before=datetime(2026, 1, 1))
