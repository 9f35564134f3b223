"""Round trips of the PostgreSQL store's writes (server/store/_postgres_pipeline.py): a run's
end (`_leases.finish`) sends its thread lock with the run's UPDATE, and still locks the
thread before the run and ends as before; an operation's `Last` statement carries the
COMMIT, yet the operation sees its rows, fails whole, and goes again on another connection
when its pooled one died while idle."""

from __future__ import annotations

from typing import Any

import pytest
from _postgres_table import on_store, table_rows

from hitlgraph.server.store import _leases
from hitlgraph.server.store._last import Last
from hitlgraph.server.store._ops import Op, Rows
from hitlgraph.server.store._postgres_pipeline import THREAD_LOCK, FirstTrip, answers_nothing
from hitlgraph.server.store._postgres_sql import POSTGRES


def _finish() -> Any:
    return _leases.finish(POSTGRES, "r1", 3, status="success", output={"a": 1}, error=None,
                          thread_values={"a": 1}, thread_interrupts={},
                          thread_status="idle", delete_run=False)


def test_finish_locks_the_thread_first_with_the_statement_that_waits() -> None:
    trip = FirstTrip.of(_finish())
    assert trip.statements[0][0] == THREAD_LOCK
    assert answers_nothing(THREAD_LOCK)
    assert trip.statements[1][0].startswith("UPDATE hg_runs SET status")
    assert not answers_nothing(trip.statements[1][0])  # its RETURNING is read


def test_finish_reads_nothing_of_the_thread_lock() -> None:
    # What the op does next is the same whatever the lock's reply was.
    ops = [_finish(), _finish()]
    firsts = [next(op) for op in ops]
    assert firsts[0] == firsts[1] and firsts[0][0] == THREAD_LOCK
    nexts = [ops[0].send([]), ops[1].send([(1,)])]
    assert nexts[0][0] == nexts[1][0]
    assert {k: v for k, v in nexts[0][1].items() if k != "at"} == {
        k: v for k, v in nexts[1][1].items() if k != "at"}  # "at": the clock's reading






def _insert_last(k: str, n: int | None = 1) -> Op[Rows]:
    made = yield Last("INSERT INTO t (k, n) VALUES (:k, :n) ON CONFLICT (k) DO NOTHING "
                      "RETURNING n", {"k": k, "n": n})
    if made:
        return made
    # After its Last an op may still read (outside the transaction, which has committed).
    return (yield "SELECT n * 10 FROM t WHERE k = :k", {"k": k})


def _update_after_read_last() -> Op[Rows]:
    yield "INSERT INTO t (k, n) VALUES ('q', 5)", {}  # queued, with the read
    (n,), = yield "SELECT count(*) FROM t", {}
    return (yield Last("UPDATE t SET n = n + :n WHERE k = 'a' RETURNING n", {"n": n}))


def test_a_last_statement_commits_with_its_round_trip(pg_url: str) -> None:
    async def body(store: Any) -> tuple[Any, ...]:
        made = await store._write(_insert_last("a"))
        again = await store._write(_insert_last("a"))
        later = await store._write(_update_after_read_last())
        return made, again, later, await table_rows(store)

    assert on_store(pg_url, body) == ([(1,)], [(10,)], [(3,)], [("a", 3), ("q", 5)])


def test_a_last_statement_that_fails_rolls_the_whole_operation_back(pg_url: str) -> None:
    import psycopg

    def fails() -> Op[Rows]:
        yield "INSERT INTO t (k, n) VALUES ('b', 2)", {}
        return (yield from _insert_last("c", None))  # NOT NULL

    async def body(store: Any) -> list[tuple[str, int]]:
        with pytest.raises(psycopg.errors.NotNullViolation):
            await store._write(fails())
        return await table_rows(store)  # (and the connection went back to the pool usable)

    assert on_store(pg_url, body) == []


def test_a_first_trip_with_its_commit_on_a_dead_connection_goes_again(pg_url: str) -> None:
    import psycopg

    async def body(store: Any) -> list[tuple[str, int]]:
        async with store.pool.connection() as one, store.pool.connection() as two:
            pids = [one.info.backend_pid, two.info.backend_pid]  # the whole pool
        with psycopg.connect(pg_url, autocommit=True) as admin:
            # (waiting until they are gone: their last words are on the sockets by then)
            admin.execute("SELECT pg_terminate_backend(pid, 5000) "
                          "FROM unnest(%s::int[]) AS pid", (pids,))
        assert await store._write(_insert_last("a")) == [(1,)]
        return await table_rows(store)

    assert on_store(pg_url, body) == [("a", 1)]


def test_an_operation_that_writes_after_its_last_statement_is_refused(pg_url: str) -> None:
    def writes_late() -> Op[None]:
        yield Last("INSERT INTO t (k, n) VALUES ('a', 1)", {})
        yield "INSERT INTO t (k, n) VALUES ('b', 2)", {}

    async def body(store: Any) -> list[tuple[str, int]]:
        with pytest.raises(RuntimeError, match="wrote after its Last"):
            await store._write(writes_late())
        return await table_rows(store)

    assert on_store(pg_url, body) == [("a", 1)]  # (the Last committed, as it promised)
