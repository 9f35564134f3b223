"""A `saver` fixture over the sync savers (memory, a SQLite file, PostgreSQL on a fresh schema:
skipped without HITLGRAPH_TEST_POSTGRES_DSN, failed in CI) for the review features' tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from _services import require_postgres
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver


@pytest.fixture
def pg_conninfo() -> Iterator[str]:
    """A conninfo whose search_path is a fresh schema of the test database (dropped after)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    dsn = require_postgres()
    name = f"hg_review_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(dsn, options=f"-c search_path={name}")
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver]:
    if request.param == "memory":
        yield InMemorySaver()
    elif request.param == "sqlite":
        with SqliteSaver.from_conn_string(str(tmp_path / "review.db")) as found:
            yield found
    else:
        from hitlgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(request.getfixturevalue("pg_conninfo")) as found:
            yield found
