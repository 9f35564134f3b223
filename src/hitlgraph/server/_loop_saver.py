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

Its commits checkpoint no write-ahead log: a `WalCheckpoints` does, on a thread of its own
(see server/store/_wal.py), so that the copy never stalls the loop inside a call.

The connection's busy timeout is 0 while calls run on the loop and the saver's own (30 s)
while they run anywhere else: it is set only when a call runs on the other side from the
one before (a PRAGMA each way around every call would be two statements more per call).
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.checkpoint.sqlite import BUSY_TIMEOUT_MS
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.server.store._wal import WalCheckpoints, no_autocheckpoint

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
        self._waits = True
        """Whether the connection's busy timeout is the saver's (else 0, for the loop)."""
        self._wal: WalCheckpoints | None = None
        """Checkpoints the file's log for this saver's commits (made at setup)."""

    def setup(self) -> None:
        with self.lock:
            if self.is_setup:
                return
            super().setup()
            (_, _, path), *_ = self.conn.execute("PRAGMA database_list").fetchall()
            self._wal = WalCheckpoints(path or ":memory:", "hitlgraph-sqlite-wal")
            no_autocheckpoint(self.conn)

    def _shutdown(self) -> None:
        super()._shutdown()
        if self._wal is not None:
            self._wal.close()

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
        if self._waits:
            conn.execute("PRAGMA busy_timeout = 0")
            self._waits = False
        try:
            result = self._drive(call)
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:  # (a failed COMMIT leaves it open)
                conn.rollback()
            if not _locked(exc) or not _unstarted(call.ops):
                raise
            raise _FileLocked from exc
        if call.write and self._wal is not None:
            self._wal.committed()
        return result

    def _wait_for_locks(self) -> None:
        """Give the connection its busy timeout back (the caller holds the lock): every use
        off the loop waits for another connection's lock, as AsyncSqliteSaver's does."""
        if not self._waits:
            self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
            self._waits = True

    def _run(self, call: Call[_T]) -> _T:
        with self.lock:
            self._wait_for_locks()
            return super()._run(call)

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.lock:
            self._wait_for_locks()
            with super().batch():
                yield


class _FileLocked(Exception):
    """A call that found the file locked before it began: for the saver's thread."""


def _locked(exc: sqlite3.OperationalError) -> bool:
    return any(word in str(exc).lower() for word in _LOCKED)


def _unstarted(ops: Any) -> bool:
    """Whether none of an operation's statements was sent yet (so it can go elsewhere)."""
    return inspect.isgenerator(ops) and (
        inspect.getgeneratorstate(ops) == inspect.GEN_CREATED)
