"""Checks of the review event outbox (hitlgraph.review.ReviewOutbox): which writes append
which events, their numbering, and list_review_events()'s and prune_review_events()'s
arguments. A saver without the capability passes them trivially."""

from __future__ import annotations

from typing import Any

from hitlgraph._policy import Expire, policy_of
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.conformance._decisions import _answer
from hitlgraph.checkpoint.conformance._helpers import (
    Backend,
    _eq,
    _id,
    _ok,
    _raises,
    aanswered,
)
from hitlgraph.checkpoint.conformance._pending import _ask, _put
from hitlgraph.errors import CheckpointConflictError
from hitlgraph.review import ReviewEvent, ReviewOutbox
from hitlgraph.types import Interrupt

__all__ = ["check_async_review_events", "check_review_events_appended_with_their_writes",
           "check_review_events_numbered_and_pruned"]


def _events(saver: BaseCheckpointSaver, after: int = 0, limit: int = 100
            ) -> list[ReviewEvent]:
    assert isinstance(saver, ReviewOutbox)
    return saver.list_review_events(after, limit)


def _kinds(saver: BaseCheckpointSaver) -> list[tuple[str, str, Any]]:
    return [(e.kind, e.interrupt_id, e.data.get("outcome")) for e in _events(saver)]


def check_review_events_appended_with_their_writes(saver: BaseCheckpointSaver,
                                                   backend: Backend) -> None:
    """An interrupt opened appends "interrupt.created" (node, value, policy; graph id from
    the checkpoint); a task asking the same again appends nothing; a decision appends
    "interrupt.decided" with its outcome and who; a refused claim, other writes and a loop
    checkpoint append nothing; an update_state over an open one appends its "resolved"."""
    if not isinstance(saver, ReviewOutbox):
        return
    at = _put(saver, "t", graph_id="support")
    saver.put_writes(at, [("x", 2)], "other", "other")
    _eq(_events(saver), [], "no event before an interrupt")
    policy = policy_of(expires_in=60, on_expire=Expire.answer({"ok": False}), assignee="bob")
    saver.put_writes(at, [("__interrupt__", [Interrupt({"q": "ok?"}, id="i1", policy=policy)])],
                     "task", "review")
    [created] = _events(saver)
    _eq((created.kind, created.thread_id, created.checkpoint_ns, created.interrupt_id,
         created.graph_id, created.data["node"], created.data["value"]),
        ("interrupt.created", "t", "", "i1", "support", "review", {"q": "ok?"}), "created")
    _eq((created.data["policy"]["assignee"], created.data["policy"]["on_expire"]["value"]),
        ("bob", {"ok": False}), "the policy as JSON data")
    _ok(created.at.endswith("+00:00"), f"at in UTC: {created.at!r}")
    saver.put_writes(at, [("__interrupt__", [Interrupt({"q": "ok?"}, id="i1")])],
                     "task", "review")
    _eq(len(_events(saver)), 1, "the same task asking again appends nothing")
    _answer(saver, at, "task", "review", {"i1": "yes"}, "alice", "fine")
    decided = _events(saver)[-1]
    _eq((decided.kind, decided.interrupt_id, decided.graph_id, decided.data["outcome"],
         decided.data["by"], decided.data["reason"], decided.data["decision_seq"]),
        ("interrupt.decided", "i1", "support", "answered", "alice", "fine", 1), "decided")
    with _raises(CheckpointConflictError, "a second claim"):
        _answer(saver, at, "task", "review", {"i1": "again"}, "mallory")
    second = _put(saver, "t", _id(at))
    _eq(len(_events(saver)), 2, "a refused claim and a loop checkpoint append nothing")
    _ask(saver, second, "task2", "review", ("i2", 2))
    _put(saver, "t", _id(second), cas=False, source="update")
    _eq(_kinds(saver)[2:], [("interrupt.created", "i2", None),
                            ("interrupt.decided", "i2", "resolved")], "resolved by update")


def check_review_events_numbered_and_pruned(saver: BaseCheckpointSaver,
                                            backend: Backend) -> None:
    """Events are numbered 1, 2, ... across threads, oldest first; `after` and `limit`
    page them; pruning deletes those below a seq and numbering goes on after the last;
    a negative `after`, a `limit` below 1 or a bad `before_seq` is a ValueError."""
    if not isinstance(saver, ReviewOutbox):
        return
    for i in range(4):
        _ask(saver, _put(saver, f"t{i}"), "task", "n", (f"i{i}", i))
    _eq([e.seq for e in _events(saver)], [1, 2, 3, 4], "numbered in order")
    _eq([e.interrupt_id for e in _events(saver, after=1, limit=2)], ["i1", "i2"], "a page")
    _eq(saver.prune_review_events(3), 2, "two pruned")
    _eq([e.seq for e in _events(saver)], [3, 4], "the rest kept")
    _eq(saver.prune_review_events(10), 2, "all pruned")
    _ask(saver, _put(saver, "t9"), "task", "n", ("i9", 9))
    _eq([e.seq for e in _events(saver)], [5], "numbers are never reused")
    for bad in ({"after": -1}, {"limit": 0}, {"after": "1"}):
        with _raises(ValueError, f"list_review_events(**{bad})"):
            saver.list_review_events(**bad)
    with _raises(ValueError, "prune_review_events(-1)"):
        saver.prune_review_events(-1)


async def check_async_review_events(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """alist_review_events() and aprune_review_events() as their sync twins."""
    if not isinstance(saver, ReviewOutbox):
        return
    await aanswered(saver, 3)
    got = await saver.alist_review_events(after=2, limit=3)
    _eq([(e.seq, e.kind, e.interrupt_id) for e in got],
        [(3, "interrupt.created", "i1"), (4, "interrupt.decided", "i1"),
         (5, "interrupt.created", "i2")], "a page")
    _eq(await saver.aprune_review_events(6), 5, "pruned")
    _eq([e.seq for e in await saver.alist_review_events()], [6], "the rest")
