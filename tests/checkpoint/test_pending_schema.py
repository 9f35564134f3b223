"""The index of open interrupts in the SQL schemas: a page is read through the index in its
order (no sort of every row), and a PostgreSQL database of the previous schema gets the index
built when opened (SQLite's migration is tested from a golden file in tests/goldens)."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint.sqlite import SqliteSaver, _pending
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import interrupt


class State(TypedDict, total=False):
    a: str


def _paused(saver: Any, threads: int) -> Any:
    builder = StateGraph(State)
    builder.add_node("ask", lambda s: {"a": interrupt("why?")})
    builder.add_edge(START, "ask")
    app = builder.compile(checkpointer=saver)
    for i in range(threads):
        app.invoke({}, {"configurable": {"thread_id": f"t{i}"}, "metadata": {"graph_id": "g"}})
    return app


@pytest.mark.parametrize("where", ["1", "p.graph_id = ?", "p.node = ?"])
def test_sqlite_reads_a_page_in_the_index_order(where: str) -> None:
    with SqliteSaver.from_conn_string(":memory:") as saver:
        _paused(saver, 3)
        sql = _pending.select_pending(
            f"{where} AND (p.created_at, p.thread_id, p.interrupt_id) < (?, ?, ?)",
            with_metadata=False)
        params = ("x",) * where.count("?") + ("9", "9", "9", 50)
        plan = " ".join(str(row[-1]) for row in saver.conn.execute(
            "EXPLAIN QUERY PLAN " + sql, params))
    assert "pending_interrupts_open" in plan and "TEMP B-TREE" not in plan, plan


def test_postgres_database_of_schema_1_gets_the_index(pg_conninfo: str) -> None:
    import psycopg

    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.checkpoint.postgres._schema import (
        DECISIONS,
        DECISIONS_HEAD,
        MIGRATIONS_TABLE,
        PENDING,
    )

    def listed(saver: PostgresSaver) -> list[tuple[Any, ...]]:
        return sorted((p.thread_id, p.interrupt_id, p.node, p.value, p.graph_id)
                      for p in saver.list_pending())

    with PostgresSaver.from_conn_string(pg_conninfo) as saver:
        _paused(saver, 3)
        before = listed(saver)
    assert len(before) == 3
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:  # back to schema 1
        for table in (PENDING, DECISIONS, DECISIONS_HEAD):
            conn.execute(f"DROP TABLE {table}")
        conn.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE v >= 2")
    with PostgresSaver.from_conn_string(pg_conninfo) as saver:
        assert listed(saver) == before
