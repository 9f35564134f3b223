"""AsyncPostgresSaver: PostgresSaver for asyncio programs, on psycopg's async connections.

Example:
    >>> from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    >>> DSN = "postgresql://me@localhost:5432/app"
    >>> async with AsyncPostgresSaver.from_conn_string(DSN) as saver:  # doctest: +SKIP
    ...     graph = builder.compile(checkpointer=saver)

The sync methods (get_tuple, put, ...) also work, from any thread but the event loop's: they
run the async ones on the loop the saver was first used on and wait for the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from psycopg import AsyncConnection, AsyncCursor, IsolationLevel
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

from hitlgraph.checkpoint._delta import DeltaEncoder
from hitlgraph.checkpoint._rows import ListCursor, ListPage, check_keep_last
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
from hitlgraph.checkpoint.postgres import _sql
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["AsyncPostgresSaver"]

_T = TypeVar("_T")


async def configure_connection(conn: AsyncConnection[Any]) -> None:
    """What the pool of `from_conn_string` does to each new connection (see the sync one)."""
    await conn.set_isolation_level(IsolationLevel.READ_COMMITTED)


async def drive(cursor: AsyncCursor[Any], ops: _sql.Ops[_T], *, standalone: bool = False) -> _T:
    """Run an operation of `_sql` on an async cursor: each statement, its rows sent back in.
    `standalone`: the cursor's connection is in autocommit mode and the operation's batches
    marked `transaction` bring their own BEGIN and COMMIT."""
    try:
        statement = next(ops)
        while True:
            if isinstance(statement, _sql.Batch):
                own = standalone and statement.transaction
                statement = ops.send(await _pipeline(cursor, statement, own=own))
                continue
            await cursor.execute(statement.sql, statement.params or None)
            rows = await cursor.fetchall() if cursor.description is not None else None
            statement = ops.send(rows)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def _pipeline(cursor: AsyncCursor[Any], batch: _sql.Batch, *, own: bool = False
                    ) -> list[_sql.Rows | None]:
    """A batch's statements in one pipeline (one round trip), each with a cursor of its own;
    with `own`, between a BEGIN and a COMMIT sent in the same pipeline."""
    conn = cursor.connection
    cursors = [conn.cursor(binary=True) for _ in batch.statements]
    try:
        async with conn.pipeline():
            if own:
                await cursor.execute(_sql.BEGIN)
            for one, statement in zip(cursors, batch.statements, strict=True):
                await one.execute(statement.sql, statement.params or None)
            if own:
                await cursor.execute("COMMIT")
    except BaseException:
        if own and conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()
        raise
    results: list[_sql.Rows | None] = []
    for one in cursors:
        results.append(await one.fetchall() if one.description is not None else None)
        await one.close()
    return results


class AsyncPostgresSaver(BaseCheckpointSaver):
    """A checkpoint saver backed by PostgreSQL with async methods (aget_tuple, alist, aput, ...).

    Args:
        conn: a `psycopg_pool.AsyncConnectionPool` (each operation borrows a connection) or one
            `psycopg.AsyncConnection` (operations take turns on it). Autocommit connections
            are expected; see `hitlgraph.checkpoint.postgres`.
        serde: the serializer of channel values, writes and metadata (default msgpack).

    The schema is created (or migrated) by `asetup()`, which the first use calls if needed.
    """

    conn: AsyncConnection[Any] | AsyncConnectionPool[Any]

    def __init__(
        self,
        conn: AsyncConnection[Any] | AsyncConnectionPool[Any],
        *,
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.is_setup = False
        self.deltas = DeltaEncoder()
        """Stores a list that grew by appending as its new items (see checkpoint._delta)."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._setup_lock: asyncio.Lock | None = None

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        serde: SerializerProtocol | None = None,
        max_size: int = 10,
    ) -> AsyncIterator[AsyncPostgresSaver]:
        """A saver on a pool of connections to `conn_string`, closed when the block ends.

        Args:
            conn_string: a libpq connection string or URL (postgresql://user@host:port/db).
            serde: the serializer to use (default msgpack).
            max_size: the most connections the pool opens at once.

        Yields:
            The saver, already set up.
        """
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            conn_string,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            configure=configure_connection,
            open=False,
        )
        await pool.open(wait=True)
        try:
            saver = cls(pool, serde=serde)
            await saver.asetup()
            yield saver
        finally:
            await pool.close()

    def _bind(self) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self._lock = asyncio.Lock()
            self._setup_lock = asyncio.Lock()

    async def _run(self, ops: _sql.Ops[_T], *, write: bool, standalone: bool = False) -> _T:
        self._bind()
        if isinstance(self.conn, AsyncConnectionPool):
            async with self.conn.connection() as conn:
                return await self._run_on(conn, ops, write=write, standalone=standalone)
        assert self._lock is not None
        async with self._lock:
            return await self._run_on(self.conn, ops, write=write, standalone=standalone)

    @staticmethod
    async def _run_on(conn: AsyncConnection[Any], ops: _sql.Ops[_T], *, write: bool,
                      standalone: bool = False) -> _T:
        if conn.autocommit and (not write or standalone):
            async with conn.cursor(binary=True) as cursor:
                return await drive(cursor, ops, standalone=standalone)
        async with conn.transaction(), conn.cursor(binary=True) as cursor:
            if write and conn.isolation_level != IsolationLevel.READ_COMMITTED:
                await cursor.execute(_sql.READ_COMMITTED)
            return await drive(cursor, ops)

    async def asetup(self) -> None:
        """Create or migrate the tables. Idempotent; safe from several processes at once."""
        self._bind()
        assert self._setup_lock is not None
        async with self._setup_lock:
            if self.is_setup:
                return
            if await self._run(_sql.schema_version(), write=False) < len(_sql.MIGRATIONS) - 1:
                await self._run(_sql.migrate(), write=True)
            self.is_setup = True

    async def _ensure_setup(self) -> None:
        if not self.is_setup:
            await self.asetup()

    # -- async ---------------------------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint tuple `config` points at (see `PostgresSaver.get_tuple`)."""
        await self._ensure_setup()
        return await self._run(_sql.get_tuple(self.serde, config), write=False)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first, read page by page (see `PostgresSaver.list`)."""
        cursor = _sql.list_cursor(config, filter=filter, before=before, limit=limit)
        while cursor is not None:
            items, cursor = await self._list_page(cursor)
            for item in items:
                yield item

    async def _list_page(self, cursor: ListCursor) -> ListPage:
        await self._ensure_setup()
        return await self._run(_sql.list_page(self.serde, cursor), write=False)

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint (see `PostgresSaver.put`).

        Raises:
            CheckpointConflictError: WriteRules.expected_latest was given and the latest is
                another one.
        """
        encoded = _sql.encode_put(self.serde, config, checkpoint, metadata, new_versions,
                                  self.deltas)
        await self._ensure_setup()
        return await self._run(_sql.put(encoded), write=True, standalone=True)

    async def aput_step(
        self,
        writes: Sequence[PendingWritesCall],
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """A finished step's writes and checkpoint in one transaction."""
        encoded_writes = [_sql.encode_writes(self.serde, *call) for call in writes]
        encoded = _sql.encode_put(self.serde, config, checkpoint, metadata, new_versions,
                                  self.deltas)
        await self._ensure_setup()
        return await self._run(_sql.put_step(encoded_writes, encoded), write=True,
                               standalone=_sql.put_step_standalone(encoded_writes, encoded))

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store the writes of one task (see `PostgresSaver.put_writes`)."""
        encoded = _sql.encode_writes(self.serde, config, writes, task_id, task_path)
        if not encoded.groups and encoded.expected is None:
            return
        await self._ensure_setup()
        await self._run(_sql.put_writes(encoded), write=True)

    async def arewind(self, config: RunnableConfig,
                      pending_writes: Sequence[PendingWrite]) -> None:
        """Make config's checkpoint the thread's latest again (see PostgresSaver.rewind)."""
        await self._ensure_setup()
        await self._run(_sql.rewind(self.serde, config, pending_writes), write=True)
        self.deltas.forget_thread(str(config["configurable"]["thread_id"]))

    async def aadvance_fence(self, key: str) -> int:
        """A new token for `key` (see PostgresSaver.advance_fence)."""
        await self._ensure_setup()
        return await self._run(_sql.advance_fence(key), write=True)

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of a thread."""
        await self._ensure_setup()
        await self._run(_sql.delete_thread(thread_id), write=True)
        self.deltas.forget_thread(thread_id)

    async def aprune(self, thread_id: str, *, keep_last: int = 1) -> None:
        """Keep only the newest `keep_last` checkpoints of each namespace of a thread."""
        check_keep_last(keep_last)
        await self._ensure_setup()
        await self._run(_sql.prune(thread_id, keep_last), write=True)
        self.deltas.forget_thread(thread_id)

    # -- sync: the async methods on the saver's loop, from another thread ----------------------

    def _wait(self, coro: Coroutine[Any, Any, _T]) -> _T:
        loop = self.loop
        if loop is None or loop.is_closed():
            coro.close()
            raise RuntimeError(
                "AsyncPostgresSaver's sync methods run on the event loop the saver was first "
                "used on, and it has none (or it is closed): use the async methods "
                "(await saver.aget_tuple(...)), or PostgresSaver in sync code."
            )
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError(
                "A sync method of AsyncPostgresSaver was called on its event loop's thread, "
                "where waiting would block the loop forever: use the async method instead "
                "(await saver.aget_tuple(...), graph.ainvoke(...))."
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def setup(self) -> None:
        """`asetup()` from another thread."""
        self._wait(self.asetup())

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """`aget_tuple()` from another thread."""
        return self._wait(self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """`alist()` from another thread, page by page."""
        cursor = _sql.list_cursor(config, filter=filter, before=before, limit=limit)
        while cursor is not None:
            items, cursor = self._wait(self._list_page(cursor))
            yield from items

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """`aput()` from another thread."""
        return self._wait(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """`aput_writes()` from another thread."""
        self._wait(self.aput_writes(config, writes, task_id, task_path))

    def rewind(self, config: RunnableConfig, pending_writes: Sequence[PendingWrite]) -> None:
        """`arewind()` from another thread."""
        self._wait(self.arewind(config, pending_writes))

    def advance_fence(self, key: str) -> int:
        """`aadvance_fence()` from another thread."""
        return self._wait(self.aadvance_fence(key))

    def delete_thread(self, thread_id: str) -> None:
        """`adelete_thread()` from another thread."""
        self._wait(self.adelete_thread(thread_id))

    def prune(self, thread_id: str, *, keep_last: int = 1) -> None:
        """`aprune()` from another thread."""
        self._wait(self.aprune(thread_id, keep_last=keep_last))
