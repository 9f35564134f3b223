"""SqliteStore: the store in a SQLite file.

Each operation runs on one dedicated thread with one connection, in WAL mode with a busy
timeout, so several server processes can share the file. Every write is one
`BEGIN IMMEDIATE` transaction: a run is claimed by exactly one worker of any process.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from hitlgraph.server.store._dialect import Params
from hitlgraph.server.store._ops import Op, Rows, drive
from hitlgraph.server.store._records import StoreUnavailable
from hitlgraph.server.store._sqlite_sql import SQLITE
from hitlgraph.server.store.base import Store

__all__ = ["SqliteStore"]

_T = TypeVar("_T")
_BUSY_TIMEOUT_S = 30.0
_UNAVAILABLE = ("locked", "busy", "disk i/o error", "unable to open", "disk is full")
"""What SQLite says when the file cannot be used right now (as opposed to a bad statement)."""


class SqliteStore(Store):
    """The store on the SQLite file at `path` (":memory:" for a private database)."""

    dialect = SQLITE

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hitlgraph-store")

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args))
        except sqlite3.OperationalError as exc:
            if any(word in str(exc).lower() for word in _UNAVAILABLE):
                raise StoreUnavailable(f"The database file cannot be used now ({exc}).") from exc
            raise

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, check_same_thread=False,
                                   isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def _execute(self, sql: str, params: Params) -> Rows:
        return self.conn.execute(sql, params).fetchall()

    def _in_transaction(self, op: Op[_T]) -> _T:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = drive(op, SQLITE, self._execute)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def _read(self, op: Op[_T]) -> _T:
        return await self._call(drive, op, SQLITE, self._execute)

    async def _write(self, op: Op[_T]) -> _T:
        return await self._call(self._in_transaction, op)

    async def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        await self._call(_close)
        self._executor.shutdown(wait=True)
