"""ReviewPolicy and Expire: what `interrupt(value, expires_in=..., assignee=..., approvals=...)`
asks of the people who answer, carried by the Interrupt into checkpoints and the pending index.

A leaf module (like `_control`), so the serializer can register these classes without an
import cycle; `hitlgraph.review` is their public home. A policy holds durations, not times: the
pending index turns `expires_in` into a deadline when it stores the interrupt, so a node that
runs again (on each resume attempt) asks for the same policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

__all__ = ["POLICY_BY", "Expire", "ReviewPolicy", "cancel_reason", "policy_of"]

POLICY_BY = "policy"
"""The `by` of the decisions a review policy makes (apply_expired): a reserved principal. Its
default answer to a k-of-n interrupt decides alone, as a deadline's decision must."""

ExpireKind = Literal["answer", "cancel", "escalate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Expire:
    """What happens when an interrupt's deadline passes unanswered. Make one with
    `Expire.answer(value)`, `Expire.cancel()` or `Expire.escalate(to=..., expires_in=...)`."""

    kind: ExpireKind
    value: Any = None
    """The default answer (kind "answer")."""
    to: str | None = None
    """The new assignee (kind "escalate")."""
    expires_in: float | None = None
    """Seconds until the escalated interrupt's next deadline (kind "escalate"; None: none)."""
    reason: str | None = None
    """Why the run ends (kind "cancel"): shown in the thread's state and the decision log."""

    @classmethod
    def answer(cls, value: Any) -> Expire:
        """Resume with `value`, as if a person had answered it."""
        return cls(kind="answer", value=value)

    @classmethod
    def cancel(cls, reason: str | None = None) -> Expire:
        """End the run: the thread keeps its values, its tasks are dropped, and its state
        says why (`reason`, default "cancelled": the checkpoint's metadata "expired_reason",
        beside the decision log's row)."""
        if reason is not None and (not isinstance(reason, str) or not reason.strip()):
            raise ValueError(f"Expire.cancel(reason={reason!r}) needs a non-empty string "
                             "(or no reason).")
        return cls(kind="cancel", reason=reason)

    @classmethod
    def escalate(cls, to: str, expires_in: timedelta | float | None = None) -> Expire:
        """Assign the interrupt to `to`, with a new deadline `expires_in` from now."""
        if not isinstance(to, str) or not to:
            raise ValueError(f"Expire.escalate(to={to!r}) needs a non-empty principal or group.")
        return cls(kind="escalate", to=to, expires_in=_seconds("expires_in", expires_in))


def cancel_reason(rule: Expire) -> str:
    """What an `Expire.cancel(reason)` says: the decision log's reason, and the checkpoint
    metadata of the thread's end (hitlgraph.review.apply_expired)."""
    return f"expired: {rule.reason or 'cancelled'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewPolicy:
    """The review rules of one interrupt (see `interrupt()` for each argument)."""

    expires_in: float | None = None
    on_expire: Expire | None = None
    warn_before: float | None = None
    assignee: str | None = None
    group: str | None = None
    approvals: int = 1
    approvers: tuple[str, ...] | str | None = None
    """Who may approve: any principal (None), these principals, or the members of a group."""
    rejection: dict[str, Any] | None = None
    """An answer holding these items is a rejection, and one rejection decides alone."""


def _seconds(name: str, value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{name}={value!r} must be a positive timedelta or number of seconds.")
    return float(seconds)


def _name(name: str, value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{name}={value!r} must be a non-empty string or None.")
    return value


def _approvers(value: Any) -> tuple[str, ...] | str | None:
    if value is None or isinstance(value, str):
        return _name("approvers", value)
    names = tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else None
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"approvers={value!r} must be a group name, a list of principals, "
                         "or None (anyone).")
    return tuple(sorted(set(names)))


def policy_of(*, expires_in: timedelta | float | None = None, on_expire: Expire | None = None,
              warn_before: timedelta | float | None = None, assignee: str | None = None,
              group: str | None = None, approvals: int = 1, approvers: Any = None,
              rejection: dict[str, Any] | None = None) -> ReviewPolicy | None:
    """The ReviewPolicy of interrupt()'s arguments, checked; None when they ask for nothing.

    Raises:
        ValueError: an argument out of range, or one that needs another (on_expire and
            warn_before need expires_in; warn_before must be shorter than it).
        TypeError: on_expire is not an Expire, rejection not a dict.
    """
    if (expires_in is None and on_expire is None and warn_before is None and assignee is None
            and group is None and approvals == 1 and approvers is None and rejection is None):
        return None  # the usual case, on every interrupt() call: nothing to build or check
    seconds = _seconds("expires_in", expires_in)
    warn = _seconds("warn_before", warn_before)
    if on_expire is not None and not isinstance(on_expire, Expire):
        raise TypeError(f"on_expire={on_expire!r} must be Expire.answer(value), "
                        "Expire.cancel() or Expire.escalate(to=...).")
    if seconds is None and (on_expire is not None or warn is not None):
        raise ValueError("on_expire and warn_before need expires_in (the deadline).")
    if warn is not None and seconds is not None and warn >= seconds:
        raise ValueError(f"warn_before ({warn} s) must be shorter than expires_in ({seconds} s).")
    if isinstance(approvals, bool) or not isinstance(approvals, int) or approvals < 1:
        raise ValueError(f"approvals={approvals!r} must be an int of at least 1.")
    if rejection is not None and not isinstance(rejection, dict):
        raise TypeError(f"rejection={rejection!r} must be a dict of the items a rejecting "
                        "answer holds, e.g. {'approved': False}.")
    return ReviewPolicy(
        expires_in=seconds, on_expire=on_expire, warn_before=warn,
        assignee=_name("assignee", assignee), group=_name("group", group), approvals=approvals,
        approvers=_approvers(approvers), rejection=rejection)
