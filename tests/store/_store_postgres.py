"""PostgreSQL stores for tests, each in a schema of its own that is dropped afterwards; and
the server with pgvector that stores with an index need (HITLGRAPH_TEST_PGVECTOR_DSN)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from _services import in_ci, require_postgres
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


PGVECTOR_VAR = "HITLGRAPH_TEST_PGVECTOR_DSN"


def require_pgvector() -> str:
    """The DSN of the test server with pgvector, its extension created in the `public`
    schema (which the stores' schemas search after their own); skips without one, and
    fails under CI=true, where scripts/services always starts it."""
    require_postgres()
    dsn = os.environ.get(PGVECTOR_VAR, "").strip()
    if not dsn:
        message = (f"{PGVECTOR_VAR} is not set: install the pgvector-server extra and run "
                   "`source scripts/services` (it starts a PostgreSQL with pgvector).")
        if in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
    return dsn


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
