"""SqliteStore: the store in a SQLite file.

Writes run on one dedicated thread with one connection, reads on another (a read never
queues behind a write waiting for the file's lock), in WAL mode with a busy timeout, so
several server processes can share the file. A point read (a run or a thread by its key,
whether anything is claimable) runs on the event loop itself, on a connection that never
waits for a lock: it takes tens of microseconds, less than the hop to a thread and back,
and a server makes several per request; one that finds the file busy goes to the read
thread. Every write is one `BEGIN IMMEDIATE`
transaction: a run is claimed by exactly one worker of any process. Changes made by other
processes reach this one's waiters through a watcher (`listen`, `_watch.py`).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from hitlgraph.server.store._dialect import Params
from hitlgraph.server.store._ops import Op, Rows, drive
from hitlgraph.server.store._records import StoreUnavailable
from hitlgraph.server.store._sqlite_sql import SQLITE
from hitlgraph.server.store._watch import WATCH_SECONDS, ChangeWatcher
from hitlgraph.server.store.base import Store

__all__ = ["SqliteStore"]

_T = TypeVar("_T")
_BUSY_TIMEOUT_S = 30.0
_UNAVAILABLE = ("locked", "busy", "disk i/o error", "unable to open", "disk is full")
"""What SQLite says when the file cannot be used right now (as opposed to a bad statement)."""


class _Lane:
    """One connection and the one thread that uses it."""

    def __init__(self, path: str, name: str, origin: str) -> None:
        self.path = path
        self.origin = origin
        self.conn: sqlite3.Connection | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def connection(self) -> sqlite3.Connection:
        if self.conn is None:
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, check_same_thread=False,
                                   isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            origin = self.origin
            conn.create_function("hg_origin", 0, lambda: origin)
            self.conn = conn
        return self.conn

    async def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, functools.partial(fn, *args))
        except sqlite3.OperationalError as exc:
            if any(word in str(exc).lower() for word in _UNAVAILABLE):
                raise StoreUnavailable(f"The database file cannot be used now ({exc}).") from exc
            raise

    async def close(self) -> None:
        def _close() -> None:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
        await self.call(_close)
        self.executor.shutdown(wait=True)


class SqliteStore(Store):
    """The store on the SQLite file at `path` (":memory:" for a private database).

    Args:
        path: the database file.
        watch_seconds: how often `listen` looks whether another process changed the file.
    """

    dialect = SQLITE

    def __init__(self, path: str, *, watch_seconds: float = WATCH_SECONDS) -> None:
        self.path = path
        self.origin = uuid.uuid4().hex
        """What this store's changes are stamped with, so its watcher skips them."""
        self.watch_seconds = watch_seconds
        self._writer = _Lane(path, "hitlgraph-store", self.origin)
        # A private in-memory database exists on its one connection only.
        self._reader = self._writer if path == ":memory:" else _Lane(
            path, "hitlgraph-store-read", self.origin)
        self._inline: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection writes go through."""
        return self._writer.connection()

    def _in_transaction(self, op: Op[_T]) -> _T:
        conn = self._writer.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = drive(op, SQLITE, _executor(conn))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _outside_transaction(self, op: Op[_T]) -> _T:
        return drive(op, SQLITE, _executor(self._reader.connection()))

    async def _read(self, op: Op[_T]) -> _T:
        return await self._reader.call(self._outside_transaction, op)

    async def _point_read(self, make: Callable[[], Op[_T]]) -> _T:
        if self.path == ":memory:":  # one connection, on the writer's thread
            return await self._read(make())
        try:
            return drive(make(), SQLITE, _executor(self._inline_connection()))
        except sqlite3.OperationalError as exc:
            if not any(word in str(exc).lower() for word in _UNAVAILABLE):
                raise
        # The read thread's connection waits for a lock, and says when the file is unusable.
        return await self._read(make())

    def _inline_connection(self) -> sqlite3.Connection:
        if self._inline is None:
            # (WAL mode is the file's, set by the writer's connection at setup.)
            self._inline = sqlite3.connect(self.path, timeout=0, check_same_thread=False,
                                           isolation_level=None)
        return self._inline

    async def _write(self, op: Op[_T]) -> _T:
        return await self._writer.call(self._in_transaction, op)

    async def listen(self, wake: Callable[[str], None]) -> None:
        """Call `wake(key)` for each change another process (or another store on the same
        file) makes, until cancelled: the `Notifier` of SQLite (see `_watch.py`)."""
        if self.path == ":memory:":  # no other process can open it
            await asyncio.get_running_loop().create_future()
        await ChangeWatcher(self.path, self.origin, self.watch_seconds).listen(wake)

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        await self._writer.close()
        if self._reader is not self._writer:
            await self._reader.close()


def _executor(conn: sqlite3.Connection) -> Callable[[str, Params], Rows]:
    def execute(sql: str, params: Params) -> Rows:
        return conn.execute(sql, params).fetchall()
    return execute
