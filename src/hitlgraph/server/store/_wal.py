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

SQLite starts the log over (writes from its beginning again) only when a write transaction
begins on a log that a checkpoint has copied in full. Under a steady load the loop commits
while the thread's checkpoint runs, so that never happens by itself: the log would grow by a
round's pages for ever (200 MB after 20,000 commits), and the file's size would call for a
checkpoint every CHECK_EVERY commits. So once the thread's checkpoint has copied the log it
found, the committing connection copies the few frames committed meanwhile itself (between
two of its transactions: nothing can commit in between on this process's loop), and its next
write transaction starts the log over; `journal_size_limit=0` then cuts the file back, so that its
size again tells how much the log holds.
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
    conn.execute("PRAGMA journal_size_limit=0")  # (the log's file cut back when started over)


class WalCheckpoints:
    """Runs the checkpoints of the file at `path` that its owner's commits call for.

    Args:
        path: the database file (":memory:" has no log: nothing is done).
        name: the name of the thread checkpoints run on.
        committing: the connection whose commits are counted, which copies what was
            committed while the thread's checkpoint ran (None: the log is left to grow
            until a checkpoint finds no commit after it).
    """

    def __init__(self, path: str, name: str,
                 committing: sqlite3.Connection | None = None) -> None:
        self.path = path
        self.name = name
        self.committing = committing
        self._commits = 0
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._running: Future[bool] | None = None

    def committed(self) -> None:
        """Count a commit; start a checkpoint when the log has grown past LOG_LIMIT."""
        self._commits += 1
        running = self._running
        if running is not None and running.done():
            self._running = None
            # (after a checkpoint that failed, the next one, later)
            if running.exception() is None and running.result():
                self._catch_up()
        if self._commits < CHECK_EVERY or self.path == ":memory:":
            return
        self._commits = 0
        if self._running is not None:
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

    def _checkpoint(self) -> bool:
        """Run the checkpoint; whether it copied the whole log as it found it (only then is
        what was committed meanwhile few enough frames to copy on the loop)."""
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, timeout=0, isolation_level=None,
                                             check_same_thread=False)
            ((busy, frames, copied),) = self._conn.execute(
                "PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # (the next look tries again)
            log.debug("WAL checkpoint of %s failed: %s", self.path, exc)
            return False
        return not busy and frames == copied

    def _catch_up(self) -> None:
        """Copy, on the committing connection, the frames committed since the thread's
        checkpoint read the log (so that the next write transaction starts it over)."""
        if self.committing is None or self.committing.in_transaction:
            return
        try:
            self.committing.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # (the log then waits for the next checkpoint)
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
