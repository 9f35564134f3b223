"""One write transaction of the PostgreSQL store in as few round trips as it allows.

Every round trip costs the server process about a quarter of a millisecond of Python
(psycopg's send, the event loop's wake-up, the result's processing), and a write sent one
statement at a time took one for the BEGIN, one per statement and one for the COMMIT: the
store's share of a `runs/wait` was about thirty.

A store operation (`_ops.Op`) needs the rows of a SELECT, or of a statement with
RETURNING, before it writes its next statement: those wait for their answer. The others
(INSERT, UPDATE or DELETE without RETURNING, and the NOTIFY) answer no rows the operation
reads, and it is sent `[]` for them as before; they are queued and travel with the next
statement that waits, or with the COMMIT, each round trip one `checkpoint.postgres._wire`
pipeline. The BEGIN travels with the first statement.

A queued statement that fails is raised at the next round trip, before the COMMIT is sent:
the transaction rolls back and the operation fails, as when the statement failed at once
(an operation never catches a statement's error, it only ever sees rows).

The COMMIT travels with the statements queued after the last one that waited, or with the
operation's `_last.Last` statement (whose rows it reads, and after which it writes
nothing): those rows reach the operation once the COMMIT is done, so nothing it returns is
seen before its transaction is committed. An operation that waits for nothing before its
COMMIT (all queued, or its first wait is its Last) is one round trip in all.

A connection that died while idle (a server restart, pg_terminate_backend) must fail the
first round trip having done nothing, so that the caller may go again on another
connection (`DiedIdle`): when the first round trip carries the COMMIT, a failure then could
have committed, so the connection's socket is polled first instead (no round trip): an idle
connection the server has spoken to is a terminated one (or, rarely, one sent a notice),
and it is replaced.
"""

from __future__ import annotations

import functools
import select
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus

from hitlgraph.checkpoint.postgres import _wire
from hitlgraph.server._timeouts import within
from hitlgraph.server.store._last import Last
from hitlgraph.server.store._ops import Op, Rows, Statement
from hitlgraph.server.store._postgres_sql import POSTGRES
from hitlgraph.server.store._threads import lock_quietly

__all__ = ["THREAD_LOCK", "DiedIdle", "FirstTrip", "answers_nothing", "heard_while_idle",
           "pipelined_write"]

_T = TypeVar("_T")

THREAD_LOCK = ("SELECT 1 FROM hg_threads WHERE (tenant, thread_id) = (SELECT tenant, "
               "thread_id FROM hg_runs WHERE run_id = :run_id) FOR UPDATE")
"""`_leases.finish`'s first statement: it only locks the run's thread (its rows are never
read), so it waits in the pipeline for the run's UPDATE, a round trip fewer per run; the
server holds the lock from there on as before, the statements running in their order."""


_LOCKS = frozenset({THREAD_LOCK, lock_quietly(POSTGRES)})
"""Statements that only lock rows (`_runs.create` locks the thread so before its read)."""


class DiedIdle(Exception):
    """The connection was found dead in the first round trip: nothing of the operation
    happened (the COMMIT is never in that trip), and it may go again on another one."""


@functools.lru_cache(maxsize=512)
def answers_nothing(sql: str) -> bool:
    """Whether `sql` (with `:name` parameters) returns no rows the operation could read, so
    it may wait in the pipeline for the next statement."""
    if sql == POSTGRES.notify or sql in _LOCKS:
        return True  # pg_notify's row is void, and `_notify.notify` ignores it
    words = sql.split(None, 1)
    head = words[0].upper() if words else ""
    return head in ("INSERT", "UPDATE", "DELETE") and "RETURNING" not in sql.upper()


def _waits(statement: Statement) -> bool:
    """Whether the round trip ends with `statement`: its rows are read, or it is the
    operation's last write (the COMMIT goes with it)."""
    return isinstance(statement, Last) or not answers_nothing(statement[0])


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
                if _waits(statement):
                    return trip
                statement = op.send([])
        except StopIteration as stop:
            trip.done, trip.result = True, stop.value
        return trip


_Sent = tuple[str, Any]
"""A statement as `_wire` sends it: rendered (psycopg's placeholders), its parameters or
None (then sent as written)."""
_BEGIN: _Sent = ("BEGIN", None)
_COMMIT: _Sent = ("COMMIT", None)


def _rendered(statement: Statement) -> _Sent:
    return POSTGRES.render(statement[0]), statement[1]


async def _trip(conn: AsyncConnection[Any], statements: list[_Sent]) -> list[Rows]:
    """`statements` in one round trip (`_wire`); each one's rows ([] for one that answers
    none, as a cursor's rows would have been read)."""
    replies = await _wire.round_trip(conn, statements)
    return [reply if isinstance(reply, list) else [] for reply in replies]


@dataclass(slots=True)
class _Transaction:
    """An operation's transaction on a connection: BEGIN goes with the first round trip,
    COMMIT with the statements still queued at the end (or with the Last)."""

    conn: AsyncConnection[Any]
    first_done: bool = False
    done: bool = False
    result: Any = None
    last_rows: Rows = field(default_factory=list)

    async def pipelined(self, trip: FirstTrip, limit: float | None) -> None:
        """Up to the COMMIT, waited for; `limit` bounds the first round trip, when that is
        not the one with the COMMIT."""
        queued = [_BEGIN, *map(_rendered, trip.statements)]
        if not (trip.done or isinstance(trip.statements[-1], Last)):
            first = _trip(self.conn, queued)
            rows = await (first if limit is None else within(first, limit))
            self.first_done = True
            queued = await self._rest(trip, rows[-1])
        rows = await _trip(self.conn, [*queued, _COMMIT])
        if not self.done:
            self.last_rows = rows[-2]  # the Last's

    async def _rest(self, trip: FirstTrip, rows: Rows) -> list[_Sent]:
        """Drive the operation on, a round trip for each statement whose rows it reads, up
        to its end (`done`) or its Last; the statements still queued (the Last's last)."""
        queued: list[_Sent] = []
        try:
            statement = trip.op.send(rows)
            while True:
                queued.append(_rendered(statement))
                if isinstance(statement, Last):
                    return queued
                rows = []
                if _waits(statement):
                    rows = (await _trip(self.conn, queued))[-1]
                    queued = []
                statement = trip.op.send(rows)
        except StopIteration as stop:
            self.done, self.result = True, stop.value
        return queued

    async def after_commit(self, trip: FirstTrip) -> Any:
        """Drive `op` on from its Last's rows: it may only read now, each statement on its
        own (as READ COMMITTED reads in a transaction anyway)."""
        if trip.done:
            return trip.result
        op = trip.op
        try:
            statement = op.send(self.last_rows)
            while True:
                if not _only_reads(statement[0]):
                    raise RuntimeError(
                        f"a store operation wrote after its Last statement: {statement[0]!r}")
                statement = op.send((await _trip(self.conn, [_rendered(statement)]))[0])
        except StopIteration as stop:
            return stop.value


def _only_reads(sql: str) -> bool:
    """Whether `sql` only reads (may run after the COMMIT, outside the transaction)."""
    upper = sql.upper()
    return (upper.lstrip().startswith("SELECT") and not answers_nothing(sql)
            and " FOR UPDATE" not in upper and " FOR SHARE" not in upper)


def heard_while_idle(conn: AsyncConnection[Any]) -> bool:
    """Whether the server sent something to the idle `conn`: a terminated connection's
    last words (or a rare notice; the connection is replaced all the same). One poll of the
    socket, no round trip."""
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    return bool(readable)


async def pipelined_write(trip: FirstTrip, conn: AsyncConnection[Any], limit: float | None
                          ) -> Any:
    """Run the operation `trip` began in one transaction on `conn` (an autocommit
    connection), the first round trip bounded by `limit` seconds; its result.

    BEGIN and COMMIT are sent as statements: psycopg's `transaction()` in pipeline mode
    syncs on entering and twice on leaving, three round trips more.

    Raises:
        DiedIdle: the connection was dead before anything was done.
    """
    # The first round trip carries the COMMIT when the operation reads nothing before it.
    commits = trip.done or isinstance(trip.statements[-1], Last)
    if commits and heard_while_idle(conn):
        await conn.close()  # (the pool replaces a closed connection)
        raise DiedIdle("the connection heard from the server while idle")
    txn = _Transaction(conn)
    try:
        if commits and limit is not None:  # the first round trip is the whole transaction
            await within(txn.pipelined(trip, None), limit)
        else:
            await txn.pipelined(trip, limit)
        return txn.result if txn.done else await txn.after_commit(trip)
    except psycopg.OperationalError as exc:
        if conn.broken and not txn.first_done and not commits:
            raise DiedIdle(str(exc)) from exc
        raise
    finally:
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()
