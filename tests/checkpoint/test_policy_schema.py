"""The review policy columns of the index of open interrupts in the SQL schemas: each
list_pending() filter and order, and the warnings query, read through an index of its own
(no sort of every row); and a PostgreSQL database of the schema before them gets them, with
the policies of its open interrupts, when opened (SQLite's migration is tested from a golden
file in tests/goldens)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint._pending import pending_query
from hitlgraph.checkpoint._store.pending import _where
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite._sql import DIALECT
from hitlgraph.graph import START, StateGraph
from hitlgraph.review import Expire
from hitlgraph.types import interrupt


class State(TypedDict, total=False):
    a: Any


def _paused(saver: Any, threads: int) -> None:
    builder = StateGraph(State)
    builder.add_node("ask", lambda s: {"a": interrupt(
        "why?", expires_in=600, on_expire=Expire.cancel(), assignee="bob", group="ops")})
    builder.add_edge(START, "ask")
    app = builder.compile(checkpointer=saver)
    for i in range(threads):
        app.invoke({}, {"configurable": {"thread_id": f"t{i}"}})


@pytest.mark.parametrize(("query", "index"), [
    ({"assignee": "bob"}, "pending_interrupts_by_assignee"),
    ({"unassigned": True}, "pending_interrupts_by_assignee"),
    ({"group": "ops"}, "pending_interrupts_by_group"),
    ({"order": "deadline"}, "pending_interrupts_by_due"),
    ({"order": "deadline", "expired_before": "2030-01-01T00:00:00+00:00"},
     "pending_interrupts_by_due"),
])
def test_sqlite_reads_each_filter_and_order_through_its_index(query: dict[str, Any],
                                                              index: str) -> None:
    with SqliteSaver.from_conn_string(":memory:") as saver:
        _paused(saver, 3)
        found = pending_query(graph_id=None, thread_id=None, node=None, metadata=None,
                              limit=50, after=None, **query)
        where, params = _where(DIALECT, found, ("9", "9", "9"))
        sql = DIALECT.select_pending(where, with_metadata=False, order=found.order)
        plan = " ".join(str(row[-1]) for row in saver.conn.execute(
            "EXPLAIN QUERY PLAN " + sql, (*params, 50)))
    assert index in plan and "TEMP B-TREE" not in plan, plan


def test_postgres_database_before_the_policy_columns_gets_them(pg_conninfo: str) -> None:
    import psycopg

    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.checkpoint.postgres._schema import MIGRATIONS_TABLE, PENDING

    with PostgresSaver.from_conn_string(pg_conninfo) as saver:
        _paused(saver, 2)
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:  # back to schema 4
        for column in ("expires_at", "warn_at", "due", "assignee", "group_name", "approvals",
                       "policy", "policy_type", "policy_value", "warned", "expired",
                       "approvals_given"):
            conn.execute(f"ALTER TABLE {PENDING} DROP COLUMN {column}")
        conn.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE v >= 5")
    with PostgresSaver.from_conn_string(pg_conninfo) as saver:
        found = list(saver.list_pending(assignee="bob", group="ops", order="deadline"))
        assert sorted(p.thread_id for p in found) == ["t0", "t1"]
        for item in found:
            assert item.policy is not None and item.policy.on_expire == Expire.cancel()
            assert item.expires_at is not None
            assert datetime.fromisoformat(item.expires_at) - datetime.fromisoformat(
                item.created_at) == timedelta(minutes=10)
