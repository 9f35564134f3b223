"""The server's SQLite checkpointer: its calls run on the event loop when the file is free.

AsyncSqliteSaver carries every call to a thread of its own and back: two GIL hand-overs and
a wake-up of the loop per call, about ten calls per run, more than the call itself costs on
a local file (a read or a write transaction of a few statements: tens of microseconds). The
server makes these calls from its event loop, so `LoopSqliteSaver` runs a call there, on
the saver's connection, unless something would make the loop wait:

- the saver's thread has calls queued (this one must not pass them) or another thread is
  using the connection (its lock is taken): the call goes to the thread, in order;
- another connection holds the file's write lock (another process, or the server's own
  store): with the busy timeout at 0 the call's BEGIN fails at once, before any of its
  statements ran, and the call goes to the thread, whose connection waits for the lock.

Everything else is AsyncSqliteSaver's: the same transaction per call (`_drive`), the same
connection, the same results. The floor app of bench/bench_server.py writes on its loop too.
"""

from __future__ import annotations

import inspect
import sqlite3
from typing import Any, TypeVar

from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.checkpoint.sqlite import BUSY_TIMEOUT_MS
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

__all__ = ["LoopSqliteSaver"]

_T = TypeVar("_T")
_LOCKED = ("locked", "busy")
"""What SQLite says when another connection holds the lock a statement needs."""


class LoopSqliteSaver(AsyncSqliteSaver):
    """AsyncSqliteSaver whose calls run on the calling event loop when that cannot wait."""

    def __init__(self, conn: sqlite3.Connection, *,
                 serde: SerializerProtocol | None = None) -> None:
        super().__init__(conn, serde=serde)
        self._queued = 0
        """Calls handed to the saver's thread and not yet done."""

    async def _arun(self, call: Call[_T]) -> _T:
        if self._queued == 0 and self.is_setup and self.lock.acquire(blocking=False):
            try:
                return self._here(call)
            except _FileLocked:
                pass
            finally:
                self.lock.release()
        self._queued += 1
        try:
            return await super()._arun(call)
        finally:
            self._queued -= 1

    def _here(self, call: Call[_T]) -> _T:
        """`call`'s result, run on this thread without waiting for a lock.

        Raises:
            _FileLocked: the file was locked before any of its statements ran.
        """
        conn = self.conn
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            return self._drive(call)
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:  # (a failed COMMIT leaves it open)
                conn.rollback()
            if not _locked(exc) or not _unstarted(call.ops):
                raise
            raise _FileLocked from exc
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")


class _FileLocked(Exception):
    """A call that found the file locked before it began: for the saver's thread."""


def _locked(exc: sqlite3.OperationalError) -> bool:
    return any(word in str(exc).lower() for word in _LOCKED)


def _unstarted(ops: Any) -> bool:
    """Whether none of an operation's statements was sent yet (so it can go elsewhere)."""
    return inspect.isgenerator(ops) and (
        inspect.getgeneratorstate(ops) == inspect.GEN_CREATED)
