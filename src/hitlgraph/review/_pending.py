"""PendingInterrupt, the record list_pending() yields, and the capability of listing them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from hitlgraph._policy import ReviewPolicy
from hitlgraph.review._cursor import encode_cursor

__all__ = ["DEADLINE_MARK", "NO_DEADLINE", "PendingIndex", "PendingInterrupt", "PendingOrder"]

PendingOrder = Literal["created", "deadline"]
"""The order of list_pending():

- "created": newest first (the default).
- "deadline": the nearest deadline first; interrupts without one last (then by thread and
  interrupt id).
"""
DEADLINE_MARK = "deadline:"
"""The start of a cursor of a listing in deadline order (one in created order starts with
a date), so a cursor passed to the other order is refused rather than misread."""
NO_DEADLINE = "~"
"""The deadline an interrupt without one sorts as: after every ISO 8601 time."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingInterrupt:
    """An interrupt waiting for an answer, as the saver's index of open interrupts holds it.

    Answer it with `graph.invoke(Command(resume={interrupt_id: answer}), config)` where
    `config = {"configurable": {"thread_id": thread_id}}`.
    """

    thread_id: str
    """The thread that waits."""
    checkpoint_ns: str
    """The namespace of the graph that asked: "" for the thread's graph, a subgraph's own."""
    checkpoint_id: str
    """The checkpoint whose next step asked (the latest of its namespace)."""
    interrupt_id: str
    """The id `Command(resume={id: answer})` answers."""
    node: str | None
    """The node that asked (None when the saver was not told: a Send's task, or a thread
    rewound from a rollback)."""
    value: Any
    """What the node passed to interrupt()."""
    response_schema: Any
    """The JSON Schema an answer must match (None: any answer)."""
    created_at: str
    """When the interrupt was stored (ISO 8601, UTC); for interrupts indexed when an older
    database was opened, the time of their checkpoint."""
    graph_id: str | None
    """The graph the thread ran, from the checkpoint's metadata: "graph_id" (the server sets
    it), else "hitlgraph_graph" (the `hitlgraph` command records its MODULE:GRAPH there)."""
    policy: ReviewPolicy | None = None
    """What `interrupt(..., expires_in=, assignee=, approvals=, ...)` asked (None: nothing)."""
    expires_at: str | None = None
    """The deadline (ISO 8601, UTC): created_at plus the policy's expires_in, or the new
    deadline an escalation set; None: none."""
    warn_at: str | None = None
    """When the warning before the deadline is due (the policy's warn_before); None: none."""
    assignee: str | None = None
    """Who holds it: the policy's assignee, then whoever claimed it or it was reassigned to
    (None: no one; anyone of `group` may claim it)."""
    group: str | None = None
    """The group whose members answer it (the policy's group)."""
    approvals: int = 1
    """How many distinct principals must answer (the policy's approvals)."""
    approvals_given: tuple[str, ...] = ()
    """The principals whose answers count towards `approvals` so far, oldest first (an
    interrupt asked with approvals=k stays open until k of them)."""
    order: PendingOrder = "created"
    """The order of the listing this record came from: its `cursor` continues that one."""

    @property
    def cursor(self) -> str:
        """Pass as `after=` to list_pending() (with the same `order`) to continue after
        this record."""
        if self.order == "deadline":
            due = DEADLINE_MARK + (self.expires_at or NO_DEADLINE)
            return encode_cursor((due, self.thread_id, self.interrupt_id))
        return encode_cursor((self.created_at, self.thread_id, self.interrupt_id))


@runtime_checkable
class PendingIndex(Protocol):
    """A saver that lists open interrupts from its index (every saver hitlgraph ships). A
    caller checks `isinstance(saver, PendingIndex)` and falls back to reading threads."""

    def list_pending(self, *, graph_id: str | None = None, thread_id: str | None = None,
                     node: str | None = None, metadata: dict[str, Any] | None = None,
                     limit: int = 50, after: str | None = None, assignee: str | None = None,
                     group: str | None = None, unassigned: bool = False,
                     expired_before: str | datetime | None = None,
                     order: PendingOrder = "created") -> Iterator[PendingInterrupt]:
        """Open interrupts in `order`: at most `limit`, after the cursor `after`."""
        ...

    def alist_pending(self, *, graph_id: str | None = None, thread_id: str | None = None,
                      node: str | None = None, metadata: dict[str, Any] | None = None,
                      limit: int = 50, after: str | None = None, assignee: str | None = None,
                      group: str | None = None, unassigned: bool = False,
                      expired_before: str | datetime | None = None,
                      order: PendingOrder = "created") -> AsyncIterator[PendingInterrupt]:
        """list_pending() for asyncio programs."""
        ...
