"""ReviewEvent, a row of the savers' review event outbox, and the ReviewOutbox capability.

Every saver hitlgraph ships appends an event in the same transaction as the write that caused
it, so a notifier that reads the outbox (webhooks, a library callback) loses nothing across a
crash: it remembers the last `seq` it handled and asks for the events after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["ReviewEvent", "ReviewEventKind", "ReviewOutbox"]

ReviewEventKind = Literal["interrupt.created", "interrupt.decided", "interrupt.expired",
                          "interrupt.warning"]
"""What happened:

- "interrupt.created": the index opened an entry (a node called interrupt()); `data` holds
  "node", "value" (JSON data, or "value_summary", the start of its JSON text, when long) and
  "policy" (the ReviewPolicy as JSON data, or null).
- "interrupt.decided": a decision was logged (answered, resolved, given back, claimed,
  released, reassigned); `data` holds "outcome", "by", "reason", "node" and "decision_seq"
  (the row of the decision log).
- "interrupt.expired": a deadline's policy was applied (`hitlgraph.review.apply_expired`);
  `data` as for "interrupt.decided", the outcome saying what the policy did.
- "interrupt.warning": the interrupt's `warn_before` time came (sent once); `data` holds
  "expires_at" and "assignee".
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewEvent:
    """One event of a saver's review outbox."""

    seq: int
    """Its place in the database's outbox: strictly increasing in commit order, so a reader
    that asks for the events after the last seq it saw never misses one (gaps are possible
    where a transaction rolled back or events were pruned)."""
    kind: ReviewEventKind
    at: str
    """When (ISO 8601, UTC, microseconds)."""
    thread_id: str
    checkpoint_ns: str
    """The namespace of the graph that asked: "" for the thread's graph, a subgraph's own."""
    interrupt_id: str
    graph_id: str | None
    """The thread's graph, as the index records it (None when unknown)."""
    data: dict[str, Any]
    """The details, JSON data (see ReviewEventKind for each kind's keys)."""


@runtime_checkable
class ReviewOutbox(Protocol):
    """A saver that keeps a review event outbox (every saver hitlgraph ships)."""

    def list_review_events(self, after: int = 0, limit: int = 100) -> list[ReviewEvent]:
        """The events whose seq is above `after`, oldest first, at most `limit`."""
        ...

    async def alist_review_events(self, after: int = 0, limit: int = 100
                                  ) -> list[ReviewEvent]:
        """list_review_events() for asyncio programs."""
        ...

    def prune_review_events(self, before_seq: int) -> int:
        """Delete the events whose seq is below `before_seq`; returns how many. Later events
        keep their numbers (seq is never reused)."""
        ...

    async def aprune_review_events(self, before_seq: int) -> int:
        """prune_review_events() for asyncio programs."""
        ...
