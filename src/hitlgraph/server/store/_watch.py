"""Wake-ups across processes sharing one SQLite file, which has no NOTIFY of its own.

Each change that would NOTIFY on PostgreSQL is a row of `hg_changes` in SQLite, written in
the same transaction by the store that made it (`_sqlite_sql.SQLITE.notify`), with that
store's origin. A watcher polls `PRAGMA data_version` on a connection of its own every few
milliseconds: it costs a read of the file's shared memory, and changes whenever another
connection (of any process) committed. Only then does the watcher read the rows it has not
seen, and wakes the keys of those other stores made (its own store woke its waiters
already). The table keeps at least its last CHANGES_KEPT rows (a trigger deletes older
ones at every PRUNE_EVERY-th row): a watcher that fell further behind wakes everyone ("*")
instead.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Final

from hitlgraph.server.store._notify import wake_key

__all__ = ["CHANGES_KEPT", "PRUNE_EVERY", "WATCH_SECONDS", "ChangeWatcher"]

log = logging.getLogger("hitlgraph.server")

WATCH_SECONDS: Final = 0.005
"""How often the watcher asks whether the file changed."""
CHANGES_KEPT: Final = 1000
"""Rows of hg_changes kept at least (the trigger of SQLite migrations 5 and 7 says the same
number), and the most one look reads."""
PRUNE_EVERY: Final = 64
"""The trigger deletes the rows older than the last CHANGES_KEPT at every row whose seq is a
multiple of this (migration 7), so between CHANGES_KEPT and CHANGES_KEPT + 63 are kept."""
_RETRY_SECONDS: Final = (0.1, 0.5, 2.0)

Wake = Callable[[list[str]], None]


class ChangeWatcher:
    """Watches the SQLite file at `path` for the changes of stores other than `origin`'s.

    Args:
        path: the database file (a private ":memory:" database has no other process).
        origin: the origin the watching store writes into hg_changes.
        every: seconds between two looks at `PRAGMA data_version`.
    """

    def __init__(self, path: str, origin: str, every: float = WATCH_SECONDS) -> None:
        self.path = path
        self.origin = origin
        self.every = every

    async def listen(self, wake: Callable[[str], None]) -> None:
        """Call `wake(key)` for each change another store commits, until cancelled. The
        polling runs on a thread of its own, so a slow file never holds up the event loop."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        ended: asyncio.Future[None] = loop.create_future()

        def deliver(keys: list[str]) -> None:
            for key in keys:
                wake(key)

        def settle(exc: BaseException | None) -> None:
            if ended.done():
                return
            if exc is not None:
                ended.set_exception(exc)
            else:
                ended.set_result(None)

        def body() -> None:
            error: BaseException | None = None
            try:
                self.watch(stop, lambda keys: _call_soon(loop, deliver, keys))
            except BaseException as exc:  # handed to the awaiting task
                error = exc
            _call_soon(loop, settle, error)

        threading.Thread(target=body, name="hitlgraph-watch", daemon=True).start()
        try:
            await ended
        finally:
            stop.set()

    def watch(self, stop: threading.Event, deliver: Wake) -> None:
        """Poll until `stop` is set, handing each batch of keys to `deliver`; a connection
        that fails is opened again (after a pause), and then everyone is woken."""
        failures = 0
        while not stop.is_set():
            try:
                self._poll(stop, deliver, woken_all=failures > 0)
                return
            except sqlite3.Error as exc:
                delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("watching the database file for other processes' changes failed "
                            "(%s); waiters poll, retrying in %.1fs", exc, delay)
                stop.wait(delay)

    def _poll(self, stop: threading.Event, deliver: Wake, *, woken_all: bool) -> None:
        conn = sqlite3.connect(self.path, timeout=1.0, isolation_level=None,
                               check_same_thread=False)
        try:
            (seen,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM hg_changes").fetchone()
            (version,) = conn.execute("PRAGMA data_version").fetchone()
            if woken_all:
                deliver(["*"])
            while not stop.is_set():
                time.sleep(self.every)  # cheaper than stop.wait(): no lock with a timeout
                (now,) = conn.execute("PRAGMA data_version").fetchone()
                if now != version:
                    seen, complete = self._read(conn, seen, deliver)
                    if complete:  # else: look again at the next poll, changed or not
                        version = now
        finally:
            conn.close()

    def _read(self, conn: sqlite3.Connection, seen: int, deliver: Wake) -> tuple[int, bool]:
        """Wake the keys of the rows after `seen` (at most CHANGES_KEPT of them): the last
        seq read, and whether that was all."""
        rows = conn.execute("SELECT seq, origin, channel, payload FROM hg_changes "
                            "WHERE seq > ? ORDER BY seq LIMIT ?",
                            (seen, CHANGES_KEPT)).fetchall()
        if not rows:
            return seen, True
        keys: dict[str, None] = {}
        if rows[0][0] != seen + 1:
            keys["*"] = None  # rows were deleted before this watcher read them
        for _, origin, channel, payload in rows:
            if origin != self.origin:
                keys[wake_key(channel, payload)] = None
        if keys:
            deliver(list(keys))
        last: int = rows[-1][0]
        return last, len(rows) < CHANGES_KEPT


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: object
               ) -> None:
    """loop.call_soon_threadsafe, ignoring a loop that closed meanwhile (shutdown)."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass
