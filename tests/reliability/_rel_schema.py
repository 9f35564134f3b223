"""A fresh PostgreSQL schema of the test database for one test or one module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from _services import require_postgres

__all__ = ["fresh_schema"]


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A postgresql:// URL of a new, empty schema of the test database, dropped on exit;
    skips without HITLGRAPH_TEST_POSTGRES_DSN (fails under CI=true). A URL, not a
    "key=value" string: the server and the test child tell a database from a SQLite path
    by its scheme."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from hitlgraph.server.store.postgres import postgres_url

    dsn = require_postgres()
    name = f"hg_rel_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield postgres_url(make_conninfo(dsn, options=f"-c search_path={name}"))
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
