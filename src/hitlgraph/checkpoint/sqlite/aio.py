"""AsyncSqliteSaver: SqliteSaver for asyncio programs, with no extra dependency.

Each operation runs SqliteSaver's logic on one dedicated worker thread of the saver, so the
event loop never waits on disk or on another process's lock, and operations run in the order
they were awaited.

Example:
    >>> from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    >>> async with AsyncSqliteSaver.from_conn_string("checkpoints.db") as saver:  # doctest: +SKIP
    ...     graph = builder.compile(checkpointer=saver)
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

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
from hitlgraph.checkpoint.sqlite import SqliteSaver, _sql, connect

__all__ = ["AsyncSqliteSaver"]

_T = TypeVar("_T")


class AsyncSqliteSaver(SqliteSaver):
    """A checkpoint saver backed by SQLite with async methods (aget_tuple, alist, aput, ...).

    The sync methods work too, from any thread; called on the event loop's thread they block
    it, so prefer the async ones there.

    Args:
        conn: an open connection, opened with `check_same_thread=False` (the worker thread
            uses it) and preferably `isolation_level=None`.
        serde: the serializer of channel values, writes and metadata (default msgpack).
    """

    def __init__(
        self, conn: sqlite3.Connection, *, serde: SerializerProtocol | None = None
    ) -> None:
        super().__init__(conn, serde=serde)
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(  # type: ignore[override]
        cls, conn_string: str, *, serde: SerializerProtocol | None = None
    ) -> AsyncIterator[AsyncSqliteSaver]:
        """A saver on the database file at `conn_string` (":memory:" allowed), whose connection
        and worker thread are closed when the `async with` block ends.

        Args:
            conn_string: a file path, or ":memory:".
            serde: the serializer to use (default msgpack).

        Yields:
            The saver, already set up.
        """
        saver = cls(connect(conn_string), serde=serde)
        try:
            await saver.asetup()
            yield saver
        finally:
            await saver._run(saver.conn.close)
            saver._shutdown()

    def _shutdown(self) -> None:
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    async def _run(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="hitlgraph-sqlite"
                )
            executor = self._executor
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))

    async def asetup(self) -> None:
        """Configure the connection and create or migrate the tables (see `setup`)."""
        await self._run(self.setup)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint tuple `config` points at (see `SqliteSaver.get_tuple`)."""
        return await self._run(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first, read page by page (see `SqliteSaver.list`)."""
        cursor = _sql.list_cursor(config, filter=filter, before=before, limit=limit)
        while cursor is not None:
            items, cursor = await self._run(self._list_page, cursor)
            for item in items:
                yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint (see `SqliteSaver.put`).

        Raises:
            CheckpointConflictError: WriteRules.expected_latest was given and the latest is
                another one.
        """
        return await self._run(self.put, config, checkpoint, metadata, new_versions)

    async def aput_step(
        self,
        writes: Sequence[PendingWritesCall],
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """A finished step's writes and checkpoint in one transaction (see
        `SqliteSaver.put_step`)."""
        return await self._run(self.put_step, writes, config, checkpoint, metadata,
                               new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store the writes of one task (see `SqliteSaver.put_writes`)."""
        await self._run(self.put_writes, config, writes, task_id, task_path)

    async def arewind(self, config: RunnableConfig,
                      pending_writes: Sequence[PendingWrite]) -> None:
        """Make config's checkpoint the thread's latest again (see SqliteSaver.rewind)."""
        await self._run(self.rewind, config, pending_writes)

    async def aadvance_fence(self, key: str) -> int:
        """A new token for `key` (see SqliteSaver.advance_fence)."""
        return await self._run(self.advance_fence, key)

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of a thread."""
        await self._run(self.delete_thread, thread_id)

    async def aprune(self, thread_id: str, *, keep_last: int = 1) -> None:
        """Keep only the newest `keep_last` checkpoints of each namespace of a thread."""
        await self._run(self.prune, thread_id, keep_last=keep_last)
