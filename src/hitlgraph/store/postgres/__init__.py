"""PostgresStore: the store in PostgreSQL (psycopg 3), shared by many processes.

Search by namespace and filter works as on the other stores. Similarity search (a store
given an `index`) needs the pgvector extension on the server; setup() creates it, or says
clearly that the server lacks it. See `_pgvector` for how vectors are stored and ranked.

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

from hitlgraph._install import missing_extra

try:
    import psycopg
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_extra("hitlgraph.store.postgres", "psycopg 3 and psycopg-pool", "postgres",
                        exc) from exc

from hitlgraph.checkpoint._pg_connection import BorrowsConnection
from hitlgraph.store import _sql_ops
from hitlgraph.store._dialect import PostgresDialect
from hitlgraph.store._shell import SqlStore
from hitlgraph.store._types import IndexConfig, TTLConfig
from hitlgraph.store.postgres import _pgvector
from hitlgraph.store.postgres._pgvector import PostgresIndexConfig as PostgresIndexConfig

__all__ = ["PostgresIndexConfig", "PostgresStore"]


class PostgresStore(BorrowsConnection, SqlStore):
    """A store in a PostgreSQL database.

    Args:
        conn: a psycopg Connection (used under a lock) or ConnectionPool.
        index: similarity search settings, with PostgresIndexConfig's extra keys;
            needs pgvector.
        ttl: default TTL and refresh behaviour (see TTLConfig).

    Raises:
        ValueError: the index's settings are wrong (dims, distance_type, ann_index_config).
    """

    dialect: PostgresDialect
    conn: psycopg.Connection[Any] | ConnectionPool[Any]

    def __init__(self, conn: psycopg.Connection[Any] | ConnectionPool[Any], *,
                 index: IndexConfig | None = None, ttl: TTLConfig | None = None
                 ) -> None:
        self.dialect = _pgvector.dialect_for(index)
        super().__init__(conn, index=index, ttl=ttl)
        self.lock = threading.Lock()

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

    def _migrate(self) -> _sql_ops.Ops:
        """The items' tables, and with an index the extension and the vector table.

        Raises (from setup):
            RuntimeError: the store has an index and the server has no pgvector.
            ValueError: the vector table was made for other dims.
        """
        return _pgvector.migrate(self.dialect)

    def _drive(self, ops: _sql_ops.Ops) -> Any:
        with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
            return _sql_ops.drive(ops, cur)

    async def _adrive(self, ops: _sql_ops.Ops) -> Any:
        return await asyncio.to_thread(self._drive, ops)
