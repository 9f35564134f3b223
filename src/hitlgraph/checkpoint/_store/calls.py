"""Saver calls as operations plus how to run them: what a sync and an async saver method share.

`StoreSaver` turns each saver method's arguments into a `Call` (encoding values before any
lock or connection is taken); `shell.SyncStore` and `shell.AsyncStore` run the calls, through
the one abstract method a backend's saver implements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from hitlgraph.checkpoint._decisions import decision_query, note_of
from hitlgraph.checkpoint._delta import DeltaEncoder
from hitlgraph.checkpoint._events import events_query, prune_query
from hitlgraph.checkpoint._pending import pending_query
from hitlgraph.checkpoint._rows import ListCursor, ListPage
from hitlgraph.checkpoint._store import decisions, events, gc, pending, reads, writes
from hitlgraph.checkpoint._store.dialect import Dialect
from hitlgraph.checkpoint._store.encode import encode_put, encode_writes
from hitlgraph.checkpoint._store.ops import Ops, together
from hitlgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    PendingWritesCall,
    RunnableConfig,
)
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.review import ChainBreak, Decision, PendingInterrupt
from hitlgraph.review._events import ReviewEvent

__all__ = ["Call", "StoreSaver"]

_T = TypeVar("_T")


class Call(NamedTuple, Generic[_T]):
    """An operation and how a driver runs it."""

    ops: Ops[_T]
    write: bool
    """It writes: one write transaction (otherwise a read, on one snapshot where it matters)."""
    standalone: bool = False
    """Its batches marked `transaction` bring their own BEGIN and COMMIT (see
    writes.one_transaction); a driver on an autocommit connection opens none around it. A
    read marked so is one statement, which needs no transaction around it either."""


class StoreSaver(BaseCheckpointSaver):
    """A saver over the storage layer: its methods' calls, for the sync and async shells."""

    dialect: ClassVar[Dialect]

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self.deltas = DeltaEncoder()
        """Stores a list that grew by appending as its new items (see checkpoint._delta)."""

    def _get_call(self, config: RunnableConfig) -> Call[CheckpointTuple | None]:
        return Call(reads.get_tuple(self.dialect, self.serde, config, self.deltas), write=False)

    def _list_cursor(self, config: RunnableConfig | None, filter: dict[str, Any] | None,
                     before: RunnableConfig | None, limit: int | None) -> ListCursor | None:
        return reads.list_cursor(self.dialect, config, filter=filter, before=before,
                                 limit=limit)

    def _page_call(self, cursor: ListCursor) -> Call[ListPage]:
        return Call(reads.list_page(self.dialect, self.serde, cursor, self.deltas),
                    write=False)

    def _put_call(self, config: RunnableConfig, checkpoint: Checkpoint,
                  metadata: CheckpointMetadata, new_versions: ChannelVersions
                  ) -> Call[RunnableConfig]:
        encoded = encode_put(self.dialect, self.serde, config, checkpoint, metadata,
                             new_versions, self.deltas)
        if metadata.get("source") == "update":  # it may resolve open interrupts
            return Call(decisions.put_resolving(self.dialect, encoded), write=True)
        return Call(writes.put(self.dialect, encoded), write=True, standalone=True)

    def _step_call(self, calls: Sequence[PendingWritesCall], config: RunnableConfig,
                   checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> Call[RunnableConfig]:
        encoded_writes = [encode_writes(self.serde, *call) for call in calls]
        encoded = encode_put(self.dialect, self.serde, config, checkpoint, metadata,
                             new_versions, self.deltas)
        return Call(writes.put_step(self.dialect, encoded_writes, encoded), write=True,
                    standalone=writes.one_transaction(self.dialect, encoded_writes, encoded))

    def _writes_call(self, config: RunnableConfig, task_writes: Sequence[tuple[str, Any]],
                     task_id: str, task_path: str) -> Call[None] | None:
        """None when there is nothing to store and nothing to check."""
        encoded = encode_writes(self.serde, config, task_writes, task_id, task_path)
        if not encoded.slots and encoded.expected is None:
            return None
        note = note_of(config)
        if note is not None:
            return Call(decisions.put_writes_deciding(self.dialect, encoded, note, task_path),
                        write=True)
        return Call(writes.put_writes(self.dialect, encoded), write=True)

    def _rewind_call(self, config: RunnableConfig, pending_writes: Sequence[PendingWrite]
                     ) -> Call[None]:
        return Call(gc.rewind(self.dialect, self.serde, config, pending_writes), write=True)

    def _pending_call(self, **arguments: Any) -> Call[list[PendingInterrupt]]:
        """list_pending()'s one page (its arguments checked here, before any connection)."""
        query = pending_query(**arguments)
        # (one statement, unless a metadata filter makes it read on: see pending.list_page)
        return Call(pending.list_page(self.dialect, self.serde, query), write=False,
                    standalone=not query.metadata)

    def _decisions_call(self, thread_id: str | None, by: str | None,
                        since: str | datetime | None, limit: int, thread_prefix: str | None
                        ) -> Call[list[Decision]]:
        """list_decisions()'s one page (its arguments checked here, before any connection)."""
        query = decision_query(thread_id=thread_id, by=by, since=since, limit=limit,
                               thread_prefix=thread_prefix)
        return Call(decisions.list_page(self.dialect, query), write=False)

    def _events_call(self, after: int, limit: int) -> Call[list[ReviewEvent]]:
        """list_review_events()'s one page (its arguments checked before any connection)."""
        return Call(events.list_page(self.dialect, *events_query(after, limit)), write=False)

    def _prune_events_call(self, before_seq: int) -> Call[int]:
        return Call(events.prune(self.dialect, prune_query(before_seq)), write=True)

    def _verify_call(self) -> Call[ChainBreak | None]:
        return Call(decisions.verify(self.dialect), write=False)

    def _fence_call(self, key: str) -> Call[int]:
        return Call(writes.advance_fence(self.dialect, key), write=True, standalone=True)

    def _fence_get_call(self, key: str, config: RunnableConfig
                        ) -> Call[tuple[int, CheckpointTuple | None]]:
        """advance_fence(key), then get_tuple(config), in one write transaction (the fence
        first). Standalone where steps go in one batch (PostgreSQL): there a tuple is its row
        alone, so the fence and the row's select are the operation's only step, one batch
        that brings its own BEGIN and COMMIT: one round trip where the two calls take two."""
        operation = together(writes.advance_fence(self.dialect, key),
                             reads.get_tuple(self.dialect, self.serde, config, self.deltas))
        return Call(operation, write=True, standalone=self.dialect.steps_in_one_batch)

    def _delete_call(self, thread_id: str) -> Call[None]:
        return Call(gc.delete_thread(self.dialect, thread_id), write=True)

    def _prune_call(self, thread_id: str, keep_last: int) -> Call[None]:
        return Call(gc.prune(self.dialect, thread_id, keep_last), write=True)

    def _forget(self, thread_id: Any) -> None:
        """After a delete, prune or rewind: the values remembered for deltas may be gone."""
        self.deltas.forget_thread(str(thread_id))
