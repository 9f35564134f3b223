"""checkpoint.postgres._wire, the round trips below psycopg's cursors, on the real server:
each statement answers what a cursor's fetchall() / rowcount would; placeholders are read as
psycopg reads them; prepared statements are reused, and a failure leaves the connection idle
(in its failed transaction) with nothing after the failed statement run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("postgres_dsn")


def _on(conninfo: str, body: Callable[[Any], Awaitable[Any]]) -> Any:
    import psycopg

    async def main() -> Any:
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        async with conn:
            await conn.execute("CREATE TABLE wire_t (n integer PRIMARY KEY, s text, b bytea)")
            return await body(conn)

    return asyncio.run(main())


def test_each_statement_answers_its_rows_or_its_count(pg_conninfo: str) -> None:
    from hitlgraph.checkpoint.postgres._wire import round_trip

    async def body(conn: Any) -> Any:
        first = await round_trip(conn, [
            ("INSERT INTO wire_t (n, s, b) VALUES (%s, %s, %s)", (1, "one", b"\x00\x01")),
            ("INSERT INTO wire_t (n, s, b) VALUES (%(n)s, %(s)s, NULL)",
             {"n": 2, "s": "two"}),
            ("UPDATE wire_t SET s = s || '%%' WHERE n > %s", (0,)),
            ("SELECT n, s, b FROM wire_t ORDER BY n", ()),
            ("SELECT 1 WHERE false", None),
            ("SELECT '100%'", None),
        ])
        again = await round_trip(conn, [("SELECT n FROM wire_t WHERE n = ANY(%s)", ([1, 2],)),
                                        ("DELETE FROM wire_t WHERE n = %s", (9,))],
                                 binary=True)
        return first, again

    first, again = _on(pg_conninfo, body)
    assert first == [1, 1, 2, [(1, "one%", b"\x00\x01"), (2, "two%", None)], [],
                     [("100%",)]]
    assert again == [[(1,), (2,)], 0]


def test_prepared_once_per_connection_and_reused(pg_conninfo: str) -> None:
    from hitlgraph.checkpoint.postgres._wire import round_trip

    async def body(conn: Any) -> Any:
        for n in range(5):
            await round_trip(conn, [("INSERT INTO wire_t (n) VALUES (%s)", (n,))])
        cursor = await conn.execute("SELECT count(*) FROM pg_prepared_statements "
                                    "WHERE statement LIKE 'INSERT INTO wire_t%%'")
        return await cursor.fetchone()

    assert _on(pg_conninfo, body) == (1,)


def test_a_failure_raises_its_error_and_runs_nothing_after_it(pg_conninfo: str) -> None:
    import psycopg
    from psycopg.pq import TransactionStatus

    from hitlgraph.checkpoint.postgres._wire import round_trip

    async def body(conn: Any) -> Any:
        with pytest.raises(psycopg.errors.UniqueViolation):
            await round_trip(conn, [("BEGIN", None),
                                    ("INSERT INTO wire_t (n) VALUES (%s)", (1,)),
                                    ("INSERT INTO wire_t (n) VALUES (%s)", (1,)),
                                    ("INSERT INTO wire_t (n) VALUES (%s)", (2,))])
        status = conn.info.transaction_status
        await conn.rollback()
        with pytest.raises(psycopg.errors.UndefinedTable):  # a prepare that fails
            await round_trip(conn, [("SELECT * FROM wire_missing WHERE n = %s", (1,))])
        rows = await round_trip(conn, [("SELECT count(*) FROM wire_t", None),
                                       ("SELECT * FROM wire_t WHERE n = %s", (1,))])
        return status, rows

    status, rows = _on(pg_conninfo, body)
    assert status == TransactionStatus.INERROR
    assert rows == [[(0,)], []]


def test_parameters_must_match_the_placeholders(pg_conninfo: str) -> None:
    from hitlgraph.checkpoint.postgres._wire import round_trip

    async def body(conn: Any) -> Any:
        with pytest.raises(TypeError):
            await round_trip(conn, [("SELECT %s, %s", (1,))])
        with pytest.raises(TypeError):
            await round_trip(conn, [("SELECT %(a)s", (1,))])
        return await round_trip(conn, [("SELECT %(a)s::int + %(a)s::int", {"a": 2})])

    assert _on(pg_conninfo, body) == [[(4,)]]
