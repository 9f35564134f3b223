"""Thread operations, for every backend (see `_ops.py`): create, read, search, patch,
save the state a run or an update left, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._last import Last
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._records import ThreadRow, ThreadStatus
from hitlgraph.server.store._rows import THREAD_COLUMNS, dumps, now_iso, thread_row
from hitlgraph.server.store._rules import state_status

__all__ = ["after_run", "create", "delete", "get", "insert", "lock", "patch", "save_state",
           "search"]

KEY = "tenant = :tenant AND thread_id = :thread_id"
_SORTABLE = frozenset({"thread_id", "status", "created_at", "updated_at"})


def insert(d: Dialect) -> str:
    """Insert the thread `:tenant`, `:thread_id` with `:metadata` unless it exists; returns
    the row made."""
    return ("INSERT INTO hg_threads (tenant, thread_id, created_at, updated_at, "
            f"state_updated_at, metadata) VALUES (:tenant, :thread_id, {d.now}, {d.now}, "
            f"{d.now}, :metadata) ON CONFLICT (tenant, thread_id) DO NOTHING "
            f"RETURNING {THREAD_COLUMNS}")


def after_run(d: Dialect) -> str:
    """Store a thread's new state and error; its status is `:status` unless runs are still
    active on it ('busy')."""
    return ('UPDATE hg_threads SET "values" = :values, interrupts = :interrupts, '
            f"updated_at = {d.now}, state_updated_at = {d.now}, error = :error, "
            "status = CASE WHEN EXISTS (SELECT 1 FROM hg_runs WHERE tenant = :tenant AND "
            "thread_id = :thread_id AND status IN ('pending', 'running')) THEN 'busy' "
            f"ELSE :status END WHERE {KEY}")


def create(d: Dialect, tenant: str, thread_id: str, metadata: dict[str, Any],
           if_exists: Literal["raise", "do_nothing"]) -> Op[ThreadRow | None]:
    """Insert a thread; when it exists, return it ("do_nothing") or None ("raise")."""
    # Its only write: PostgreSQL commits in the INSERT's round trip (what follows only reads).
    made = yield Last(insert(d), {"tenant": tenant, "thread_id": thread_id,
                                  "metadata": dumps(metadata), "at": now_iso()})
    if made:
        return thread_row(made[0])
    if if_exists == "raise":
        return None
    return (yield from get(d, tenant, thread_id))


def get(d: Dialect, tenant: str, thread_id: str, *, for_update: bool = False
        ) -> Op[ThreadRow | None]:
    """The thread, or None (`for_update`: locked until the transaction ends)."""
    lock_row = d.lock_row if for_update else ""
    found = yield (f"SELECT {THREAD_COLUMNS} FROM hg_threads WHERE {KEY}{lock_row}",
                   {"tenant": tenant, "thread_id": thread_id})
    return thread_row(found[0]) if found else None


def lock_quietly(d: Dialect) -> str:
    """A statement locking the thread `:tenant`, `:thread_id` until the transaction ends,
    whose rows nobody reads (PostgreSQL's pipeline sends it with the next statement)."""
    return f"SELECT 1 FROM hg_threads WHERE {KEY}{d.lock_row}"


def lock(d: Dialect, tenant: str, thread_id: str) -> Op[bool]:
    """Lock the thread's row until the transaction ends, as everything that changes the
    thread's runs does first (so such transactions are ordered, and never deadlock); False
    when it is missing."""
    found = yield (f"SELECT thread_id FROM hg_threads WHERE {KEY}{d.lock_row}",
                   {"tenant": tenant, "thread_id": thread_id})
    return bool(found)


def patch(d: Dialect, tenant: str, thread_id: str, metadata: dict[str, Any]
          ) -> Op[ThreadRow | None]:
    """Merge `metadata` into the thread's; None when missing."""
    thread = yield from get(d, tenant, thread_id, for_update=True)
    if thread is None:
        return None
    rows = yield (f"UPDATE hg_threads SET metadata = :metadata, updated_at = {d.now} "
                  f"WHERE {KEY} RETURNING {THREAD_COLUMNS}",
                  {"tenant": tenant, "thread_id": thread_id, "at": now_iso(),
                   "metadata": dumps({**thread.metadata, **metadata})})
    return thread_row(rows[0]) if rows else None


def delete(d: Dialect, tenant: str, thread_id: str, keep_runs: bool) -> Op[bool]:
    """Delete the thread, and unless `keep_runs` its runs and their events; False when the
    thread is missing."""
    key = {"tenant": tenant, "thread_id": thread_id}
    gone = yield f"DELETE FROM hg_threads WHERE {KEY} RETURNING thread_id", key
    if not keep_runs:
        yield ("DELETE FROM hg_run_events WHERE run_id IN (SELECT run_id FROM hg_runs "
               f"WHERE {KEY})", key)
        yield f"DELETE FROM hg_runs WHERE {KEY}", key
    return bool(gone)


def search(d: Dialect, tenant: str, status: str | None, ids: Sequence[str] | None,
           sort_by: str, sort_order: str, limit: int, offset: int) -> Op[list[ThreadRow]]:
    """A page of the tenant's threads, of `status` and among `ids` when given, sorted by
    `sort_by` (created_at unless sortable), ties in the order the threads were made (as
    LangGraph's server's stable sort leaves them)."""
    if ids is not None and not ids:
        return []
    where, params = ["tenant = :tenant"], {"tenant": tenant, "status": status,
                                           "ids": None if ids is None else d.text_list(ids),
                                           "limit": limit, "offset": offset}
    if status is not None:
        where.append("status = :status")
    if ids is not None:
        where.append(d.member("thread_id", "ids"))
    column = "COALESCE(state_updated_at, updated_at)" if sort_by == "state_updated_at" else (
        sort_by if sort_by in _SORTABLE else "created_at")
    order = "ASC" if sort_order == "asc" else "DESC"
    rows = yield (f"SELECT {THREAD_COLUMNS} FROM hg_threads WHERE {' AND '.join(where)} "
                  f"ORDER BY {column} {order}, {d.rowid} ASC LIMIT :limit OFFSET :offset",
                  params)
    return [thread_row(r) for r in rows]


def save_state(d: Dialect, tenant: str, thread_id: str, *, values: Any,
               interrupts: dict[str, list[dict[str, Any]]], status: ThreadStatus | None,
               graph_id: str | None) -> Op[None]:
    """Store what the thread's latest checkpoint shows; `status` None takes it from the
    state. A graph_id is recorded only where none is."""
    if not (yield from lock(d, tenant, thread_id)):
        return
    key = {"tenant": tenant, "thread_id": thread_id}
    yield after_run(d), {**key, "values": dumps(values), "interrupts": dumps(interrupts),
                         "at": now_iso(), "error": None,
                         "status": status or state_status(interrupts)}
    if graph_id is not None:
        yield (f"UPDATE hg_threads SET graph_id = COALESCE(graph_id, :graph_id) WHERE {KEY}",
               {**key, "graph_id": graph_id})
