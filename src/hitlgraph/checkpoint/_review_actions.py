"""Changes to one open index entry that are not writes of a thread, written once for every
saver: claim, release and reassign (who holds it), and what a due policy does (close it
unanswered, escalate it, warn before its deadline). Each is a pure function of the entry as
read (EntryState) that says what to set on it and what to log; a saver reads the entry,
applies the function and stores its outcome in one transaction, compare-and-set on the entry
(what it read must still hold), so concurrent callers apply a change once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from hitlgraph._policy import Expire, cancel_reason
from hitlgraph.checkpoint._decisions import NewDecision, answer_text
from hitlgraph.checkpoint._events import POLICY_BY, NewEvent
from hitlgraph.checkpoint._pending_policy import after_seconds
from hitlgraph.review._assignment import InterruptHeldError
from hitlgraph.review._decisions import Decision
from hitlgraph.review._pending import NO_DEADLINE

__all__ = ["Action", "Applied", "EntryState", "Outcome", "cancel", "claim", "escalate",
           "expiry", "principal_of", "reassign", "release", "warn"]


class EntryState(NamedTuple):
    """An open entry as a saver read it (the compare-and-set compares assignee, expires_at
    and warned)."""

    thread_id: str
    interrupt_id: str
    checkpoint_ns: str
    node: str | None
    graph_id: str | None
    assignee: str | None
    expires_at: str | None
    warned: bool


class Outcome(NamedTuple):
    """What an action does: columns to set on the entry (of assignee, expires_at, warn_at,
    due, warned, answered, expired), decision rows to log, and events with no decision."""

    sets: dict[str, Any]
    decisions: list[NewDecision]
    events: list[NewEvent]


class Applied(NamedTuple):
    """An action's outcome as a saver stored it, with its decision rows as logged."""

    outcome: Outcome
    decisions: list[Decision]


Action = Callable[[EntryState, str], Outcome | None]
"""(the entry, the time now) -> its outcome, or None when there is nothing to do (a due
policy that another caller applied already)."""


def principal_of(name: str, value: Any) -> str:
    """A principal argument, checked.

    Raises:
        ValueError: not a non-empty string (naming `name`).
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}={value!r} must be a non-empty string naming a principal.")
    return value


def _row(entry: EntryState, at: str, outcome: str, by: str, reason: str | None,
         to: str | None) -> NewDecision:
    return NewDecision(entry.thread_id, entry.checkpoint_ns, entry.interrupt_id, entry.node,
                       answer_text({"from": entry.assignee, "to": to}), by, reason, at,
                       outcome)


def claim(principal: str, reason: str | None) -> Action:
    """Hold the entry as `principal`: refused when someone else holds it."""
    def act(entry: EntryState, at: str) -> Outcome:
        if entry.assignee not in (None, principal):
            raise InterruptHeldError(thread_id=entry.thread_id, interrupt_id=entry.interrupt_id,
                                     holder=entry.assignee, principal=principal, action="claim")
        return Outcome({"assignee": principal},
                       [_row(entry, at, "claimed", principal, reason, principal)], [])
    return act


def release(principal: str, force: bool, reason: str | None) -> Action:
    """Let go of the entry: only its holder may, unless `force`."""
    def act(entry: EntryState, at: str) -> Outcome:
        if entry.assignee != principal and not (force and entry.assignee is not None):
            raise InterruptHeldError(thread_id=entry.thread_id, interrupt_id=entry.interrupt_id,
                                     holder=entry.assignee, principal=principal,
                                     action="release")
        return Outcome({"assignee": None},
                       [_row(entry, at, "released", principal, reason, None)], [])
    return act


def reassign(principal: str, to: str, reason: str | None) -> Action:
    """Give the entry to `to` (anyone may)."""
    def act(entry: EntryState, at: str) -> Outcome:
        return Outcome({"assignee": to}, [_row(entry, at, "reassigned", principal, reason, to)],
                       [])
    return act


def cancel(deadline: str, reason: str = "expired: cancelled") -> Action:
    """Expire.cancel(): close the entry unanswered (its node does not run), if its deadline
    is still `deadline` (else another caller applied it, or an escalation moved it)."""
    def act(entry: EntryState, at: str) -> Outcome | None:
        if entry.expires_at != deadline:
            return None
        row = NewDecision(entry.thread_id, entry.checkpoint_ns, entry.interrupt_id, entry.node,
                          "null", POLICY_BY, reason, at, "expired")
        return Outcome({"answered": True, "expired": True}, [row], [])
    return act


def escalate(deadline: str, to: str, seconds: float | None) -> Action:
    """Expire.escalate(to=...): give the entry to `to`, with a new deadline `seconds` from
    now (None: none), if its deadline is still `deadline`."""
    def act(entry: EntryState, at: str) -> Outcome | None:
        if entry.expires_at != deadline:
            return None
        expires_at = None if seconds is None else after_seconds(at, seconds)
        sets = {"assignee": to, "expires_at": expires_at, "warn_at": None,
                "due": expires_at or NO_DEADLINE, "warned": False}
        return Outcome(sets, [_row(entry, at, "reassigned", POLICY_BY,
                                   f"expired: escalated to {to}", to)], [])
    return act


def expiry(deadline: str, rule: Expire) -> Action:
    """The action of a due interrupt's `Expire.cancel()` or `Expire.escalate(...)`.

    Raises:
        ValueError: `rule` is `Expire.answer(...)` (a resume through the graph, not an
            index change).
    """
    if rule.kind == "cancel":
        return cancel(deadline, cancel_reason(rule))
    if rule.kind == "escalate" and rule.to:
        return escalate(deadline, rule.to, rule.expires_in)
    raise ValueError(f"{rule!r} is answered by resuming the thread (apply_expired does it), "
                     "not by changing the index.")


def warn(warn_at: str) -> Action:
    """warn_before: the "interrupt.warning" event, once (the entry's warned flag)."""
    def act(entry: EntryState, at: str) -> Outcome | None:
        if entry.warned:
            return None
        data = answer_text({"expires_at": entry.expires_at, "warn_at": warn_at,
                            "assignee": entry.assignee, "node": entry.node})
        return Outcome({"warned": True}, [], [NewEvent(
            "interrupt.warning", at, entry.thread_id, entry.checkpoint_ns, entry.interrupt_id,
            entry.graph_id, data)])
    return act
