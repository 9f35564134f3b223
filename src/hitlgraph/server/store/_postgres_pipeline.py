"""One write transaction of the PostgreSQL store in as few round trips as it allows.

Every round trip costs the server process about a quarter of a millisecond of Python
(psycopg's send, the event loop's wake-up, the result's processing), and a write sent one
statement at a time took one for the BEGIN, one per statement and one for the COMMIT: the
store's share of a `runs/wait` was about thirty.

A store operation (`_ops.Op`) needs the rows of a SELECT, or of a statement with
RETURNING, before it writes its next statement: those wait for their answer. The others
(INSERT, UPDATE or DELETE without RETURNING, and the NOTIFY) answer no rows the operation
reads, and it is sent `[]` for them as before; in psycopg's pipeline mode they are queued
and travel with the next statement that waits, or with the COMMIT. The BEGIN travels with
the first statement.

A queued statement that fails is raised at the next round trip, before the COMMIT is sent:
the transaction rolls back and the operation fails, as when the statement failed at once
(an operation never catches a statement's error, it only ever sees rows).

The first round trip never carries the COMMIT (an operation of queued statements only
waits once before committing), so a connection that died while idle fails it having done
nothing, and the caller may go again on another connection (`DiedIdle`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection, AsyncCursor, AsyncPipeline
from psycopg.pq import TransactionStatus

from hitlgraph.checkpoint.postgres import answered_rows
from hitlgraph.server._timeouts import within
from hitlgraph.server.store._ops import Op, Rows, Statement
from hitlgraph.server.store._postgres_sql import POSTGRES

__all__ = ["THREAD_LOCK", "DiedIdle", "FirstTrip", "answers_nothing", "pipelined_write"]

_T = TypeVar("_T")

THREAD_LOCK = ("SELECT 1 FROM hg_threads WHERE (tenant, thread_id) = (SELECT tenant, "
               "thread_id FROM hg_runs WHERE run_id = :run_id) FOR UPDATE")
"""`_leases.finish`'s first statement: it only locks the run's thread (its rows are never
read), so it waits in the pipeline for the run's UPDATE, a round trip fewer per run; the
server holds the lock from there on as before, the statements running in their order."""


class DiedIdle(Exception):
    """The connection was found dead in the first round trip: nothing of the operation
    happened (the COMMIT is never in that trip), and it may go again on another one."""


@functools.lru_cache(maxsize=512)
def answers_nothing(sql: str) -> bool:
    """Whether `sql` (with `:name` parameters) returns no rows the operation could read, so
    it may wait in the pipeline for the next statement."""
    if sql == POSTGRES.notify or sql == THREAD_LOCK:
        return True  # pg_notify's row is void, and `_notify.notify` ignores it
    words = sql.split(None, 1)
    head = words[0].upper() if words else ""
    return head in ("INSERT", "UPDATE", "DELETE") and "RETURNING" not in sql.upper()


@dataclass(slots=True)
class FirstTrip:
    """The statements `op` writes before it first reads rows (the last of them is the one
    read, unless `done`), taken without a connection: the ones before it are sent `[]`, as
    the database would answer. Kept so that the trip can go again on another connection."""

    op: Op[Any]
    statements: list[Statement] = field(default_factory=list)
    done: bool = False
    result: Any = None

    @classmethod
    def of(cls, op: Op[_T]) -> FirstTrip:
        trip = cls(op)
        try:
            statement = next(op)
            while True:
                trip.statements.append(statement)
                if not answers_nothing(statement[0]):
                    return trip
                statement = op.send([])
        except StopIteration as stop:
            trip.done, trip.result = True, stop.value
        return trip


async def _fetch(cursor: AsyncCursor[Any]) -> Rows:
    return await cursor.fetchall() if answered_rows(cursor) else []


async def _rest(op: Op[_T], rows: Rows, cursor: AsyncCursor[Any], pipe: AsyncPipeline) -> _T:
    """Drive `op` on from the rows of its first trip, waiting only for the statements whose
    rows it reads."""
    try:
        sql, params = op.send(rows)
        while True:
            await cursor.execute(POSTGRES.render(sql), params)
            rows = []
            if not answers_nothing(sql):
                await pipe.sync()
                rows = await _fetch(cursor)
            sql, params = op.send(rows)
    except StopIteration as stop:
        result: _T = stop.value
        return result


async def pipelined_write(trip: FirstTrip, conn: AsyncConnection[Any], limit: float | None
                          ) -> Any:
    """Run the operation `trip` began in one transaction on `conn` (an autocommit
    connection), the first round trip bounded by `limit` seconds; its result.

    BEGIN and COMMIT are sent as statements: psycopg's `transaction()` in pipeline mode
    syncs on entering and twice on leaving, three round trips more.

    Raises:
        DiedIdle: the connection was dead before anything was done.
    """
    first_done = False
    try:
        async with conn.pipeline() as pipe:
            cursor = conn.cursor()
            await cursor.execute("BEGIN")
            for sql, params in trip.statements:
                await cursor.execute(POSTGRES.render(sql), params)
            await (pipe.sync() if limit is None else within(pipe.sync(), limit))
            first_done = True
            result = trip.result if trip.done else await _rest(
                trip.op, await _fetch(cursor), cursor, pipe)
            await cursor.execute("COMMIT")
        return result
    except psycopg.OperationalError as exc:
        if conn.broken and not first_done:
            raise DiedIdle(str(exc)) from exc
        raise
    finally:
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()
