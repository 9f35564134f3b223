"""SqliteStore: the server's threads, runs and run events in a SQLite file.

Each operation runs on one dedicated thread with one connection, in WAL mode with a busy
timeout, so several server processes can share the file. Every write is one
`BEGIN IMMEDIATE` transaction: a run is claimed by exactly one worker of any process.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, TypeVar

from hitlgraph.server.store import _assistants as assistants
from hitlgraph.server.store import _sqlite_sql as sql
from hitlgraph.server.store._assistants import now_iso
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

__all__ = ["SqliteStore"]

_T = TypeVar("_T")
_BUSY_TIMEOUT_S = 30.0
_SORTABLE = {"thread_id", "status", "created_at", "updated_at", "state_updated_at"}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_or_null(value: Any) -> str | None:
    return None if value is None else _json(value)


class SqliteStore(Store):
    """The store on the SQLite file at `path` (":memory:" for a private database)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hitlgraph-store")

    # -- plumbing ------------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, check_same_thread=False,
                                   isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    async def setup(self) -> None:
        await self._run(self._setup)

    def _setup(self) -> None:
        with self._tx() as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {sql.MIGRATIONS_TABLE} "
                         "(v INTEGER PRIMARY KEY)")
            done = {v for (v,) in conn.execute(f"SELECT v FROM {sql.MIGRATIONS_TABLE}")}
            for version, statements in enumerate(sql.MIGRATIONS):
                if version in done:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute(f"INSERT INTO {sql.MIGRATIONS_TABLE} (v) VALUES (?)", (version,))

    async def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        await self._run(_close)
        self._executor.shutdown(wait=True)

    # -- threads -------------------------------------------------------------------------------

    async def create_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any],
                            *, if_exists: Literal["raise", "do_nothing"]) -> ThreadRow | None:
        return await self._run(self._create_thread, tenant, thread_id, metadata, if_exists)

    def _create_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any],
                       if_exists: str) -> ThreadRow | None:
        with self._tx() as conn:
            found = conn.execute(sql.GET_THREAD, (tenant, thread_id)).fetchone()
            if found is not None:
                return sql.thread_row(found) if if_exists == "do_nothing" else None
            at = now_iso()
            conn.execute(sql.INSERT_THREAD, (tenant, thread_id, at, at, at, _json(metadata)))
            return sql.thread_row(conn.execute(sql.GET_THREAD, (tenant, thread_id)).fetchone())

    async def get_thread(self, tenant: str, thread_id: str) -> ThreadRow | None:
        return await self._run(self._get_thread, tenant, thread_id)

    def _get_thread(self, tenant: str, thread_id: str) -> ThreadRow | None:
        found = self.conn.execute(sql.GET_THREAD, (tenant, thread_id)).fetchone()
        return None if found is None else sql.thread_row(found)

    async def patch_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any]
                           ) -> ThreadRow | None:
        return await self._run(self._patch_thread, tenant, thread_id, metadata)

    def _patch_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any]
                      ) -> ThreadRow | None:
        with self._tx() as conn:
            found = conn.execute(sql.GET_THREAD, (tenant, thread_id)).fetchone()
            if found is None:
                return None
            merged = {**sql.thread_row(found).metadata, **metadata}
            conn.execute("UPDATE hg_threads SET metadata = ?, updated_at = ? WHERE tenant = ? "
                         "AND thread_id = ?", (_json(merged), now_iso(), tenant, thread_id))
            return sql.thread_row(conn.execute(sql.GET_THREAD, (tenant, thread_id)).fetchone())

    async def delete_thread(self, tenant: str, thread_id: str, *, keep_runs: bool = False
                            ) -> bool:
        return await self._run(self._delete_thread, tenant, thread_id, keep_runs)

    def _delete_thread(self, tenant: str, thread_id: str, keep_runs: bool) -> bool:
        with self._tx() as conn:
            gone = conn.execute("DELETE FROM hg_threads WHERE tenant = ? AND thread_id = ?",
                                (tenant, thread_id)).rowcount
            if keep_runs:
                return gone > 0
            conn.execute("DELETE FROM hg_run_events WHERE run_id IN (SELECT run_id FROM hg_runs "
                         "WHERE tenant = ? AND thread_id = ?)", (tenant, thread_id))
            conn.execute("DELETE FROM hg_runs WHERE tenant = ? AND thread_id = ?",
                         (tenant, thread_id))
            return gone > 0

    async def list_threads(self, tenant: str, *, status: str | None = None,
                           ids: Sequence[str] | None = None, sort_by: str = "created_at",
                           sort_order: str = "desc") -> list[ThreadRow]:
        return await self._run(self._list_threads, tenant, status, ids, sort_by, sort_order)

    def _list_threads(self, tenant: str, status: str | None, ids: Sequence[str] | None,
                      sort_by: str, sort_order: str) -> list[ThreadRow]:
        where, params = ["tenant = ?"], [tenant]
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if ids is not None:
            if not ids:
                return []
            where.append(f"thread_id IN ({', '.join('?' * len(ids))})")
            params.extend(ids)
        column = sort_by if sort_by in _SORTABLE else "created_at"
        column = "updated_at" if column == "state_updated_at" else column
        order = "ASC" if sort_order == "asc" else "DESC"
        rows = self.conn.execute(
            f"SELECT {sql.THREAD_COLUMNS} FROM hg_threads WHERE {' AND '.join(where)} "
            f"ORDER BY {column} {order}, rowid {order}", params).fetchall()
        return [sql.thread_row(r) for r in rows]

    async def save_thread_state(self, tenant: str, thread_id: str, *, values: Any,
                                interrupts: dict[str, list[dict[str, Any]]],
                                status: ThreadStatus | None, graph_id: str | None) -> None:
        await self._run(self._save_thread_state, tenant, thread_id, values, interrupts, status,
                        graph_id)

    def _save_thread_state(self, tenant: str, thread_id: str, values: Any,
                           interrupts: dict[str, list[dict[str, Any]]],
                           status: ThreadStatus | None, graph_id: str | None) -> None:
        with self._tx() as conn:
            conn.execute(sql.THREAD_AFTER_RUN, {
                "values": _json(values), "interrupts": _json(interrupts), "at": now_iso(),
                "error": None, "tenant": tenant, "thread_id": thread_id,
                "status": status or ("interrupted" if interrupts else "idle")})
            if graph_id is not None:
                conn.execute("UPDATE hg_threads SET graph_id = COALESCE(graph_id, ?) WHERE "
                             "tenant = ? AND thread_id = ?", (graph_id, tenant, thread_id))

    # -- runs ----------------------------------------------------------------------------------

    async def create_run(self, run: NewRun, *, create_thread: bool,
                         thread_metadata: Mapping[str, Any]) -> RunRow | None:
        return await self._run(self._create_run, run, create_thread, dict(thread_metadata))

    def _create_run(self, run: NewRun, create_thread: bool, thread_metadata: dict[str, Any]
                    ) -> RunRow | None:
        with self._tx() as conn:
            at = now_iso()
            found = conn.execute(sql.GET_THREAD, (run.tenant, run.thread_id)).fetchone()
            if found is None:
                if not create_thread:
                    return None
                conn.execute(sql.INSERT_THREAD, (run.tenant, run.thread_id, at, at, at,
                                                 _json(thread_metadata)))
                found = conn.execute(sql.GET_THREAD, (run.tenant, run.thread_id)).fetchone()
            thread = sql.thread_row(found)
            active = conn.execute(sql.ACTIVE_RUNS, (run.tenant, run.thread_id)).fetchall()
            if active:
                strategy = run.multitask_strategy
                if strategy == "reject":
                    raise ThreadBusyError(run.thread_id, active[0][0])
                if strategy in ("interrupt", "rollback"):
                    self._cancel_active(conn, active, strategy, at)
            run_metadata, metadata = queued_metadata(thread, run)
            conn.execute(sql.INSERT_RUN, (
                run.run_id, run.tenant, run.thread_id, run.assistant_id, run.graph_id, at, at,
                _json(run_metadata), _json(run.kwargs), run.multitask_strategy,
                int(run.temporary), run.on_completion))
            conn.execute(
                "UPDATE hg_threads SET status = 'busy', updated_at = ?, metadata = ?, "
                "graph_id = ? WHERE tenant = ? AND thread_id = ?",
                (at, _json(metadata), run.graph_id, run.tenant, run.thread_id))
            return sql.run_row(conn.execute(sql.GET_RUN, (run.tenant, run.run_id)).fetchone())

    @staticmethod
    def _cancel_active(conn: sqlite3.Connection, active: Sequence[Any], action: str,
                       at: str) -> None:
        for run_id, status in active:
            if status == "pending":
                conn.execute("UPDATE hg_runs SET status = 'interrupted', cancel_action = ?, "
                             "updated_at = ? WHERE run_id = ?", (action, at, run_id))
            else:
                conn.execute("UPDATE hg_runs SET cancel_action = ? WHERE run_id = ?",
                             (action, run_id))

    async def get_run(self, tenant: str, run_id: str, thread_id: str | None = None
                      ) -> RunRow | None:
        return await self._run(self._get_run, tenant, run_id, thread_id)

    def _get_run(self, tenant: str, run_id: str, thread_id: str | None) -> RunRow | None:
        found = self.conn.execute(sql.GET_RUN, (tenant, run_id)).fetchone()
        if found is None:
            return None
        row = sql.run_row(found)
        return row if thread_id is None or row.thread_id == thread_id else None

    async def list_runs(self, tenant: str, thread_id: str, *, limit: int, offset: int,
                        status: str | None) -> list[RunRow]:
        return await self._run(self._list_runs, tenant, thread_id, limit, offset, status)

    def _list_runs(self, tenant: str, thread_id: str, limit: int, offset: int,
                   status: str | None) -> list[RunRow]:
        where, params = "tenant = ? AND thread_id = ?", [tenant, thread_id]
        if status is not None:
            where += " AND status = ?"
            params.append(status)
        rows = self.conn.execute(
            f"SELECT {sql.RUN_COLUMNS} FROM hg_runs WHERE {where} "
            "ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
            [*params, limit, offset]).fetchall()
        return [sql.run_row(r) for r in rows]

    async def delete_run(self, tenant: str, thread_id: str, run_id: str) -> bool:
        return await self._run(self._delete_run, tenant, thread_id, run_id)

    def _delete_run(self, tenant: str, thread_id: str, run_id: str) -> bool:
        with self._tx() as conn:
            gone = conn.execute("DELETE FROM hg_runs WHERE tenant = ? AND thread_id = ? AND "
                                "run_id = ?", (tenant, thread_id, run_id)).rowcount
            if gone:
                conn.execute("DELETE FROM hg_run_events WHERE run_id = ?", (run_id,))
            return gone > 0

    async def sweep_runs(self, older_than_seconds: float) -> int:
        return await self._run(self._sweep_runs, older_than_seconds)

    def _sweep_runs(self, older_than_seconds: float) -> int:
        cutoff = (datetime.now(timezone.utc) - timedelta(seconds=older_than_seconds)).isoformat()
        with self._tx() as conn:
            gone = [run_id for (run_id,) in conn.execute(
                "SELECT run_id FROM hg_runs WHERE temporary = 1 AND on_completion = 'delete' "
                "AND status IN ('success', 'error', 'interrupted', 'timeout') "
                "AND updated_at < ?", (cutoff,))]
            for run_id in gone:
                conn.execute("DELETE FROM hg_run_events WHERE run_id = ?", (run_id,))
                conn.execute("DELETE FROM hg_runs WHERE run_id = ?", (run_id,))
            return len(gone)

    async def cancel_run(self, tenant: str, thread_id: str, run_id: str,
                         action: CancelAction) -> RunRow | None:
        return await self._run(self._cancel_run, tenant, thread_id, run_id, action)

    def _cancel_run(self, tenant: str, thread_id: str, run_id: str, action: str
                    ) -> RunRow | None:
        with self._tx() as conn:
            found = conn.execute(sql.GET_RUN, (tenant, run_id)).fetchone()
            if found is None or sql.run_row(found).thread_id != thread_id:
                return None
            row = sql.run_row(found)
            if row.status in ("pending", "running"):
                at = now_iso()
                self._cancel_active(conn, [(run_id, row.status)], action, at)
                if row.status == "pending":
                    self._settle_thread(conn, tenant, thread_id, at)
            return sql.run_row(conn.execute(sql.GET_RUN, (tenant, run_id)).fetchone())

    @staticmethod
    def _settle_thread(conn: sqlite3.Connection, tenant: str, thread_id: str, at: str) -> None:
        """A thread left 'busy' with no active run goes back to what its state shows."""
        conn.execute(
            "UPDATE hg_threads SET status = CASE WHEN interrupts != '{}' THEN 'interrupted' "
            "ELSE 'idle' END, updated_at = ? WHERE tenant = ? AND thread_id = ? AND status = "
            "'busy' AND NOT EXISTS (SELECT 1 FROM hg_runs WHERE tenant = ? AND thread_id = ? "
            "AND status IN ('pending', 'running'))", (at, tenant, thread_id, tenant, thread_id))

    async def claim_run(self, worker_id: str, lease_seconds: float) -> Claim | None:
        return await self._run(self._claim_run, worker_id, lease_seconds)

    def _claim_run(self, worker_id: str, lease_seconds: float) -> Claim | None:
        with self._tx() as conn:
            now = time.time()
            found = conn.execute(sql.CLAIMABLE, {"now": now}).fetchone()
            if found is None:
                return None
            run_id = found[0]
            conn.execute(sql.CLAIM, {"worker": worker_id, "until": now + lease_seconds,
                                     "at": now_iso(), "run_id": run_id})
            row = sql.run_row(conn.execute(
                f"SELECT {sql.RUN_COLUMNS} FROM hg_runs WHERE run_id = ?", (run_id,)).fetchone())
            return Claim(run=row, fencing=row.fencing, worker_id=worker_id)

    async def heartbeat(self, run_id: str, fencing: int, lease_seconds: float) -> Heartbeat:
        return await self._run(self._heartbeat, run_id, fencing, lease_seconds)

    def _heartbeat(self, run_id: str, fencing: int, lease_seconds: float) -> Heartbeat:
        with self._tx() as conn:
            found = conn.execute(sql.HEARTBEAT, {"until": time.time() + lease_seconds,
                                                 "run_id": run_id, "fencing": fencing}).fetchone()
        if found is None:
            return Heartbeat(held=False, cancel_action=None)
        return Heartbeat(held=True, cancel_action=found[0])

    async def finish_run(self, run_id: str, fencing: int, *, status: RunStatus, output: Any,
                         error: dict[str, Any] | None, thread_values: Any,
                         thread_interrupts: dict[str, list[dict[str, Any]]],
                         thread_status: ThreadStatus, delete_run: bool = False) -> bool:
        return await self._run(self._finish_run, run_id, fencing, status, output, error,
                               thread_values, thread_interrupts, thread_status, delete_run)

    def _finish_run(self, run_id: str, fencing: int, status: str, output: Any,
                    error: dict[str, Any] | None, thread_values: Any,
                    thread_interrupts: dict[str, list[dict[str, Any]]], thread_status: str,
                    delete_run: bool) -> bool:
        with self._tx() as conn:
            at = now_iso()
            found = conn.execute(sql.FINISH, {
                "status": status, "output": _json(output),
                "error": _json_or_null(error), "at": at,
                "run_id": run_id, "fencing": fencing}).fetchone()
            if found is None:
                return False
            tenant, thread_id = found
            if delete_run:
                conn.execute("DELETE FROM hg_runs WHERE run_id = ?", (run_id,))
                conn.execute("DELETE FROM hg_run_events WHERE run_id = ?", (run_id,))
            conn.execute(sql.THREAD_AFTER_RUN, {
                "values": _json(thread_values), "interrupts": _json(thread_interrupts),
                "at": at, "tenant": tenant, "thread_id": thread_id, "status": thread_status,
                "error": _json_or_null(thread_error(thread_status, error))})
            return True

    async def record_start(self, run_id: str, fencing: int, start_point: dict[str, Any]
                           ) -> bool:
        return await self._run(self._record_start, run_id, fencing, start_point)

    def _record_start(self, run_id: str, fencing: int, start_point: dict[str, Any]) -> bool:
        with self._tx() as conn:
            return conn.execute(sql.RECORD_START,
                                (_json(start_point), run_id, fencing)).rowcount > 0

    async def active_runs_of_assistant(self, tenant: str, assistant_id: str) -> list[RunRow]:
        return await self._run(self._active_runs_of_assistant, tenant, assistant_id)

    def _active_runs_of_assistant(self, tenant: str, assistant_id: str) -> list[RunRow]:
        rows = self.conn.execute(sql.ASSISTANT_ACTIVE_RUNS, (tenant, assistant_id)).fetchall()
        return [sql.run_row(r) for r in rows]

    # -- assistants ----------------------------------------------------------------------------

    async def _assistant_op(self, op: assistants.Op[_T]) -> _T:
        def run() -> _T:
            with self._tx() as conn:
                return assistants.drive(op, lambda name, params: conn.execute(
                    sql.ASSISTANTS[name], params).fetchall())
        return await self._run(run)

    # -- run events ----------------------------------------------------------------------------

    async def append_events(self, run_id: str, fencing: int,
                            events: Sequence[tuple[str, str]]) -> bool:
        return await self._run(self._append_events, run_id, fencing, list(events))

    def _append_events(self, run_id: str, fencing: int, events: list[tuple[str, str]]) -> bool:
        with self._tx() as conn:
            if conn.execute(sql.HOLDS, (run_id, fencing)).fetchone() is None:
                return False
            (last,) = conn.execute(sql.LAST_SEQ, (run_id,)).fetchone()
            conn.executemany(sql.INSERT_EVENT, [
                (run_id, last + i, event, data) for i, (event, data) in enumerate(events, 1)])
            return True

    async def read_events(self, run_id: str, after_seq: int, limit: int = 500
                          ) -> list[RunEvent]:
        return await self._run(self._read_events, run_id, after_seq, limit)

    def _read_events(self, run_id: str, after_seq: int, limit: int) -> list[RunEvent]:
        rows = self.conn.execute(sql.READ_EVENTS, (run_id, after_seq, limit)).fetchall()
        return [RunEvent(run_id=r[0], seq=r[1], event=r[2], data=r[3]) for r in rows]
