"""PostgresStore: the store in PostgreSQL.

Needs the `postgres` extra (psycopg 3 and psycopg-pool). Several server processes, on one
machine or many, share one database: workers claim runs with `SELECT ... FOR UPDATE SKIP
LOCKED` plus a lease and a fencing token, and every change a process makes is announced
with NOTIFY in the same transaction, so the others' idle workers, streamers and joiners wake
at once (`listen`); polling stays as the fallback.

Example:
    >>> store = PostgresStore.from_conn_string("postgresql://me@localhost/app")  # doctest: +SKIP
    >>> await store.setup()  # doctest: +SKIP
"""

from __future__ import annotations

from hitlgraph._install import missing_extra

try:
    import psycopg
    from psycopg import AsyncConnection
    from psycopg import sql as pgsql
    from psycopg.pq import TransactionStatus
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise missing_extra("hitlgraph's PostgreSQL server store", "psycopg 3 and psycopg-pool",
                        "postgres", exc) from exc

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from hitlgraph.checkpoint.postgres import _wire
from hitlgraph.server._timeouts import within
from hitlgraph.server.store._dialect import Params
from hitlgraph.server.store._notify import CHANNELS, wake_key
from hitlgraph.server.store._ops import Op, Rows
from hitlgraph.server.store._postgres_pipeline import (
    DiedIdle,
    FirstTrip,
    heard_while_idle,
    pipelined_write,
)
from hitlgraph.server.store._postgres_shared import Pipe
from hitlgraph.server.store._postgres_sql import POSTGRES
from hitlgraph.server.store._records import StoreUnavailable
from hitlgraph.server.store.base import Store

__all__ = ["PostgresStore", "is_postgres_url", "postgres_url"]

log = logging.getLogger("hitlgraph.server")

_T = TypeVar("_T")
_RECONNECT_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
OP_SECONDS = 5.0
"""Longest wait for a pooled connection, and for one store operation on it. A database that
stops answering (a dead route, a hung server) makes a request fail with StoreUnavailable
(503) after this, plus at most psycopg's own bound on cancelling the query (about 10 s),
instead of holding the request until TCP gives up."""


def is_postgres_url(value: str) -> bool:
    """Whether `value` is a postgresql:// (or postgres://) URL rather than a file path."""
    return value.startswith(("postgresql://", "postgres://"))


def postgres_url(conninfo: str) -> str:
    """`conninfo` as a postgresql:// URL: a URL stays as it is; a "key=value ..." string
    becomes "postgresql://?key=value&..." (libpq takes any parameter in a URL's query)."""
    if is_postgres_url(conninfo):
        return conninfo
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    # %20 for spaces, not "+": libpq decodes only percent escapes.
    return "postgresql://?" + urlencode({k: str(v) for k, v in params.items()}, quote_via=quote)


def _executor(conn: AsyncConnection[Any]) -> Callable[[str, Params], Awaitable[Rows]]:
    async def execute(sql: str, params: Params) -> Rows:
        reply, = await _wire.round_trip(conn, [(sql, params)])
        return reply if isinstance(reply, list) else []
    return execute


async def _rest(op: Op[_T], rows: Rows, execute: Callable[[str, Params], Awaitable[Rows]]
                ) -> _T:
    """Drive `op` on from its first statement's `rows` (see `_ops.adrive`)."""
    try:
        sql, params = op.send(rows)
        while True:
            sql, params = op.send(await execute(POSTGRES.render(sql), params))
    except StopIteration as stop:
        result: _T = stop.value
        return result


def _died_idle(conn: AsyncConnection[Any], tries_left: int) -> bool:
    """Whether the first statement sent on a pooled connection failed because the
    connection had died while idle (a reset, pg_terminate_backend): nothing of the
    operation has happened, and it goes again on another connection (the pool drops a
    broken one). This is a read's first statement; a write's first round trip never holds
    its COMMIT (`_postgres_pipeline.DiedIdle`). This replaces the pool's check of every
    connection it hands out, a round trip per store operation."""
    return conn.broken and tries_left > 0


async def _bounded(work: Awaitable[_T], seconds: float | None) -> _T:
    """`work` within `seconds` (None: no bound, and no task to bound it with); a lost
    connection or a timeout is StoreUnavailable."""
    try:
        return await (work if seconds is None else within(work, seconds))
    except (psycopg.OperationalError, asyncio.TimeoutError, DiedIdle) as exc:
        raise StoreUnavailable(f"The database did not answer ({type(exc).__name__}: {exc})."
                               ) from exc


class PostgresStore(Store):
    """The store on a pool of connections to one PostgreSQL database.

    Args:
        pool: an `AsyncConnectionPool` of autocommit connections (the store opens its own
            transactions), e.g. from `from_conn_string`.
        conninfo: the connection string, for the dedicated LISTEN connection; None: `listen`
            is not available and waiters only poll.
        owns_pool: close the pool in `close()`.
    """

    dialect = POSTGRES

    def __init__(self, pool: AsyncConnectionPool[Any], *, conninfo: str | None = None,
                 owns_pool: bool = False) -> None:
        self.pool = pool
        self.conninfo = conninfo
        self._owns_pool = owns_pool
        self._limit: float | None = OP_SECONDS

    @classmethod
    def from_conn_string(cls, conninfo: str, *, max_size: int = 10) -> PostgresStore:
        """A store with its own pool (opened by `setup()`, closed by `close()`)."""
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo, min_size=1, max_size=max_size, open=False, timeout=OP_SECONDS,
            kwargs={"autocommit": True, "connect_timeout": max(2, int(OP_SECONDS))})
        return cls(pool, conninfo=conninfo, owns_pool=True)

    async def setup(self) -> None:
        """Open the pool (when owned) and create or migrate the tables; safe from several
        processes at once (an advisory lock serializes them; the second finds nothing to
        do)."""
        if self._owns_pool:
            await self.pool.open(wait=True)
        self._limit = None  # a migration of a large database may take its time
        try:
            await super().setup()
        finally:
            self._limit = OP_SECONDS

    async def _read(self, op: Op[_T]) -> _T:
        async def read() -> _T:
            try:
                sql, params = next(op)
            except StopIteration as stop:
                done: _T = stop.value
                return done
            tries_left = self.pool.max_size
            while True:
                async with self.pool.connection() as conn:
                    execute = _executor(conn)
                    try:
                        rows = await execute(POSTGRES.render(sql), params)
                    except psycopg.OperationalError:
                        if _died_idle(conn, tries_left):
                            tries_left -= 1
                            continue
                        raise
                    return await _rest(op, rows, execute)
        return await _bounded(read(), self._limit)

    async def _write(self, op: Op[_T]) -> _T:
        trip = FirstTrip.of(op)
        if trip.done and not trip.statements:
            result: _T = trip.result
            return result
        tries_left = self.pool.max_size
        while True:
            try:
                async with self.pool.connection() as conn:
                    # A write is not cut off midway: cancelling a transaction in flight left
                    # runs "running" for good under load (the concurrent-resume server test
                    # hung about one run in two). The pool's timeout bounds the wait for its
                    # connection, and OP_SECONDS the first round trip (never the COMMIT).
                    done: _T = await _bounded(pipelined_write(trip, conn, self._limit),
                                              None)
                    return done
            except StoreUnavailable as exc:
                if not isinstance(exc.__cause__, DiedIdle) or tries_left <= 0:
                    raise
                tries_left -= 1

    def shares_database(self, saver: object) -> bool:
        """Whether `saver` is an AsyncPostgresSaver on a pool to this store's database."""
        from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        return (isinstance(saver, AsyncPostgresSaver)
                and isinstance(saver.conn, AsyncConnectionPool)
                and saver.conn.conninfo == self.pool.conninfo)

    @asynccontextmanager
    async def pipe(self) -> AsyncIterator[Pipe]:
        """One transaction on a pooled connection that the caller's operations join and
        its round trips drive, the last with the COMMIT (see `_postgres_shared`); rolled
        back when the block raises. A connection found dead while idle is replaced before
        anything is sent; a lost connection or a first round trip past OP_SECONDS is
        StoreUnavailable."""
        tries_left = self.pool.max_size
        while True:
            async with self.pool.connection() as conn:
                if tries_left > 0 and heard_while_idle(conn):
                    tries_left -= 1
                    await conn.close()  # (the pool replaces a closed connection)
                    continue
                try:
                    yield Pipe(conn, self._limit)
                except (psycopg.OperationalError, asyncio.TimeoutError) as exc:
                    raise StoreUnavailable(f"The database did not answer ({type(exc).__name__}"
                                           f": {exc}).") from exc
                finally:
                    if not conn.broken and conn.info.transaction_status != (
                            TransactionStatus.IDLE):
                        await conn.rollback()
                return

    async def close(self) -> None:
        if self._owns_pool:
            await self.pool.close()

    async def listen(self, wake: Callable[[str], None]) -> None:
        """Wake waiters on the notifications of every process, until cancelled; reconnects
        after a lost connection (and wakes everyone: "*"), waiters poll meanwhile."""
        if self.conninfo is None:
            raise RuntimeError("PostgresStore.listen needs the conninfo: build the store with "
                               "PostgresStore.from_conn_string(conninfo).")
        failures = 0
        while True:
            try:
                conn = await AsyncConnection.connect(self.conninfo, autocommit=True)
                async with conn:
                    for channel in CHANNELS:
                        await conn.execute(pgsql.SQL("LISTEN {}").format(
                            pgsql.Identifier(channel)))
                    failures = 0
                    wake("*")
                    async for note in conn.notifies():
                        wake(wake_key(note.channel, note.payload))
            except psycopg.OperationalError as exc:
                delay = _RECONNECT_SECONDS[min(failures, len(_RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("listening for run notifications failed (%s); waiters poll, "
                            "reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
