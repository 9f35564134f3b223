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
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from psycopg import AsyncConnection, IsolationLevel
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

from hitlgraph import _faults
from hitlgraph.checkpoint._store import ops, schema
from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.shell import AsyncStore, SyncStore
from hitlgraph.checkpoint._thread_list import AsyncThreads
from hitlgraph.checkpoint.postgres import _wire, pool_settings
from hitlgraph.checkpoint.postgres._sql import BEGIN, DIALECT, READ_COMMITTED
from hitlgraph.checkpoint.postgres._threads import THREAD_SQL
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["AsyncPostgresSaver"]

_T = TypeVar("_T")


async def configure_connection(conn: AsyncConnection[Any]) -> None:
    """What the pool of `from_conn_string` does to each new connection (see the sync one)."""
    await conn.set_isolation_level(IsolationLevel.READ_COMMITTED)


QUEUE_MAX = 256
"""Statements of unread batches (ops.Batch.unread) a driver holds back at most: past this, it
sends them in a round trip of their own (a migration's index backfill queues many)."""


async def drive(conn: AsyncConnection[Any], operation: ops.Ops[_T], *,
                standalone: bool = False, transaction: bool = False) -> _T:
    """Run an operation of `_store` on an async connection in autocommit mode (see the sync
    `drive`; each round trip goes through `_wire`, below psycopg's cursors). `transaction`:
    make it one transaction, its BEGIN sent in the first step's round trip and its COMMIT in
    one round trip with the batches still held back.

    Unread batches wait in `held` for the next step that answers, and go in its pipeline."""
    held: list[ops.Statement] = [ops.Statement(BEGIN)] if transaction else []

    async def execute(step: ops.Step) -> Any:
        if isinstance(step, ops.Batch) and step.unread:
            held.extend(step.statements)
            if len(held) > QUEUE_MAX:
                await _send_held(conn, held)
            return None
        if isinstance(step, ops.Batch) and not (standalone and step.transaction):
            results = await _pipeline(conn, ops.Batch((*held, *step.statements)))
            del held[:]
            return results[len(results) - len(step.statements):]
        if isinstance(step, ops.Statement):
            results = await _pipeline(conn, ops.Batch((*held, step)))
            del held[:]
            return results[-1]
        await _send_held(conn, held)
        if isinstance(step, ops.Batch):
            return await _pipeline(conn, step, own=True)
        statements = tuple(ops.Statement(step.sql, row) for row in step.rows)
        counts = await _pipeline(conn, ops.Batch(statements)) if statements else []
        return sum(max(count, 0) for count in counts if isinstance(count, int))

    result = await ops.arun(operation, execute)
    if transaction:
        if _faults.ARMED:
            _faults.hit("checkpoint.before_commit")
        held.append(ops.Statement("COMMIT"))
    await _send_held(conn, held)
    return result


async def _send_held(conn: AsyncConnection[Any], held: list[ops.Statement]) -> None:
    """Send the held statements (one round trip), and forget them."""
    if held:
        await _pipeline(conn, ops.Batch(tuple(held)))
        del held[:]


async def _pipeline(conn: AsyncConnection[Any], batch: ops.Batch, *, own: bool = False
                    ) -> list[_wire.Reply]:
    """A batch's statements in one round trip; with `own`, between a BEGIN and a COMMIT sent
    in the same round trip (a fault armed before the commit strikes before any is sent)."""
    statements: list[tuple[str, Any]] = [(one.sql, one.params or None)
                                         for one in batch.statements]
    if not own:
        return await _wire.round_trip(conn, statements, binary=True)
    if _faults.ARMED:
        _faults.hit("checkpoint.before_commit")
    try:
        replies = await _wire.round_trip(conn, [(BEGIN, None), *statements, ("COMMIT", None)],
                                         binary=True)
    except BaseException:
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()
        raise
    return replies[1:-1]


async def _one_transaction(conn: AsyncConnection[Any], call: Call[_T]) -> _T:
    """A write's operation in one READ COMMITTED transaction on an autocommit connection, its
    BEGIN sent in the first statement's round trip (psycopg's `transaction()` waits for the
    BEGIN alone, a round trip more per write), its COMMIT in the last's (see drive)."""
    try:
        return await drive(conn, call.ops, transaction=True)
    except BaseException:
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()
        raise


class AsyncPostgresSaver(AsyncThreads, AsyncStore, SyncStore):
    """A checkpoint saver backed by PostgreSQL with async methods (aget_tuple, alist, aput, ...).

    Args:
        conn: a `psycopg_pool.AsyncConnectionPool` (each operation borrows a connection) or one
            `psycopg.AsyncConnection` (operations take turns on it). Autocommit connections
            are expected; see `hitlgraph.checkpoint.postgres`.
        serde: the serializer of channel values, writes and metadata (default msgpack).

    The schema is created (or migrated) by `asetup()`, which the first use calls if needed.
    The sync methods run the async ones on the saver's loop (see the module's documentation).
    """

    dialect = DIALECT
    thread_sql = THREAD_SQL
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
        """A saver on a pool of connections to `conn_string`, closed when the `async with`
        block ends; the arguments are PostgresSaver.from_conn_string's.

        Yields:
            The saver, already set up.
        """
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            conn_string, **pool_settings(max_size, configure_connection))
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

    async def _drive(self, call: Call[_T]) -> _T:
        self._bind()
        if isinstance(self.conn, AsyncConnectionPool):
            async with self.conn.connection() as conn:
                return await self._drive_on(conn, call)
        assert self._lock is not None
        async with self._lock:
            return await self._drive_on(self.conn, call)

    @staticmethod
    async def _drive_on(conn: AsyncConnection[Any], call: Call[_T]) -> _T:
        if conn.autocommit and (not call.write or call.standalone):
            result = await drive(conn, call.ops, standalone=call.standalone)
        elif conn.autocommit:
            result = await _one_transaction(conn, call)
        else:
            async with conn.transaction(), conn.cursor(binary=True) as cursor:
                if call.write and conn.isolation_level != IsolationLevel.READ_COMMITTED:
                    await cursor.execute(READ_COMMITTED)
                result = await drive(conn, call.ops)
                if _faults.ARMED and call.write:
                    _faults.hit("checkpoint.before_commit")
        if _faults.ARMED and call.write:
            _faults.hit("checkpoint.after_commit")
        return result

    async def _arun(self, call: Call[_T]) -> _T:
        if not self.is_setup:
            await self.asetup()
        return await self._drive(call)

    async def asetup(self) -> None:
        """Create or migrate the tables. Idempotent; safe from several processes at once."""
        self._bind()
        assert self._setup_lock is not None
        async with self._setup_lock:
            if self.is_setup:
                return
            if await self._drive(Call(schema.schema_version(DIALECT), write=False)) < (
                    schema.latest_version(DIALECT)):
                await self._drive(Call(schema.migrate(DIALECT, self.serde), write=True))
            self.is_setup = True

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

    def _run(self, call: Call[_T]) -> _T:
        return self._wait(self._arun(call))

    def setup(self) -> None:
        """`asetup()` from another thread."""
        self._wait(self.asetup())
