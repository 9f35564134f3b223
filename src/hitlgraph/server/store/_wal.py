"""Checkpoints of a SQLite file's write-ahead log, off the event loop.

SQLite copies the log back into the database file (a WAL checkpoint, with an fsync) inside the
commit that grows the log past 1,000 pages: on the server, a commit made on the event loop,
which then stalls every request for the copy (tens of milliseconds every few dozen requests;
a round of the bench's create and resume writes about 90 pages). The server's loop
connections turn that off (`PRAGMA wal_autocheckpoint=0`) and count their commits instead;
every CHECK_EVERY commits a `WalCheckpoints` looks at the log's size, and past LOG_LIMIT it
runs the same PASSIVE checkpoint on a thread and connection of its own. PASSIVE waits for no
reader or writer, as the automatic one; a commit is as durable as before (the log holds it
either way, synced as `synchronous` says).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final

__all__ = ["CHECK_EVERY", "LOG_LIMIT", "WalCheckpoints", "no_autocheckpoint"]

log = logging.getLogger("hitlgraph.server")

CHECK_EVERY: Final = 32
"""Commits between two looks at the log's size (a stat of the -wal file)."""
LOG_LIMIT: Final = 4 * 1024 * 1024
"""The log's size past which a checkpoint runs: about SQLite's automatic 1,000 pages."""


def no_autocheckpoint(conn: sqlite3.Connection) -> None:
    """No checkpoint inside this connection's commits (a `WalCheckpoints` runs them)."""
    conn.execute("PRAGMA wal_autocheckpoint=0")


class WalCheckpoints:
    """Runs the checkpoints of the file at `path` that its owner's commits call for.

    Args:
        path: the database file (":memory:" has no log: nothing is done).
        name: the name of the thread checkpoints run on.
    """

    def __init__(self, path: str, name: str) -> None:
        self.path = path
        self.name = name
        self._commits = 0
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._running: Future[None] | None = None

    def committed(self) -> None:
        """Count a commit; start a checkpoint when the log has grown past LOG_LIMIT."""
        self._commits += 1
        if self._commits < CHECK_EVERY or self.path == ":memory:":
            return
        self._commits = 0
        if self._running is not None and not self._running.done():
            return
        try:
            size = os.stat(self.path + "-wal").st_size
        except OSError:
            return
        if size >= LOG_LIMIT:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1,
                                                    thread_name_prefix=self.name)
            self._running = self._executor.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, timeout=0, isolation_level=None,
                                             check_same_thread=False)
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # (the next look tries again)
            log.debug("WAL checkpoint of %s failed: %s", self.path, exc)

    def close(self) -> None:
        """Wait for a checkpoint running, and release the thread and connection."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(self._close_conn)
            executor.shutdown(wait=True)

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
