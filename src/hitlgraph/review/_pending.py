"""PendingInterrupt, the record list_pending() yields, and the capability of listing them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from hitlgraph.review._cursor import encode_cursor

__all__ = ["PendingIndex", "PendingInterrupt"]


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

    @property
    def cursor(self) -> str:
        """Pass as `after=` to list the interrupts older than this one."""
        return encode_cursor((self.created_at, self.thread_id, self.interrupt_id))


@runtime_checkable
class PendingIndex(Protocol):
    """A saver that lists open interrupts from its index (every saver hitlgraph ships). A
    caller checks `isinstance(saver, PendingIndex)` and falls back to reading threads."""

    def list_pending(self, *, graph_id: str | None = None, thread_id: str | None = None,
                     node: str | None = None, metadata: dict[str, Any] | None = None,
                     limit: int = 50, after: str | None = None) -> Iterator[PendingInterrupt]:
        """Open interrupts, newest first: at most `limit`, older than the cursor `after`."""
        ...

    def alist_pending(self, *, graph_id: str | None = None, thread_id: str | None = None,
                      node: str | None = None, metadata: dict[str, Any] | None = None,
                      limit: int = 50, after: str | None = None
                      ) -> AsyncIterator[PendingInterrupt]:
        """list_pending() for asyncio programs."""
        ...
