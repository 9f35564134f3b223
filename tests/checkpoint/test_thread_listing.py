"""list_threads() reads one page of the checkpoints' primary key: the query plans show only
key searches (no scan of the checkpoints), on SQLite and PostgreSQL, and databases written
by older schemas (the golden files) list their threads with no migration step of their own.
The contract itself is the conformance suite's (list_threads, async_list_threads)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hitlgraph.checkpoint.conformance import chain
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite._threads import THREAD_SQL as SQLITE_SQL

GOLDENS = sorted((Path(__file__).parents[1] / "goldens").glob("sqlite_schema*.sqlite"))
PARAMS = ("t", 1, "t", 50, 1, "t")


@pytest.mark.parametrize("variant", ["after", "starting"])
def test_sqlite_plan_searches_the_primary_key_only(tmp_path: Path, variant: str) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "plan.db")) as saver:
        for i in range(30):
            chain(saver, f"t{i:03}", 2)
        saver.conn.execute("ANALYZE")
        sql = getattr(SQLITE_SQL, variant)
        plan = [row[3] for row in saver.conn.execute(f"EXPLAIN QUERY PLAN {sql}", PARAMS)]
    reads = [line for line in plan if "SCAN" in line or "SEARCH" in line]
    scans = {line for line in reads if line.startswith("SCAN")}
    assert scans <= {"SCAN page", "SCAN CONSTANT ROW"}, plan  # the CTE's rows, not a table
    assert sum("USING PRIMARY KEY" in line for line in reads) == 4, plan


def test_postgres_plan_uses_the_primary_key(pg_conninfo: str) -> None:
    import psycopg

    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.checkpoint.postgres._schema import CHECKPOINTS
    from hitlgraph.checkpoint.postgres._threads import THREAD_SQL

    with PostgresSaver.from_conn_string(pg_conninfo) as saver:
        chain(saver, "t-first", 2)
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {CHECKPOINTS} (thread_id, checkpoint_ns, checkpoint_id, ts, channels, "
            "versions, record, metadata_type, metadata) SELECT 't' || lpad(g::text, 6, '0'), "
            "'', 'c' || i, 'ts', '{}', '{}', '\\x00', 'msgpack', '\\x80' "
            "FROM generate_series(1, 5000) AS g, generate_series(1, 4) AS i")
        conn.execute(f"ANALYZE {CHECKPOINTS}")
        for sql in THREAD_SQL:
            plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN (ANALYZE) {sql}", PARAMS))
            assert "Seq Scan" not in plan and "Sort Key: first.thread_id" in plan, plan
            assert plan.count(f"using {CHECKPOINTS}_pkey") == 3, plan
            found = conn.execute(sql, PARAMS).fetchall()
            assert [row[0] for row in found[:2]] == ["t-first", "t000001"]
            assert len(found) == 50 and found[1][1] == "c4"


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda path: path.name)
def test_golden_databases_list_their_threads(tmp_path: Path, golden: Path) -> None:
    path = tmp_path / golden.name
    shutil.copy(golden, path)
    with SqliteSaver.from_conn_string(str(path)) as saver:
        stored = saver.conn.execute(
            "SELECT thread_id, MAX(checkpoint_id) FROM checkpoints WHERE checkpoint_ns = '' "
            "GROUP BY thread_id ORDER BY thread_id").fetchall()
        found = list(saver.list_threads(limit=1000))
        assert stored, "the golden file holds threads"
        assert [(t.thread_id, t.checkpoint_id) for t in found] == stored
        for info in found:
            latest = saver.get_tuple({"configurable": {"thread_id": info.thread_id}})
            assert latest is not None and latest.checkpoint["ts"] == info.created_at
