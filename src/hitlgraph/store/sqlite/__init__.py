"""SqliteStore: the store in a SQLite file, next to (or inside) the checkpoints' one.

Similarity search ranks in Python: SQLite has no vector index here, so a query compares the
query's vector with those of at most `SEARCH_CANDIDATES` (10,000) items, the most recently
updated under the namespace that pass the filter. That suits memories per user or per
assistant, not millions of embedded documents under one namespace.

Example:
    >>> from hitlgraph.store.sqlite import SqliteStore
    >>> with SqliteStore.from_conn_string(":memory:") as store:
    ...     store.put(("users", "u1"), "prefs", {"tone": "short"}, ttl=60 * 24)
    ...     store.get(("users", "u1"), "prefs").value
    {'tone': 'short'}
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hitlgraph.store import _sql_ops
from hitlgraph.store._dialect import SqliteDialect
from hitlgraph.store._shell import SqlStore
from hitlgraph.store._sql_ops import SEARCH_CANDIDATES
from hitlgraph.store._types import IndexConfig, TTLConfig

__all__ = ["SEARCH_CANDIDATES", "SqliteStore", "connect"]

BUSY_TIMEOUT_S = 30.0
"""How long a connection waits for another writer's lock."""


def connect(path: str) -> sqlite3.Connection:
    """A connection as the store wants it: usable from any thread, autocommit (the store
    opens its own transactions), in WAL mode for a file."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False,
                           isolation_level=None)
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL").fetchall()
    return conn


class SqliteStore(SqlStore):
    """A store in a SQLite database, usable from any thread.

    Args:
        conn: an open connection (`connect(path)` makes a suitable one); opened elsewhere,
            it needs `check_same_thread=False` to be used from other threads.
        index: similarity search settings (see IndexConfig and the module docstring).
        ttl: default TTL and refresh behaviour (see TTLConfig).
    """

    dialect = SqliteDialect()
    conn: sqlite3.Connection

    def __init__(self, conn: sqlite3.Connection, *, index: IndexConfig | None = None,
                 ttl: TTLConfig | None = None) -> None:
        super().__init__(conn, index=index, ttl=ttl)
        self._lock = threading.Lock()

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str, *, index: IndexConfig | None = None,
                         ttl: TTLConfig | None = None) -> Iterator[SqliteStore]:
        """A store on the file at `conn_string` (":memory:" allowed), set up, whose
        connection closes when the `with` block ends."""
        conn = connect(conn_string)
        try:
            store = cls(conn, index=index, ttl=ttl)
            store.setup()
            yield store
        finally:
            conn.close()

    def _drive(self, ops: _sql_ops.Ops) -> Any:
        with self._lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                result = _sql_ops.drive(ops, cur)
                cur.execute("COMMIT")
                return result
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    async def _adrive(self, ops: _sql_ops.Ops) -> Any:
        return await asyncio.to_thread(self._drive, ops)
