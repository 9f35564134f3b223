"""The connection a server process uses on its event loop for one SQLite file.

The store's loop writes and point reads and the checkpointer's loop calls (LoopSqliteSaver)
share it: two connections used in turn on one file cost more than one, since a commit on
either makes the other drop its page cache and read its pages again at its next
transaction (about a hundred reads of the file a request).

The checkpointer also runs calls on its own thread, on this same connection, when the file
was locked: the lock here keeps the two apart. A user on the loop only ever tries it
(`take`); when it is held, or a transaction is open on the connection, that user goes to
its own thread instead, as it does when the file is locked. The busy timeout is 0 while
the loop uses the connection (a locked file must fail at once, not stall the loop) and the
checkpointer's own off the loop; it is set only when the side changes.

Its commits checkpoint no write-ahead log: `wal` does, on a thread of its own (_wal.py),
counting the commits of every user.
"""

from __future__ import annotations

import sqlite3
import threading

from hitlgraph.server.store._wal import WalCheckpoints, no_autocheckpoint

__all__ = ["LoopConnection"]


class LoopConnection:
    """`conn`, its lock, the side its busy timeout is set for, and its log's checkpoints.

    Args:
        conn: the connection (in autocommit mode, usable from any thread).
        path: its database file (for `wal`).
        name: the name of the thread WAL checkpoints run on.
        waits: whether the connection's busy timeout is a thread's (else 0) now.
    """

    def __init__(self, conn: sqlite3.Connection, path: str, name: str, *,
                 waits: bool) -> None:
        self.conn = conn
        self.lock = threading.RLock()
        self.waits = waits
        self.wal = WalCheckpoints(path, name, conn)
        no_autocheckpoint(conn)

    def take(self, *, joins: bool = False) -> sqlite3.Connection | None:
        """The connection, with its busy timeout 0 and the lock held (give it back with
        `release`); None when another thread holds the lock, or when a transaction is open
        on it (one this thread began: the saver's `batch`) unless the caller `joins` it."""
        if not self.lock.acquire(blocking=False):
            return None
        conn = self.conn
        try:
            if conn.in_transaction and not joins:
                self.lock.release()
                return None
            if self.waits:
                conn.execute("PRAGMA busy_timeout = 0")
                self.waits = False
        except BaseException:
            self.lock.release()
            raise
        return conn

    def release(self) -> None:
        """Give back what `take` returned."""
        self.lock.release()

    def wait_for_locks(self, timeout_ms: int) -> None:
        """Give the connection a busy timeout of `timeout_ms` for a use off the loop (the
        caller holds the lock)."""
        if not self.waits:
            self.conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            self.waits = True

    def close(self) -> None:
        """Wait for a WAL checkpoint running and close the connection (its owner's call)."""
        self.wal.close()
        with self.lock:
            self.conn.close()
