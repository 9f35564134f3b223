"""The public saver methods, written once for sync and once for async callers.

A backend's saver derives from `SyncStore` (and `StepStore` for put_step) or `AsyncStore`,
or both, and implements only `_run` (or `_arun`): carry out one `Call` on its connection.
"""

from __future__ import annotations

import builtins
import threading
from abc import abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from hitlgraph import _faults
from hitlgraph.checkpoint._rows import ListCursor
from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.review_shell import AsyncReview, SyncReview
from hitlgraph.checkpoint.base import (
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
from hitlgraph.review._pending import PendingOrder

__all__ = ["AsyncStore", "StepStore", "SyncStore"]

_T = TypeVar("_T")
_Conn = TypeVar("_Conn")


class SyncStore(SyncReview):
    """LangGraph's sync saver methods, each one call run by `_run`."""

    @abstractmethod
    def _run(self, call: Call[_T]) -> _T:
        """Carry out `call` (setting the saver up first if needed)."""

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint tuple `config` points at (the thread's latest without checkpoint_id).

        Args:
            config: names thread_id, optionally checkpoint_ns and checkpoint_id.

        Returns:
            The tuple with every channel's value and the pending writes, or None.
        """
        return self._run(self._get_call(config))

    def list(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
             before: RunnableConfig | None = None, limit: int | None = None
             ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first: of config's thread (and namespace, if it names one), or of
        all threads with config None.

        Args:
            config: the thread to list, or None for all threads.
            filter: keep only checkpoints whose metadata has these key/value pairs.
            before: keep only checkpoints older than this config's checkpoint_id.
            limit: at most this many.

        Returns:
            An iterator that reads the checkpoints page by page as it is consumed.
        """
        return self._pages(self._list_cursor(config, filter, before, limit))

    def _pages(self, cursor: ListCursor | None) -> Iterator[CheckpointTuple]:
        while cursor is not None:
            items, cursor = self._run(self._page_call(cursor))
            yield from items

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        """Store `checkpoint` as the child of config's checkpoint_id.

        Only the channels named in `new_versions` are stored; the others are found by version
        among earlier checkpoints' values when read.

        Args:
            config: names thread_id, checkpoint_ns, the parent checkpoint_id and optionally
                WriteRules (the expected latest checkpoint, "" for none; a fence token).
            checkpoint: the checkpoint, with the values of at least the new channels.
            metadata: stored beside it; list() can filter on it.
            new_versions: the channels written since the parent, with their new versions.

        Returns:
            The config that points at the stored checkpoint.

        Raises:
            CheckpointConflictError: WriteRules.expected_latest was given and the latest is
                another one.
            FencedWriteError: WriteRules.fence's token is no longer its key's latest.
        """
        return self._run(self._put_call(config, checkpoint, metadata, new_versions))

    def put_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
        """Store the writes of one task of the step after config's checkpoint.

        A write to a special channel (error, interrupt, resume) replaces the task's earlier
        one; another write is kept only if the task has none at that index yet.

        Args:
            config: names thread_id, checkpoint_ns and checkpoint_id.
            writes: (channel, value) pairs, in the order the task made them.
            task_id: the task's id.
            task_path: the task's path in the graph.
        """
        call = self._writes_call(config, writes, task_id, task_path)
        if call is not None:
            self._run(call)
            if _faults.ARMED:
                _faults.hit("checkpoint.after_writes")

    def list_pending(self, *, graph_id: str | None = None, thread_id: str | None = None,
                     node: str | None = None, metadata: dict[str, Any] | None = None,
                     limit: int = 50, after: str | None = None, assignee: str | None = None,
                     group: str | None = None, unassigned: bool = False,
                     expired_before: str | datetime | None = None,
                     order: PendingOrder = "created") -> Iterator[PendingInterrupt]:
        """Open interrupts from the index (see hitlgraph.review): one statement reading one
        page of index rows, whatever the number of threads (each filter and order has an
        index of its own).

        Args:
            graph_id: only threads run with this graph (checkpoint metadata "graph_id", else
                "hitlgraph_graph").
            thread_id: only this thread's.
            node: only those this node asked.
            metadata: only those whose checkpoint's metadata has these key/value pairs.
            limit: at most this many (one page).
            after: the `cursor` of the last record of the previous page (of the same order).
            assignee: only those this principal holds (with `unassigned`, and those no one
                holds: a reviewer's queue).
            group: only those asked of this group.
            unassigned: only those no one holds (see `assignee`).
            expired_before: only those whose deadline is at or before this time (an aware
                datetime, or ISO 8601 text with a time zone).
            order: "created" (newest first) or "deadline" (nearest deadline first, those
                without one last).

        Raises:
            ValueError: `after` is not a cursor of this order, `limit` is below 1, `order`
                is unknown, or `expired_before` is not a time with a time zone.
        """
        found: list[PendingInterrupt] = self._run(self._pending_call(
            graph_id=graph_id, thread_id=thread_id, node=node, metadata=metadata, limit=limit,
            after=after, assignee=assignee, group=group, unassigned=unassigned,
            expired_before=expired_before, order=order))
        return iter(found)

    def list_decisions(self, *, thread_id: str | None = None, by: str | None = None,
                       since: str | datetime | None = None, limit: int = 50,
                       thread_prefix: str | None = None) -> Iterator[Decision]:
        """The decision log (see hitlgraph.review), newest first: one statement.

        Args:
            thread_id: only this thread's.
            by: only those this person made (`Command(by=...)`).
            since: only those made at or after this time (an aware datetime, or ISO 8601
                text with a time zone).
            limit: at most this many.
            thread_prefix: only threads whose id starts with this (the server keeps a
                tenant's threads under "tenant/").

        Raises:
            ValueError: `limit` is below 1, or `since` has no time zone.
        """
        found: list[Decision] = self._run(
            self._decisions_call(thread_id, by, since, limit, thread_prefix))
        return iter(found)

    def verify_decisions(self) -> ChainBreak | None:
        """Check the decision log's hash chain: the first row that was changed or removed
        (see hitlgraph.review.ChainBreak), or None when it is intact. Reads the whole log,
        a page at a time."""
        return self._run(self._verify_call())

    def list_review_events(self, after: int = 0, limit: int = 100) -> builtins.list[ReviewEvent]:
        """The review event outbox (see hitlgraph.review.ReviewEvent): the events whose seq is
        above `after`, oldest first, at most `limit`; one statement.

        Raises:
            ValueError: `after` is below 0 or `limit` below 1.
        """
        return self._run(self._events_call(after, limit))

    def prune_review_events(self, before_seq: int) -> int:
        """Delete the outbox's events whose seq is below `before_seq` (those every reader
        has handled); returns how many. Numbers are never reused."""
        return self._run(self._prune_events_call(before_seq))

    def rewind(self, config: RunnableConfig, pending_writes: Sequence[PendingWrite]) -> None:
        """Make config's checkpoint the thread's latest again, with `pending_writes` (see
        BaseCheckpointSaver.rewind); one transaction."""
        self._run(self._rewind_call(config, pending_writes))
        self._forget(config["configurable"]["thread_id"])

    def advance_fence(self, key: str) -> int:
        """A new token for `key`: writes whose config carries an older token of it (their
        WriteRules.fence) are refused from now on.

        Args:
            key: what the fence guards, e.g. a run id.

        Returns:
            The new token.
        """
        return self._run(self._fence_call(key))

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of a thread.

        Args:
            thread_id: the thread to delete.
        """
        self._run(self._delete_call(thread_id))
        self._forget(thread_id)

    def prune(self, thread_id: str, *, keep_last: int = 1) -> None:
        """Keep only the newest `keep_last` checkpoints of each namespace of a thread.

        Values still referenced by a kept checkpoint are kept.

        Args:
            thread_id: the thread to prune.
            keep_last: how many checkpoints to keep per namespace (at least 1).

        Raises:
            ValueError: keep_last is below 1.
        """
        self._run(self._prune_call(thread_id, keep_last))
        self._forget(thread_id)


class StepStore(SyncStore, Generic[_Conn]):
    """A sync saver on a database connection (or pool) that also stores a finished step in one
    transaction (base.SaverTraits)."""

    conn: _Conn

    def __init__(self, conn: _Conn, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.RLock()
        self.is_setup = False

    def put_step(self, writes: Sequence[PendingWritesCall], config: RunnableConfig,
                 checkpoint: Checkpoint, metadata: CheckpointMetadata, new_versions: ChannelVersions
                 ) -> RunnableConfig:
        """put_writes() for each of `writes`, then put(), in one transaction."""
        return self._run(self._step_call(writes, config, checkpoint, metadata, new_versions))


class AsyncStore(AsyncReview):
    """LangGraph's async saver methods, each one call awaited through `_arun`; see SyncStore's
    methods for what each does."""

    @abstractmethod
    async def _arun(self, call: Call[_T]) -> _T:
        """Carry out `call` (setting the saver up first if needed)."""

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint tuple `config` points at (see `SyncStore.get_tuple`)."""
        return await self._arun(self._get_call(config))

    async def aadvance_fence_and_get_tuple(self, key: str, config: RunnableConfig
                                           ) -> tuple[int, CheckpointTuple | None]:
        """aadvance_fence(key), then aget_tuple(config), in one transaction (the fence first:
        whoever advanced it after this sees no checkpoint write of its holder after the
        read)."""
        return await self._arun(self._fence_get_call(key, config))

    async def alist(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
                    before: RunnableConfig | None = None, limit: int | None = None
                    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first, read page by page (see `SyncStore.list`)."""
        cursor = self._list_cursor(config, filter, before, limit)
        while cursor is not None:
            items, cursor = await self._arun(self._page_call(cursor))
            for item in items:
                yield item

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint,
                   metadata: CheckpointMetadata, new_versions: ChannelVersions
                   ) -> RunnableConfig:
        """Store a checkpoint (see `SyncStore.put`)."""
        return await self._arun(self._put_call(config, checkpoint, metadata, new_versions))

    async def aput_step(self, writes: Sequence[PendingWritesCall], config: RunnableConfig,
                        checkpoint: Checkpoint, metadata: CheckpointMetadata,
                        new_versions: ChannelVersions) -> RunnableConfig:
        """A finished step's writes and checkpoint in one transaction."""
        return await self._arun(self._step_call(writes, config, checkpoint, metadata,
                                                new_versions))

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]],
                          task_id: str, task_path: str = "") -> None:
        """Store the writes of one task (see `SyncStore.put_writes`)."""
        call = self._writes_call(config, writes, task_id, task_path)
        if call is not None:
            await self._arun(call)
            if _faults.ARMED:
                _faults.hit("checkpoint.after_writes")

    async def averify_decisions(self) -> ChainBreak | None:
        """Check the decision log's hash chain (see `SyncStore.verify_decisions`)."""
        return await self._arun(self._verify_call())

    async def arewind(self, config: RunnableConfig,
                      pending_writes: Sequence[PendingWrite]) -> None:
        """Make config's checkpoint the thread's latest again (see `SyncStore.rewind`)."""
        await self._arun(self._rewind_call(config, pending_writes))
        self._forget(config["configurable"]["thread_id"])

    async def aadvance_fence(self, key: str) -> int:
        """A new token for `key` (see `SyncStore.advance_fence`)."""
        return await self._arun(self._fence_call(key))

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of a thread."""
        await self._arun(self._delete_call(thread_id))
        self._forget(thread_id)

    async def aprune(self, thread_id: str, *, keep_last: int = 1) -> None:
        """Keep only the newest `keep_last` checkpoints of each namespace of a thread."""
        await self._arun(self._prune_call(thread_id, keep_last))
        self._forget(thread_id)
