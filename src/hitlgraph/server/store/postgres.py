"""PostgresStore: the server's threads, runs and run events in PostgreSQL.

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

from hitlgraph._install import install_command

try:
    import psycopg
    from psycopg import AsyncConnection
    from psycopg import sql as pgsql
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "hitlgraph's PostgreSQL server store needs psycopg 3 and psycopg-pool, which the "
        f"`postgres` extra installs: {install_command('postgres')} ({exc})"
    ) from exc

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

from hitlgraph.server.store import _assistants as assistants
from hitlgraph.server.store import _postgres_sql as sql
from hitlgraph.server.store.base import (
    CancelAction,
    Claim,
    Heartbeat,
    NewRun,
    RunEvent,
    RunRow,
    RunStatus,
    Store,
    ThreadBusyError,
    ThreadRow,
    ThreadStatus,
    queued_metadata,
    thread_error,
)

__all__ = ["PostgresStore", "is_postgres_url", "postgres_url"]

log = logging.getLogger("hitlgraph.server")

_T = TypeVar("_T")
_SORTABLE = {"thread_id", "status", "created_at", "updated_at"}
_RECONNECT_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


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


class PostgresStore(Store):
    """The store on a pool of connections to one PostgreSQL database.

    Args:
        pool: an `AsyncConnectionPool` of autocommit connections (the store opens its own
            transactions), e.g. from `from_conn_string`.
        conninfo: the connection string, for the dedicated LISTEN connection; None: `listen`
            is not available and waiters only poll.
        owns_pool: close the pool in `close()`.
    """

    def __init__(self, pool: AsyncConnectionPool[Any], *, conninfo: str | None = None,
                 owns_pool: bool = False) -> None:
        self.pool = pool
        self.conninfo = conninfo
        self._owns_pool = owns_pool

    @classmethod
    def from_conn_string(cls, conninfo: str, *, max_size: int = 10) -> PostgresStore:
        """A store with its own pool (opened by `setup()`, closed by `close()`)."""
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo, min_size=1, max_size=max_size, kwargs={"autocommit": True}, open=False)
        return cls(pool, conninfo=conninfo, owns_pool=True)

    async def setup(self) -> None:
        """Open the pool (when owned) and create or migrate the tables; safe from several
        processes at once (an advisory lock serializes them; the second finds nothing to
        do)."""
        if self._owns_pool:
            await self.pool.open(wait=True)
        async with self.pool.connection() as conn, conn.transaction():
            found = await (await conn.execute(sql.HAS_MIGRATIONS, (sql.MIGRATIONS_TABLE,))
                           ).fetchone()
            if found is not None and found[0]:
                row = await (await conn.execute(sql.SCHEMA_VERSION)).fetchone()
                if row is not None and row[0] is not None and row[0] >= len(sql.MIGRATIONS) - 1:
                    return
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(sql.LOCK, (sql.LOCK_CLASS, sql.MIGRATION_LOCK))
            await conn.execute(sql.CREATE_MIGRATIONS)
            row = await (await conn.execute(sql.SCHEMA_VERSION)).fetchone()
            current = -1 if row is None or row[0] is None else int(row[0])
            for version in range(current + 1, len(sql.MIGRATIONS)):
                for statement in sql.MIGRATIONS[version]:
                    await conn.execute(statement)
                await conn.execute(sql.RECORD_MIGRATION, (version,))

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
                    for channel in sql.CHANNELS:
                        await conn.execute(pgsql.SQL("LISTEN {}").format(
                            pgsql.Identifier(channel)))
                    failures = 0
                    wake("*")
                    async for note in conn.notifies():
                        wake(sql.wake_key(note.channel, note.payload))
            except psycopg.OperationalError as exc:
                delay = _RECONNECT_SECONDS[min(failures, len(_RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("listening for run notifications failed (%s); waiters poll, "
                            "reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    # -- threads -------------------------------------------------------------------------------

    async def create_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any],
                            *, if_exists: Literal["raise", "do_nothing"]) -> ThreadRow | None:
        async with self.pool.connection() as conn, conn.transaction():
            made = await (await conn.execute(sql.INSERT_THREAD, (
                tenant, thread_id, sql.dumps(metadata)))).fetchone()
            if made is not None:
                return sql.thread_row(made)
            if if_exists == "raise":
                return None
            found = await (await conn.execute(sql.GET_THREAD, (tenant, thread_id))).fetchone()
            return None if found is None else sql.thread_row(found)

    async def get_thread(self, tenant: str, thread_id: str) -> ThreadRow | None:
        async with self.pool.connection() as conn:
            found = await (await conn.execute(sql.GET_THREAD, (tenant, thread_id))).fetchone()
        return None if found is None else sql.thread_row(found)

    async def patch_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any]
                           ) -> ThreadRow | None:
        async with self.pool.connection() as conn, conn.transaction():
            found = await (await conn.execute(sql.LOCK_THREAD, (tenant, thread_id))).fetchone()
            if found is None:
                return None
            merged = {**sql.thread_row(found).metadata, **metadata}
            row = await (await conn.execute(sql.PATCH_THREAD, (
                sql.dumps(merged), tenant, thread_id))).fetchone()
        return None if row is None else sql.thread_row(row)

    async def delete_thread(self, tenant: str, thread_id: str, *, keep_runs: bool = False
                            ) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            gone: int = (await conn.execute(sql.DELETE_THREAD, (tenant, thread_id))).rowcount
            if not keep_runs:
                await conn.execute(sql.DELETE_THREAD_EVENTS, (tenant, thread_id))
                await conn.execute(sql.DELETE_THREAD_RUNS, (tenant, thread_id))
        return gone > 0

    async def list_threads(self, tenant: str, *, status: str | None = None,
                           ids: Sequence[str] | None = None, sort_by: str = "created_at",
                           sort_order: str = "desc") -> list[ThreadRow]:
        if ids is not None and not ids:
            return []
        column = "updated_at" if sort_by == "state_updated_at" else sort_by
        column = column if column in _SORTABLE else "created_at"
        statement = sql.LIST_THREADS[(column, "ASC" if sort_order == "asc" else "DESC")]
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(statement, {
                "tenant": tenant, "status": status,
                "ids": None if ids is None else list(ids)})).fetchall()
        return [sql.thread_row(r) for r in rows]

    async def save_thread_state(self, tenant: str, thread_id: str, *, values: Any,
                                interrupts: dict[str, list[dict[str, Any]]],
                                status: ThreadStatus | None, graph_id: str | None) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(sql.LOCK_THREAD, (tenant, thread_id))
            await conn.execute(sql.THREAD_AFTER_RUN, {
                "values": sql.dumps(values), "interrupts": sql.dumps(interrupts),
                "error": None, "tenant": tenant, "thread_id": thread_id,
                "status": status or ("interrupted" if interrupts else "idle")})
            if graph_id is not None:
                await conn.execute(sql.SET_THREAD_GRAPH, (graph_id, tenant, thread_id))

    # -- runs ----------------------------------------------------------------------------------

    async def create_run(self, run: NewRun, *, create_thread: bool,
                         thread_metadata: Mapping[str, Any]) -> RunRow | None:
        async with self.pool.connection() as conn, conn.transaction():
            if create_thread:
                await conn.execute(sql.INSERT_THREAD, (run.tenant, run.thread_id,
                                                       sql.dumps(dict(thread_metadata))))
            # The thread's row lock orders concurrent creates: each sees the runs of the
            # ones before it (multitask strategy 'reject' refuses all but one).
            found = await (await conn.execute(sql.LOCK_THREAD, (run.tenant, run.thread_id))
                           ).fetchone()
            if found is None:
                return None
            thread = sql.thread_row(found)
            active = await (await conn.execute(sql.ACTIVE_RUNS, (run.tenant, run.thread_id))
                            ).fetchall()
            if active:
                strategy = run.multitask_strategy
                if strategy == "reject":
                    raise ThreadBusyError(run.thread_id, active[0][0])
                if strategy in ("interrupt", "rollback"):
                    await self._cancel_active(conn, active, strategy)
            run_metadata, metadata = queued_metadata(thread, run)
            row = await (await conn.execute(sql.INSERT_RUN, (
                run.run_id, run.tenant, run.thread_id, run.assistant_id, run.graph_id,
                sql.dumps(run_metadata), sql.dumps(run.kwargs), run.multitask_strategy,
                run.temporary, run.on_completion))).fetchone()
            assert row is not None  # INSERT ... RETURNING returns the row
            await conn.execute(sql.THREAD_BUSY, (sql.dumps(metadata), run.graph_id, run.tenant,
                                                 run.thread_id))
            await conn.execute(sql.NOTIFY, (sql.QUEUED, ""))
        return sql.run_row(row)

    @staticmethod
    async def _cancel_active(conn: AsyncConnection[Any], active: Sequence[Any],
                             action: str) -> None:
        for run_id, status in active:
            if status == "pending":
                await conn.execute(sql.CANCEL_PENDING, (action, run_id))
                await conn.execute(sql.NOTIFY, (sql.CHANGED, run_id))
            else:
                await conn.execute(sql.CANCEL_RUNNING, (action, run_id))
                await conn.execute(sql.NOTIFY, (sql.CANCEL, run_id))

    async def get_run(self, tenant: str, run_id: str, thread_id: str | None = None
                      ) -> RunRow | None:
        async with self.pool.connection() as conn:
            found = await (await conn.execute(sql.GET_RUN, (tenant, run_id))).fetchone()
        if found is None:
            return None
        row = sql.run_row(found)
        return row if thread_id is None or row.thread_id == thread_id else None

    async def list_runs(self, tenant: str, thread_id: str, *, limit: int, offset: int,
                        status: str | None) -> list[RunRow]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(sql.LIST_RUNS, {
                "tenant": tenant, "thread_id": thread_id, "status": status, "limit": limit,
                "offset": offset})).fetchall()
        return [sql.run_row(r) for r in rows]

    async def delete_run(self, tenant: str, thread_id: str, run_id: str) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            gone = await (await conn.execute(sql.DELETE_RUN, (tenant, thread_id, run_id))
                          ).fetchone()
            if gone is not None:
                await conn.execute(sql.DELETE_RUN_EVENTS, (run_id,))
        return gone is not None

    async def sweep_runs(self, older_than_seconds: float) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            row = await (await conn.execute(
                "WITH gone AS (DELETE FROM hg_runs WHERE temporary AND on_completion = 'delete' "
                "AND status IN ('success', 'error', 'interrupted', 'timeout') "
                "AND updated_at < now() - make_interval(secs => %s) RETURNING run_id), "
                "events AS (DELETE FROM hg_run_events WHERE run_id IN "
                "(SELECT run_id FROM gone)) SELECT count(*) FROM gone",
                (float(older_than_seconds),))).fetchone()
            return int(row[0]) if row else 0

    async def cancel_run(self, tenant: str, thread_id: str, run_id: str,
                         action: CancelAction) -> RunRow | None:
        async with self.pool.connection() as conn, conn.transaction():
            if await (await conn.execute(sql.LOCK_THREAD, (tenant, thread_id))).fetchone() is None:
                return None
            found = await (await conn.execute(sql.GET_RUN, (tenant, run_id))).fetchone()
            if found is None or sql.run_row(found).thread_id != thread_id:
                return None
            row = sql.run_row(found)
            if row.status in ("pending", "running"):
                await self._cancel_active(conn, [(run_id, row.status)], action)
                if row.status == "pending":
                    await conn.execute(sql.SETTLE_THREAD, {"tenant": tenant,
                                                           "thread_id": thread_id})
                    await conn.execute(sql.NOTIFY, (sql.QUEUED, ""))
            after = await (await conn.execute(sql.GET_RUN, (tenant, run_id))).fetchone()
        return None if after is None else sql.run_row(after)

    async def claim_run(self, worker_id: str, lease_seconds: float) -> Claim | None:
        async with self.pool.connection() as conn, conn.transaction():
            found = await (await conn.execute(sql.CLAIM, {
                "worker": worker_id, "lease": float(lease_seconds)})).fetchone()
        if found is None:
            return None
        row = sql.run_row(found)
        return Claim(run=row, fencing=row.fencing, worker_id=worker_id)

    async def heartbeat(self, run_id: str, fencing: int, lease_seconds: float) -> Heartbeat:
        async with self.pool.connection() as conn, conn.transaction():
            found = await (await conn.execute(sql.HEARTBEAT, (
                float(lease_seconds), run_id, fencing))).fetchone()
        if found is None:
            return Heartbeat(held=False, cancel_action=None)
        return Heartbeat(held=True, cancel_action=found[0])

    async def record_start(self, run_id: str, fencing: int, start_point: dict[str, Any]
                           ) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            found = await (await conn.execute(sql.RECORD_START, (
                sql.dumps(start_point), run_id, fencing))).fetchone()
        return found is not None

    async def finish_run(self, run_id: str, fencing: int, *, status: RunStatus, output: Any,
                         error: dict[str, Any] | None, thread_values: Any,
                         thread_interrupts: dict[str, list[dict[str, Any]]],
                         thread_status: ThreadStatus, delete_run: bool = False) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            # Lock the thread before the run, in the order create_run and cancel_run lock
            # them, so that these transactions never deadlock.
            owner = await (await conn.execute(sql.RUN_THREAD, (run_id,))).fetchone()
            if owner is None:
                return False
            await conn.execute(sql.LOCK_THREAD, owner)
            found = await (await conn.execute(sql.FINISH, {
                "status": status, "output": sql.dumps(output),
                "error": None if error is None else sql.dumps(error), "run_id": run_id,
                "fencing": fencing})).fetchone()
            if found is None:
                return False
            tenant, thread_id = found
            if delete_run:
                await conn.execute(sql.DELETE_RUN_BY_ID, (run_id,))
                await conn.execute(sql.DELETE_RUN_EVENTS, (run_id,))
            await conn.execute(sql.THREAD_AFTER_RUN, {
                "values": sql.dumps(thread_values), "interrupts": sql.dumps(thread_interrupts),
                "tenant": tenant, "thread_id": thread_id, "status": thread_status,
                "error": sql.dumps_or_null(thread_error(thread_status, error))})
            await conn.execute(sql.NOTIFY, (sql.CHANGED, run_id))
            await conn.execute(sql.NOTIFY, (sql.QUEUED, ""))
        return True

    async def active_runs_of_assistant(self, tenant: str, assistant_id: str) -> list[RunRow]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(sql.ASSISTANT_ACTIVE_RUNS, (tenant, assistant_id))
                          ).fetchall()
        return [sql.run_row(r) for r in rows]

    # -- assistants ----------------------------------------------------------------------------

    async def _assistant_op(self, op: assistants.Op[_T]) -> _T:
        """`assistants.drive`, awaiting each statement, in one transaction."""
        async with self.pool.connection() as conn, conn.transaction():
            try:
                name, params = next(op)
                while True:
                    cursor = await conn.execute(sql.ASSISTANTS[name], params)
                    rows = await cursor.fetchall() if cursor.description else []
                    name, params = op.send(rows)
            except StopIteration as stop:
                result: _T = stop.value
                return result

    # -- run events ----------------------------------------------------------------------------

    async def append_events(self, run_id: str, fencing: int,
                            events: Sequence[tuple[str, str]]) -> bool:
        async with self.pool.connection() as conn, conn.transaction():
            if await (await conn.execute(sql.HOLDS, (run_id, fencing))).fetchone() is None:
                return False
            if events:
                await conn.execute(sql.APPEND_EVENTS, {
                    "run_id": run_id, "events": [e for e, _ in events],
                    "data": [d for _, d in events]})
                await conn.execute(sql.NOTIFY, (sql.CHANGED, run_id))
        return True

    async def read_events(self, run_id: str, after_seq: int, limit: int = 500
                          ) -> list[RunEvent]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(sql.READ_EVENTS, (run_id, after_seq, limit))
                          ).fetchall()
        return [RunEvent(run_id=r[0], seq=r[1], event=r[2], data=r[3]) for r in rows]
