"""AsyncPostgresStore: PostgresStore for asyncio programs, on psycopg's async connections.

Its sync methods work from other threads (they run on the store's event loop and wait);
called on that loop's own thread they would deadlock, so they raise instead.

Example:
    >>> from hitlgraph.store.postgres.aio import AsyncPostgresStore
    >>> async with AsyncPostgresStore.from_conn_string(DSN) as store:  # doctest: +SKIP
    ...     await store.aput(("users", "u1"), "prefs", {"tone": "short"})
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from hitlgraph.store import _sql_ops
from hitlgraph.store._dialect import PostgresDialect
from hitlgraph.store._shell import SqlStore
from hitlgraph.store._types import IndexConfig, TTLConfig
from hitlgraph.store.postgres import _pgvector

__all__ = ["AsyncPostgresStore"]


class AsyncPostgresStore(SqlStore):
    """PostgresStore with async methods (aget, aput, asearch, ...): the same arguments, but
    `conn` is a psycopg AsyncConnection (used under a lock) or AsyncConnectionPool."""

    dialect: PostgresDialect
    conn: AsyncConnection[Any] | AsyncConnectionPool[Any]

    def __init__(self, conn: AsyncConnection[Any] | AsyncConnectionPool[Any], *,
                 index: IndexConfig | None = None, ttl: TTLConfig | None = None
                 ) -> None:
        self.dialect = _pgvector.dialect_for(index)
        super().__init__(conn, index=index, ttl=ttl)
        self._lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(cls, conn_string: str, *,
                               index: IndexConfig | None = None,
                               ttl: TTLConfig | None = None, max_size: int = 5
                               ) -> AsyncIterator[AsyncPostgresStore]:
        """A store on a pool of up to `max_size` connections to `conn_string`, set up,
        closed when the `async with` block ends."""
        async with AsyncConnectionPool(conn_string, min_size=1, max_size=max_size,
                                       kwargs={"autocommit": True}, open=False) as pool:
            store = cls(pool, index=index, ttl=ttl)
            await store.asetup()
            yield store

    def _migrate(self) -> _sql_ops.Ops:
        """See PostgresStore._migrate."""
        return _pgvector.migrate(self.dialect)

    async def _adrive(self, ops: _sql_ops.Ops) -> Any:
        if isinstance(self.conn, AsyncConnectionPool):
            async with self.conn.connection() as conn:
                return await _run(conn, ops)
        async with self._lock:
            return await _run(self.conn, ops)

    def _drive(self, ops: _sql_ops.Ops) -> Any:
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            raise RuntimeError(
                "AsyncPostgresStore's sync methods were called on its event loop's thread, "
                "where they would wait forever: use the async ones (aget, aput, asearch, ...), "
                "or PostgresStore for sync code.")
        return asyncio.run_coroutine_threadsafe(self._adrive(ops), self.loop).result()


async def _run(conn: AsyncConnection[Any], ops: _sql_ops.Ops) -> Any:
    async with conn.transaction(), conn.cursor() as cur:
        return await _sql_ops.adrive(ops, cur)
