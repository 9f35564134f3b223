"""SqliteStore: the store in a SQLite file.

Every write is one `BEGIN IMMEDIATE` transaction (a run is claimed by exactly one worker of
any process), in WAL mode with synchronous=NORMAL, so several server processes can share the
file. A write and a point read (a run or a thread by its key, whether anything is claimable)
run on the event loop itself, on a connection that never waits for a lock: a transaction
that finds the file free takes tens of microseconds, less than the hop to a thread and back
(and the GIL hand-over each way), and a server makes several per request. One that finds
the file locked (another process writing, or this one's write thread) goes to a thread
whose connection waits for the lock with a busy timeout: writes to one, reads to another,
so a read never queues behind a write waiting for the lock. The server's checkpointer runs
its loop calls on the same loop connection (`loop_connection`, _loop_conn.py). Changes made
by other processes reach this one's waiters through a watcher (`listen`, `_watch.py`).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from hitlgraph.checkpoint.sqlite import STATEMENT_CACHE
from hitlgraph.server.store._dialect import Params
from hitlgraph.server.store._loop_conn import LoopConnection
from hitlgraph.server.store._ops import Op, Rows, drive
from hitlgraph.server.store._records import StoreUnavailable
from hitlgraph.server.store._sqlite_sql import SQLITE
from hitlgraph.server.store._watch import WATCH_SECONDS, ChangeWatcher
from hitlgraph.server.store.base import Store

__all__ = ["SqliteStore", "unavailable"]

_T = TypeVar("_T")
_BUSY_TIMEOUT_S = 30.0
_UNAVAILABLE = ("locked", "busy", "disk i/o error", "unable to open", "disk is full")
"""What SQLite says when the file cannot be used right now (as opposed to a bad statement)."""
_LOCKED = ("locked", "busy")
"""What SQLite says when another connection holds the lock a statement needs."""


class _Lane:
    """One connection and the one thread that uses it."""

    def __init__(self, path: str, name: str, origin: str) -> None:
        self.path = path
        self.origin = origin
        self.conn: sqlite3.Connection | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def connection(self) -> sqlite3.Connection:
        if self.conn is None:
            self.conn = _connect(self.path, _BUSY_TIMEOUT_S, self.origin)
            self.conn.execute("PRAGMA journal_mode=WAL")
        return self.conn

    async def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, functools.partial(fn, *args))
        except sqlite3.OperationalError as exc:
            raise unavailable(exc) from exc

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
        self._loop: LoopConnection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection writes go through."""
        return self._writer.connection()

    def _in_transaction(self, op: Op[_T]) -> _T:
        conn = self._writer.connection()
        conn.execute("BEGIN IMMEDIATE")
        return _finish(conn, op)

    def _outside_transaction(self, op: Op[_T]) -> _T:
        return drive(op, SQLITE, _executor(self._reader.connection()))

    async def _read(self, op: Op[_T]) -> _T:
        return await self._reader.call(self._outside_transaction, op)

    async def _point_read(self, make: Callable[[], Op[_T]]) -> _T:
        loop = self.loop_connection()
        conn = loop.take() if loop is not None else None  # (":memory:": the writer's thread)
        if loop is not None and conn is not None:
            try:
                return drive(make(), SQLITE, _executor(conn))
            except sqlite3.OperationalError as exc:
                if not any(word in str(exc).lower() for word in _UNAVAILABLE):
                    raise
            finally:
                loop.release()
        # The read thread's connection waits for a lock, and says when the file is unusable.
        return await self._read(make())

    def loop_connection(self) -> LoopConnection | None:
        """The connection this store uses on the event loop, which the server's
        checkpointer shares (see _loop_conn.py); None for ":memory:" (one connection, on
        the writer's thread)."""
        if self._loop is None and self.path != ":memory:":
            # (WAL mode is the file's, set by the writer's connection at setup.)
            self._loop = LoopConnection(_connect(self.path, 0, self.origin), self.path,
                                        "hitlgraph-store-wal", waits=False)
        return self._loop

    def _inline_connection(self) -> sqlite3.Connection:
        loop = self.loop_connection()
        assert loop is not None, "a private in-memory database has no loop connection"
        return loop.conn

    async def _write(self, op: Op[_T]) -> _T:
        loop = self.loop_connection()
        conn = loop.take() if loop is not None else None
        if loop is not None and conn is not None:
            try:
                return self._write_here(conn, loop, op)
            except _FileLocked:
                pass
            finally:
                loop.release()
        # Locked: the write thread's connection waits for the lock (up to its busy timeout).
        return await self._writer.call(self._in_transaction, op)

    @staticmethod
    def _write_here(conn: sqlite3.Connection, loop: LoopConnection, op: Op[_T]) -> _T:
        """`op` in a transaction on the loop connection (raises _FileLocked when another
        connection holds the file's write lock)."""
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if any(word in str(exc).lower() for word in _LOCKED):
                raise _FileLocked from exc
            raise unavailable(exc) from exc
        try:
            result = _finish(conn, op)
        except sqlite3.OperationalError as exc:
            raise unavailable(exc) from exc
        loop.wal.committed()
        return result

    async def listen(self, wake: Callable[[str], None]) -> None:
        """Call `wake(key)` for each change another process (or another store on the same
        file) makes, until cancelled: the `Notifier` of SQLite (see `_watch.py`)."""
        if self.path == ":memory:":  # no other process can open it
            await asyncio.get_running_loop().create_future()
        await ChangeWatcher(self.path, self.origin, self.watch_seconds).listen(wake)

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None
        await self._writer.close()
        if self._reader is not self._writer:
            await self._reader.close()


def _connect(path: str, timeout: float, origin: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any thread
    (one at a time), whose writes are stamped with `origin` (see `listen`)."""
    conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False,
                           isolation_level=None, cached_statements=STATEMENT_CACHE)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.create_function("hg_origin", 0, lambda: origin)
    return conn


def _finish(conn: sqlite3.Connection, op: Op[_T]) -> _T:
    """Run `op` in the transaction `conn` has begun, and commit it (roll it back on error)."""
    try:
        result = drive(op, SQLITE, _executor(conn))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


class _FileLocked(Exception):
    """Another connection held the file's write lock: for the write thread."""


def unavailable(exc: sqlite3.OperationalError) -> Exception:
    """StoreUnavailable for a file that cannot be used now; `exc` itself otherwise."""
    if any(word in str(exc).lower() for word in _UNAVAILABLE):
        return StoreUnavailable(f"The database file cannot be used now ({exc}).")
    return exc


def _executor(conn: sqlite3.Connection) -> Callable[[str, Params], Rows]:
    def execute(sql: str, params: Params) -> Rows:
        return conn.execute(sql, params).fetchall()
    return execute
