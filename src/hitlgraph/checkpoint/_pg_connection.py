"""The connection one operation of a PostgreSQL saver or store runs on: both take either a
psycopg Connection, used under a lock, or a ConnectionPool, each operation borrowing one of
its connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool

__all__ = ["BorrowsConnection"]


class BorrowsConnection:
    """`_connection()` for a class that keeps `conn` and `lock`."""

    conn: Connection[Any] | ConnectionPool[Any]
    lock: Any
    """A threading lock (an RLock for a saver, whose setup() also holds it)."""

    @contextmanager
    def _connection(self) -> Iterator[Connection[Any]]:
        """One of the pool's connections, or the one connection while holding `lock`."""
        if isinstance(self.conn, ConnectionPool):
            with self.conn.connection() as conn:
                yield conn
        else:
            with self.lock:
                yield self.conn
