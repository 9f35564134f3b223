"""PostgresStore: the store in PostgreSQL (psycopg 3), shared by many processes.

Search by namespace and filter works as on the other stores. Similarity search does not:
it would need the pgvector extension, which hitlgraph does not use yet, so a store given an
`index` refuses at setup() with NotImplementedError saying so; use SqliteStore or
InMemoryStore when you need it.

Example:
    >>> from hitlgraph.store.postgres import PostgresStore
    >>> with PostgresStore.from_conn_string(DSN) as store:  # doctest: +SKIP
    ...     store.put(("users", "u1"), "prefs", {"tone": "short"})
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hitlgraph._install import install_command

try:
    import psycopg
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "hitlgraph.store.postgres needs psycopg 3 and psycopg-pool, which the `postgres` "
        f"extra installs: {install_command('postgres')} ({exc})"
    ) from exc

from hitlgraph.store import _sql_ops
from hitlgraph.store._dialect import PostgresDialect
from hitlgraph.store._shell import SqlStore
from hitlgraph.store._types import IndexConfig, TTLConfig

__all__ = ["PostgresStore", "index_refusal"]


def index_refusal() -> NotImplementedError:
    """The error of a PostgreSQL store given an index."""
    return NotImplementedError(
        "PostgresStore(index=...) cannot do similarity search: on PostgreSQL it needs the "
        "pgvector extension, which hitlgraph's store does not use yet. Leave index out "
        "(search by namespace and filter works), or use SqliteStore or InMemoryStore for "
        "similarity search.")


class PostgresStore(SqlStore):
    """A store in a PostgreSQL database.

    Args:
        conn: a psycopg Connection (used under a lock) or ConnectionPool.
        index: must be None (see the module docstring).
        ttl: default TTL and refresh behaviour (see TTLConfig).
    """

    dialect = PostgresDialect()

    def __init__(self, conn: psycopg.Connection[Any] | ConnectionPool[Any], *,
                 index: IndexConfig | None = None, ttl: TTLConfig | None = None) -> None:
        super().__init__(index=index, ttl=ttl)
        self.conn = conn
        self._lock = threading.Lock()

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str, *, index: IndexConfig | None = None,
                         ttl: TTLConfig | None = None, max_size: int = 5
                         ) -> Iterator[PostgresStore]:
        """A store on a pool of up to `max_size` connections to `conn_string`, set up,
        closed when the `with` block ends."""
        with ConnectionPool(conn_string, min_size=1, max_size=max_size,
                            kwargs={"autocommit": True}) as pool:
            store = cls(pool, index=index, ttl=ttl)
            store.setup()
            yield store

    def setup(self) -> None:
        """Create or migrate the tables (see SqlStore.setup).

        Raises:
            NotImplementedError: the store was given an index.
        """
        if self.index_config:
            raise index_refusal()
        super().setup()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self.conn, ConnectionPool):
            with self.conn.connection() as conn:
                yield conn
        else:
            with self._lock:
                yield self.conn

    def _drive(self, ops: _sql_ops.Ops) -> Any:
        with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
            return _sql_ops.drive(ops, cur)

    async def _adrive(self, ops: _sql_ops.Ops) -> Any:
        return await asyncio.to_thread(self._drive, ops)
