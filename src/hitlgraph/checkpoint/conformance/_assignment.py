"""Checks of assignment (hitlgraph.review.Assignable): claim, release and reassign as
compare-and-set on the index entry, each logged with its event. A saver without the
capability passes them trivially."""

from __future__ import annotations

import threading
from typing import Any

from hitlgraph._policy import Expire, policy_of
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.conformance._decisions import _answer, _log
from hitlgraph.checkpoint.conformance._helpers import (
    Backend,
    _eq,
    _ok,
    _raises,
    conf,
    make_checkpoint,
)
from hitlgraph.checkpoint.conformance._pending import _ask, _open, _put
from hitlgraph.checkpoint.conformance._policy import _ask_with
from hitlgraph.review import Assignable, InterruptHeldError, InterruptNotOpenError, ReviewOutbox
from hitlgraph.types import Interrupt

__all__ = ["check_assignment_claims_at_most_once", "check_assignment_rules_and_log",
           "check_async_assignment_and_expiry"]


def _holder(saver: BaseCheckpointSaver, interrupt_id: str) -> str | None:
    return next(p.assignee for p in _open(saver) if p.interrupt_id == interrupt_id)


def check_assignment_rules_and_log(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """A claim holds an unheld interrupt (again for its holder) and is refused, naming the
    holder, for anyone else; release only by the holder unless forced; reassign by anyone;
    an interrupt asked with an assignee starts held; each change logs a row ({"from", "to"}
    as its answer) and an "interrupt.decided" event; an interrupt not open (answered,
    unknown) and a bad principal are refused."""
    if not isinstance(saver, Assignable):
        return
    at = _put(saver, "t", graph_id="g")
    _ask(saver, at, "task", "review", ("i1", 1))
    _ask_with(saver, at, "task2", "i2", policy_of(assignee="bob"))
    _eq(_holder(saver, "i2"), "bob", "asked with an assignee")
    claimed = saver.claim("t", "i1", "alice", reason="mine")
    _eq((claimed.outcome, claimed.by, claimed.reason, claimed.answer, claimed.node),
        ("claimed", "alice", "mine", {"from": None, "to": "alice"}, "review"), "the row")
    saver.claim("t", "i1", "alice")
    with _raises(InterruptHeldError, "a claim of what alice holds") as caught:
        saver.claim("t", "i1", "carol")
    [error] = caught
    _ok("'alice'" in str(error) and getattr(error, "holder", None) == "alice",
        f"the error names the holder: {error}")
    with _raises(InterruptHeldError, "a release by someone else"):
        saver.release("t", "i1", "carol")
    saver.release("t", "i1", "carol", force=True)
    _eq(_holder(saver, "i1"), None, "released by force")
    with _raises(InterruptHeldError, "a release of what no one holds"):
        saver.release("t", "i1", "alice")
    moved = saver.reassign("t", "i2", "carol", to="dave")
    _eq((moved.outcome, moved.answer), ("reassigned", {"from": "bob", "to": "dave"}), "moved")
    _eq(_holder(saver, "i2"), "dave", "reassigned")
    saver.release("t", "i2", "dave")
    _eq([d.outcome for d in _log(saver)],
        ["released", "reassigned", "released", "claimed", "claimed"], "each change logged")
    assert isinstance(saver, ReviewOutbox)
    kinds = [(e.kind, e.data["outcome"], e.graph_id) for e in saver.list_review_events()[2:]]
    _eq(kinds[0], ("interrupt.decided", "claimed", "g"), "an event per change")
    _eq(len(kinds), 5, "five events")
    _answer(saver, at, "task", "review", {"i1": "yes"})
    with _raises(InterruptNotOpenError, "a claim of an answered interrupt"):
        saver.claim("t", "i1", "alice")
    with _raises(InterruptNotOpenError, "a claim of an unknown interrupt"):
        saver.claim("t", "nope", "alice")
    with _raises(ValueError, "an empty principal"):
        saver.claim("t", "i2", "")


def check_assignment_claims_at_most_once(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Eight threads claiming one interrupt at once as eight principals: exactly one holds
    it, the others are refused naming a holder, and one "claimed" row is logged."""
    if not isinstance(saver, Assignable):
        return
    _ask(saver, _put(saver, "t"), "task", "review", ("i1", 1))
    results: list[str] = []
    start = threading.Barrier(8)

    def race(who: str) -> None:
        start.wait()
        try:
            saver.claim("t", "i1", who)
            results.append("won")
        except InterruptHeldError:
            results.append("refused")

    racers = [threading.Thread(target=race, args=(f"p{i}",)) for i in range(8)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    _eq(sorted(results), ["refused"] * 7 + ["won"], "one claim wins")
    _eq([d.outcome for d in _log(saver)], ["claimed"], "one row")


async def check_async_assignment_and_expiry(saver: BaseCheckpointSaver,
                                            backend: Backend) -> None:
    """aclaim / arelease / areassign as their sync twins; awarnings_due, asend_warning (once)
    and aapply_expiry (an escalation, compare-and-set on the deadline it saw) as
    apply_expired uses them."""
    if not isinstance(saver, Assignable):
        return
    at = await saver.aput(conf("t"), make_checkpoint({"x": 1}, {"x": 1}),
                          {"source": "loop", "step": 0}, {"x": 1})
    policy = policy_of(expires_in=600, warn_before=60, assignee="bob",
                       on_expire=Expire.escalate(to="lead"))
    await saver.aput_writes(at, [("__interrupt__", [Interrupt("q", id="i1", policy=policy)])],
                            "task", "n")
    with _raises(InterruptHeldError, "an async claim of what bob holds"):
        await saver.aclaim("t", "i1", "carol")
    await saver.areassign("t", "i1", "carol", to="dave")
    await saver.arelease("t", "i1", "dave")
    claimed = await saver.aclaim("t", "i1", "erin")
    _eq((claimed.outcome, claimed.answer), ("claimed", {"from": None, "to": "erin"}), "claimed")
    index: Any = saver  # (an Assignable that is also a PendingIndex)
    [item] = [p async for p in index.alist_pending()]
    assert item.warn_at is not None and item.expires_at is not None
    due = await saver.awarnings_due(item.expires_at, 10)  # type: ignore[attr-defined]
    _eq(due, [("t", "i1", item.warn_at)], "the warning due")
    sent = await saver.asend_warning("t", "i1", warn_at=item.warn_at)  # type: ignore[attr-defined]
    _ok(sent is not None, "the warning sent")
    _eq(await saver.asend_warning("t", "i1", warn_at=item.warn_at),  # type: ignore[attr-defined]
        None, "sent once")
    _eq(await saver.awarnings_due(item.expires_at, 10), [], "no warning due")  # type: ignore[attr-defined]
    rule = Expire.escalate(to="lead")
    done = await saver.aapply_expiry("t", "i1", deadline=item.expires_at,  # type: ignore[attr-defined]
                                     rule=rule)
    _eq((done.decisions[0].outcome, done.decisions[0].by), ("reassigned", "policy"),
        "escalated")
    _eq(await saver.aapply_expiry("t", "i1", deadline=item.expires_at,  # type: ignore[attr-defined]
                                  rule=rule), None, "applied once")
    [moved] = [p async for p in index.alist_pending()]
    _eq((moved.assignee, moved.expires_at), ("lead", None), "held by lead, no deadline")
