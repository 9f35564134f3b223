"""Checks of the decision log (hitlgraph.review.DecisionLog): which writes log a decision and
with what, the hash chain, and list_decisions()'s query. A saver without the capability
passes them trivially."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hitlgraph.checkpoint.base import BaseCheckpointSaver, DecisionNote, RunnableConfig
from hitlgraph.checkpoint.conformance._helpers import (
    Backend,
    _eq,
    _id,
    _ok,
    _raises,
    aanswered,
    expecting,
)
from hitlgraph.checkpoint.conformance._pending import _ask, _put
from hitlgraph.errors import CheckpointConflictError
from hitlgraph.review import Decision, DecisionLog

__all__ = [
    "check_async_list_decisions",
    "check_decisions_chained_and_kept",
    "check_decisions_logged_with_their_writes",
    "check_decisions_query",
    "check_decisions_resolved_by_update",
]


def _log(saver: BaseCheckpointSaver, **query: Any) -> list[Decision]:
    assert isinstance(saver, DecisionLog)
    return list(saver.list_decisions(**query))


def _answer(saver: BaseCheckpointSaver, at: RunnableConfig, task: str, node: str,
            answers: dict[str, Any], by: str | None = None, reason: str | None = None,
            outcome: str = "answered") -> None:
    """Claim answers as the engine does (compare-and-set, a fresh slot), with a note."""
    note = DecisionNote(outcome, tuple(answers.items()), by, reason)  # type: ignore[arg-type]
    config = note.on({**at, "configurable": {**at["configurable"], **expecting(_id(at))}})
    saver.put_writes(config, [("__resume__", [[i, a, True] for i, a in answers.items()])],
                     task, node)


def check_decisions_logged_with_their_writes(saver: BaseCheckpointSaver,
                                             backend: Backend) -> None:
    """A claim carrying a DecisionNote logs a row per answer, with who and why and the
    asking node and namespace from the index; a claim refused (its slot taken, or its
    checkpoint no longer the latest) logs nothing, nor does a write without a note."""
    if not isinstance(saver, DecisionLog):
        return
    at = _put(saver, "t")
    _ask(saver, at, "task", "review", ("i1", "ok?"))
    saver.put_writes(at, [("x", 1)], "other", "other")
    _eq(_log(saver), [], "before any decision")
    _answer(saver, at, "task", "review", {"i1": {"ok": True, "n": [1, 2]}}, "alice", "fine")
    [found] = _log(saver)
    _eq((found.seq, found.thread_id, found.checkpoint_ns, found.interrupt_id, found.node,
         found.answer, found.by, found.reason, found.outcome),
        (1, "t", "", "i1", "review", {"ok": True, "n": [1, 2]}, "alice", "fine", "answered"),
        "the row")
    _ok(found.at[:4].isdigit() and found.at.endswith("+00:00"), f"at in UTC: {found.at!r}")
    _ok(len(found.hash) == 64, f"a sha256 hash: {found.hash!r}")
    with _raises(CheckpointConflictError, "a second claim of the same slot"):
        _answer(saver, at, "task", "review", {"i1": "again"}, "mallory")
    _put(saver, "t", _id(at))
    with _raises(CheckpointConflictError, "a claim on a checkpoint that is not the latest"):
        _answer(saver, at, "task2", "review", {"i9": "late"}, "mallory")
    _eq([d.seq for d in _log(saver)], [1], "refused claims log nothing")


def check_decisions_resolved_by_update(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """An update_state checkpoint (source "update") over open interrupts logs each as
    "resolved" (the subgraph's with its own namespace and node); answered ones, and
    checkpoints of other sources, log nothing."""
    if not isinstance(saver, DecisionLog):
        return
    first = _put(saver, "t")
    child = _put(saver, "t", ns="sub:1")
    _ask(saver, child, "inner-task", "inner", ("deep", 0))
    _ask(saver, first, "task", "review", ("a", 1), ("b", 2))
    _answer(saver, first, "task", "review", {"b": "yes"})
    _put(saver, "t", _id(first), cas=False, source="update")
    found = {d.interrupt_id: d for d in _log(saver) if d.outcome == "resolved"}
    _eq(sorted(found), ["a", "deep"], "the open ones, resolved")
    _eq((found["a"].node, found["a"].answer, found["a"].by, found["deep"].checkpoint_ns,
         found["deep"].node), ("review", None, None, "sub:1", "inner"), "their rows")
    second = _put(saver, "u")
    _ask(saver, second, "task", "review", ("c", 3))
    _put(saver, "u", _id(second))
    _eq([d.interrupt_id for d in _log(saver, thread_id="u")], [],
        "a loop checkpoint closes interrupts without a decision")


def check_decisions_chained_and_kept(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Rows are numbered 1, 2, ... across threads, each hash differs, verify_decisions()
    finds the log intact, and deleting a thread leaves its rows."""
    if not isinstance(saver, DecisionLog):
        return
    latest: dict[str, str | None] = {}
    for i, thread in enumerate(("t1", "t2", "t1")):
        at = _put(saver, thread, latest.get(thread))
        latest[thread] = _id(at)
        _ask(saver, at, "task", "n", (f"i{i}", 1))
        _answer(saver, at, "task", "n", {f"i{i}": thread}, by=thread)
    rows = _log(saver)
    _eq([d.seq for d in rows], [3, 2, 1], "newest first, numbered without gaps")
    _eq(len({d.hash for d in rows}), 3, "a hash per row")
    _eq(saver.verify_decisions(), None, "verify_decisions() on an intact log")
    saver.delete_thread("t1")
    _eq([d.seq for d in _log(saver)], [3, 2, 1], "rows outlive their thread")
    _eq(saver.verify_decisions(), None, "verify_decisions() after delete_thread")


def check_decisions_query(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """thread_id, by, since (text or an aware datetime), thread_prefix and limit filter,
    newest first;
    a bad limit or a naive datetime is a ValueError."""
    if not isinstance(saver, DecisionLog):
        return
    for i in range(5):
        at = _put(saver, f"t{i % 2}", cas=False)
        _ask(saver, at, "task", "n", (f"i{i}", i))
        _answer(saver, at, "task", "n", {f"i{i}": i}, by="alice" if i < 3 else "bob")
    _eq([d.interrupt_id for d in _log(saver)], ["i4", "i3", "i2", "i1", "i0"], "newest first")
    _eq([d.interrupt_id for d in _log(saver, thread_id="t1")], ["i3", "i1"], "thread_id")
    _eq([d.interrupt_id for d in _log(saver, by="bob")], ["i4", "i3"], "by")
    _eq([d.interrupt_id for d in _log(saver, thread_prefix="t1")], ["i3", "i1"],
        "thread_prefix")
    _eq(_log(saver, thread_prefix="t%"), [], "thread_prefix is text, not a pattern")
    _eq([d.interrupt_id for d in _log(saver, by="alice", limit=2)], ["i2", "i1"], "limit")
    third = _log(saver)[2]
    _eq([d.interrupt_id for d in _log(saver, since=third.at)], ["i4", "i3", "i2"], "since")
    later = datetime(2999, 1, 1, tzinfo=timezone.utc)
    _eq(_log(saver, since=later), [], "since, a datetime")
    with _raises(ValueError, "limit 0"):
        _log(saver, limit=0)
    with _raises(ValueError, "a naive datetime"):
        _log(saver, since=datetime(2026, 1, 1))


async def check_async_list_decisions(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """alist_decisions() yields what list_decisions() does."""
    if not isinstance(saver, DecisionLog):
        return
    await aanswered(saver, 3)
    got = [d async for d in saver.alist_decisions(by="carol", limit=2)]
    _eq([(d.interrupt_id, d.answer) for d in got], [("i2", 2), ("i1", 1)], "a page")

