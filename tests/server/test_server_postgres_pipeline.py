"""The PostgreSQL store's pipelined write transactions (server/store/_postgres_pipeline.py):
statements whose rows an operation never reads wait in the pipeline, yet the operation stays
one transaction, sees the rows it reads, and fails whole when a queued statement fails; a
connection that died while idle is replaced and the operation goes again."""

from __future__ import annotations

from typing import Any

import pytest
from _postgres_table import on_store, table_rows

from hitlgraph.server.store._ops import Op, Rows
from hitlgraph.server.store._postgres_pipeline import FirstTrip, answers_nothing


def _insert_then_read(seen: list[Rows]) -> Op[int]:
    yield "INSERT INTO t (k, n) VALUES (:k, 1)", {"k": "a"}
    yield "UPDATE t SET n = n + 1 WHERE k = :k", {"k": "a"}
    rows = yield "SELECT n FROM t WHERE k = :k", {"k": "a"}
    seen.append(rows)
    yield "INSERT INTO t (k, n) VALUES (:k, :n)", {"k": "b", "n": rows[0][0] * 10}
    return len(rows)


def test_queued_statements_are_in_place_before_a_read_and_the_result_commits(
        pg_url: str) -> None:
    seen: list[Rows] = []

    async def body(store: Any) -> tuple[int, list[tuple[str, int]]]:
        result = await store._write(_insert_then_read(seen))
        return result, await table_rows(store)

    result, rows = on_store(pg_url, body)
    assert seen == [[(2,)]]
    assert result == 1
    assert rows == [("a", 2), ("b", 20)]


def _fails_late() -> Op[None]:
    yield "INSERT INTO t (k, n) VALUES (:k, 1)", {"k": "a"}
    rows = yield "SELECT count(*) FROM t", {}
    assert rows == [(1,)]
    yield "INSERT INTO t (k, n) VALUES (:k, 2)", {"k": "c"}
    yield "INSERT INTO t (k, n) VALUES (:k, NULL)", {"k": "d"}  # NOT NULL: fails queued
    yield "INSERT INTO t (k, n) VALUES (:k, 3)", {"k": "e"}


def test_a_queued_statement_that_fails_fails_the_operation_and_rolls_all_back(
        pg_url: str) -> None:
    import psycopg

    async def body(store: Any) -> list[tuple[str, int]]:
        with pytest.raises(psycopg.errors.NotNullViolation):
            await store._write(_fails_late())
        return await table_rows(store)  # (and the connection went back to the pool usable)

    assert on_store(pg_url, body) == []


def test_a_write_on_a_connection_that_died_idle_goes_again_on_another(pg_url: str) -> None:
    import psycopg

    async def body(store: Any) -> list[tuple[str, int]]:
        async with store.pool.connection() as one, store.pool.connection() as two:
            pids = [one.info.backend_pid, two.info.backend_pid]  # the whole pool
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid",
                          (pids,))
        seen: list[Rows] = []
        assert await store._write(_insert_then_read(seen)) == 1
        assert seen == [[(2,)]]
        return await table_rows(store)

    assert on_store(pg_url, body) == [("a", 2), ("b", 20)]


def test_the_first_trip_takes_the_statements_up_to_the_first_read() -> None:
    trip = FirstTrip.of(_insert_then_read([]))
    assert [sql.split()[0] for sql, _ in trip.statements] == ["INSERT", "UPDATE", "SELECT"]
    assert not trip.done


@pytest.mark.parametrize(("sql", "queued"), [
    ("INSERT INTO t (k) VALUES (:k)", True),
    ("  update t SET n = 1", True),
    ("DELETE FROM t WHERE k = :k", True),
    ("SELECT pg_notify(:channel, :payload)", True),
    ("INSERT INTO t (k) VALUES (:k) RETURNING k", False),
    ("UPDATE t SET n = 1 returning n", False),
    ("SELECT 1 FROM t FOR UPDATE", False),
    ("WITH x AS (DELETE FROM t RETURNING k) SELECT k FROM x", False),
])
def test_which_statements_wait_in_the_pipeline(sql: str, queued: bool) -> None:
    assert answers_nothing(sql) is queued
