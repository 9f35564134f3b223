"""What the index of open interrupts stores of an interrupt's review policy, written once
for every saver: its columns (the deadline and warning times from the policy's durations and
the time the entry was stored).

The policy itself is stored twice: serialized like values are (so the default answer of
`Expire.answer` comes back exactly, whatever its type) and as JSON text (for people and SQL).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from hitlgraph._policy import ReviewPolicy
from hitlgraph.checkpoint._decisions import answer_text
from hitlgraph.checkpoint._events import policy_json
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.review._pending import NO_DEADLINE

__all__ = ["PolicyColumns", "after_seconds", "loads_policy", "policy_columns"]


class PolicyColumns(NamedTuple):
    """An entry's policy columns, in the order the savers store them."""

    expires_at: str | None
    warn_at: str | None
    due: str
    """expires_at, or NO_DEADLINE: the deadline order's sort key (never NULL, so that every
    database sorts it alike)."""
    assignee: str | None
    group: str | None
    approvals: int
    policy: str
    """The policy as JSON text."""
    policy_type: str
    policy_value: bytes


def after_seconds(at: str, seconds: float) -> str:
    """The ISO 8601 time `seconds` after `at` (an ISO 8601 time in UTC)."""
    then = datetime.fromisoformat(at) + timedelta(seconds=seconds)
    return then.astimezone(timezone.utc).isoformat(timespec="microseconds")


def policy_columns(serde: SerializerProtocol, policy: ReviewPolicy, created_at: str
                   ) -> PolicyColumns:
    """The columns of an entry asked with `policy` and stored at `created_at`."""
    expires_at = warn_at = None
    if policy.expires_in is not None:
        expires_at = after_seconds(created_at, policy.expires_in)
        if policy.warn_before is not None:
            warn_at = after_seconds(created_at, policy.expires_in - policy.warn_before)
    return PolicyColumns(expires_at, warn_at, expires_at or NO_DEADLINE, policy.assignee,
                         policy.group, policy.approvals, answer_text(policy_json(policy)),
                         *serde.dumps_typed(policy))


def loads_policy(serde: SerializerProtocol, typed: tuple[str, bytes] | None) -> Any:
    """The ReviewPolicy an entry stored (None when it has none)."""
    return None if typed is None else serde.loads_typed(typed)
