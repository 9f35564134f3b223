"""The sync savers a test runs its graph on (memory, a SQLite file, PostgreSQL on a fresh schema
of the test database), written once for the folders whose `saver` fixture goes over all three.

PostgreSQL follows `_services.require_postgres`: skipped without HITLGRAPH_TEST_POSTGRES_DSN,
failed under CI=true."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _services import require_postgres
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver

SYNC_SAVERS = ("memory", "sqlite", "postgres")
"""The kinds `open_saver` takes: a `saver` fixture's params."""


@contextmanager
def fresh_schema(prefix: str) -> Iterator[str]:
    """A conninfo whose search_path is a new schema `<prefix>_<random>` of the test database,
    dropped when the block ends."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    dsn = require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(dsn, options=f"-c search_path={name}")
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@contextmanager
def open_saver(kind: str, path: Path, prefix: str) -> Iterator[BaseCheckpointSaver]:
    """A saver of `kind` (one of SYNC_SAVERS), set up: SQLite's database is the file `path`,
    PostgreSQL's a fresh schema named after `prefix`; closed when the block ends."""
    if kind == "memory":
        yield InMemorySaver()
    elif kind == "sqlite":
        with SqliteSaver.from_conn_string(str(path)) as found:
            yield found
    elif kind == "postgres":
        from hitlgraph.checkpoint.postgres import PostgresSaver

        with fresh_schema(prefix) as conninfo, PostgresSaver.from_conn_string(conninfo) as found:
            yield found
    else:
        raise ValueError(f"saver kind {kind!r}: expected one of {SYNC_SAVERS}")
