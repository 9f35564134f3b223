"""AsyncSqliteStore: SqliteStore for asyncio programs, with no extra dependency.

Each operation runs on one worker thread of the store, so the event loop never waits on
disk or on another process's lock, and operations run in the order they were awaited.

Example:
    >>> import asyncio
    >>> from hitlgraph.store.sqlite.aio import AsyncSqliteStore
    >>> async def main():
    ...     async with AsyncSqliteStore.from_conn_string(":memory:") as store:
    ...         await store.aput(("users", "u1"), "prefs", {"tone": "short"})
    ...         return (await store.aget(("users", "u1"), "prefs")).value
    >>> asyncio.run(main())
    {'tone': 'short'}
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from hitlgraph.store import _sql_ops
from hitlgraph.store._types import IndexConfig, TTLConfig
from hitlgraph.store.sqlite import SqliteStore, connect

__all__ = ["AsyncSqliteStore"]


class AsyncSqliteStore(SqliteStore):
    """A store in a SQLite database with async methods (aget, aput, asearch, ...); the sync
    ones work too, from any thread.

    Args:
        conn: an open connection made with `check_same_thread=False` (see sqlite.connect).
        index: similarity search settings (see IndexConfig).
        ttl: default TTL and refresh behaviour (see TTLConfig).
    """

    def __init__(self, conn: Any, *, index: IndexConfig | None = None,
                 ttl: TTLConfig | None = None) -> None:
        super().__init__(conn, index=index, ttl=ttl)
        self._executor = ThreadPoolExecutor(max_workers=1,
                                            thread_name_prefix="hitlgraph-store")

    @classmethod
    @asynccontextmanager
    async def from_conn_string(  # type: ignore[override]
            cls, conn_string: str, *, index: IndexConfig | None = None,
            ttl: TTLConfig | None = None) -> AsyncIterator[AsyncSqliteStore]:
        """A store on the file at `conn_string` (":memory:" allowed), set up, whose
        connection and worker thread close when the `async with` block ends."""
        conn = connect(conn_string)
        store = cls(conn, index=index, ttl=ttl)
        try:
            await store.asetup()
            yield store
        finally:
            store._executor.shutdown(wait=True)
            conn.close()

    async def _adrive(self, ops: _sql_ops.Ops) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._drive, ops)
