"""Fixtures for the saver tests: a fresh PostgreSQL schema per test.

PostgreSQL tests use the database named by HITLGRAPH_TEST_POSTGRES_DSN (`source
scripts/services` starts a private server and sets it). Without it they skip, except under
CI=true, where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from _services import require_postgres


@pytest.fixture
def postgres_dsn() -> str:
    return require_postgres()


@pytest.fixture
def require_postgres_fn() -> Callable[[], str]:
    """`require_postgres` itself, for the test of its rules."""
    return require_postgres


def fresh_schema(dsn: str) -> Iterator[str]:
    """Creates an empty schema, yields a conninfo whose search_path is that schema, and drops
    the schema afterwards."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    name = f"hg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(dsn, options=f"-c search_path={name}")
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def pg_conninfo(postgres_dsn: str) -> Iterator[str]:
    """A conninfo for a fresh, empty schema of the test database (dropped after the test)."""
    yield from fresh_schema(postgres_dsn)
