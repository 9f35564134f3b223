"""PostgreSQL stores for tests, each in a schema of its own that is dropped afterwards (the
server with pgvector that stores with an index need: `_services.require_pgvector`)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg

from hitlgraph.store.base import BaseStore, IndexConfig, TTLConfig
from hitlgraph.store.postgres import PostgresStore
from hitlgraph.store.postgres.aio import AsyncPostgresStore


@contextlib.contextmanager
def fresh_schema(dsn: str) -> Any:
    """A new schema's name, dropped with everything in it at the end."""
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield schema
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@contextlib.asynccontextmanager
async def open_postgres(dsn: str, mode: str, index: IndexConfig | None,
                        ttl: TTLConfig | None) -> AsyncIterator[BaseStore]:
    """A store of `mode` ("sync" or "async") on a connection to a fresh schema (`public`
    after it on the search path, for pgvector's types)."""
    with fresh_schema(dsn) as schema:
        options = f"-c search_path={schema},public"
        if mode == "async":
            async with await psycopg.AsyncConnection.connect(
                    dsn, autocommit=True, options=options) as aconn:
                yield AsyncPostgresStore(aconn, index=index, ttl=ttl)
            return
        with psycopg.connect(dsn, autocommit=True, options=options) as conn:
            yield PostgresStore(conn, index=index, ttl=ttl)
