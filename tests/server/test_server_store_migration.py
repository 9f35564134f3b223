"""A server database made before threads had `error` and `state_updated_at` (SQLite store
schema 1) opens with its threads intact, reading as LangGraph's Thread fields."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from hitlgraph.server.store import _sqlite_sql as sql
from hitlgraph.server.store.sqlite import SqliteStore


def _schema_1_database(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"CREATE TABLE {sql.MIGRATIONS_TABLE} (v INTEGER PRIMARY KEY)")
    for version, statements in enumerate(sql.MIGRATIONS[:2]):
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"INSERT INTO {sql.MIGRATIONS_TABLE} (v) VALUES (?)", (version,))
    conn.execute(
        'INSERT INTO hg_threads (tenant, thread_id, created_at, updated_at, metadata, status, '
        '"values", interrupts) VALUES (\'\', \'t-1\', \'2026-01-01T00:00:00+00:00\', '
        "'2026-01-02T00:00:00+00:00', '{\"team\": \"a\"}', 'idle', '{\"x\": 1}', '{}')")
    conn.close()


def test_threads_of_an_older_database_read_with_error_and_state_time(tmp_path: Path) -> None:
    path = tmp_path / "server.sqlite"
    _schema_1_database(path)

    async def main() -> None:
        store = SqliteStore(str(path))
        try:
            await store.setup()
            thread = await store.get_thread("", "t-1")
            assert thread is not None
            assert thread.values == {"x": 1} and thread.metadata == {"team": "a"}
            assert thread.state_updated_at == thread.updated_at == "2026-01-02T00:00:00+00:00"
            assert thread.error is None
        finally:
            await store.close()

    asyncio.run(main())
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute(f"SELECT v FROM {sql.MIGRATIONS_TABLE}")]
    assert versions == list(range(len(sql.MIGRATIONS)))
