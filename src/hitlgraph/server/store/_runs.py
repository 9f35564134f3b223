"""Run operations a client asks for, for every backend (see `_ops.py`): queue a run under its
multitask strategy, read, list, cancel and delete runs. (What a worker does with a run it
claims is in `_leases.py`.)

Whatever changes a thread's runs locks the thread's row first, so that two requests on one
thread are ordered: each sees the runs of the ones before it (multitask strategy 'reject'
refuses all but one), and none deadlocks with a worker finishing a run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import hitlgraph.server.store._threads as threads
from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._last import Last
from hitlgraph.server.store._notify import CANCEL, CHANGED, QUEUED, notify
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._records import ACTIVE, CancelAction, NewRun, RunRow, ThreadRow
from hitlgraph.server.store._rows import RUN_COLUMNS, dumps, now_iso, run_row, thread_row
from hitlgraph.server.store._rules import on_busy_thread, queued_metadata

__all__ = ["active_of_assistant", "cancel", "claims", "create", "delete", "get",
           "list_of_thread"]

_ACTIVE = "status IN ('pending', 'running')"


def create(d: Dialect, run: NewRun, create_thread: bool, thread_metadata: Mapping[str, Any],
           lease: tuple[str, float] | None = None) -> Op[RunRow | None]:
    """Queue `run` (pending) on its thread, applying its multitask strategy to the thread's
    active runs, and mark the thread busy; None when the thread is missing and
    `create_thread` is False.

    With `lease` (worker id, seconds), a run that nothing on its thread holds back (no
    other active run, or only pending ones its strategy just cancelled) is claimed in the
    same transaction, as `_leases.claim` would: 'running', leased, fencing token and
    attempt 1. The caller sees this in the row's status; a run held back stays pending
    for the workers.

    Raises:
        ThreadBusyError: the strategy is 'reject' and the thread has an active run.
    """
    key, at = {"tenant": run.tenant, "thread_id": run.thread_id}, now_iso()
    if create_thread:
        yield threads.insert(d), {**key, "metadata": dumps(dict(thread_metadata)), "at": at}
    found = yield from _thread_and_active(d, key)
    if found is None:
        return None
    thread, active = found
    if run.check is not None:
        run.check(thread)
    action = on_busy_thread(run, active)
    if action is not None:
        yield from _cancel(d, active, action, at)
    run_metadata, thread_metadata = queued_metadata(thread, run)
    free = all(status == "pending" for _, status in active) and (not active or bool(action))
    params = {**key, "run_id": run.run_id, "assistant_id": run.assistant_id, "at": at,
              "graph_id": run.graph_id, "metadata": dumps(run_metadata),
              "kwargs": dumps(run.kwargs), "strategy": run.multitask_strategy,
              "temporary": run.temporary, "on_completion": run.on_completion}
    claimed = lease is not None and free
    # The thread's and the notification's statements first (queued): the run's INSERT is
    # the last write, and PostgreSQL commits in its round trip.
    yield (f"UPDATE hg_threads SET status = 'busy', updated_at = {d.now}, metadata = :metadata, "
           f"graph_id = :graph_id WHERE {threads.KEY}",
           {**key, "metadata": dumps(thread_metadata), "graph_id": run.graph_id, "at": at})
    if not claimed:  # (one claimed here leaves the workers nothing to find)
        yield from notify(d, QUEUED)
    if claimed and lease is not None:
        params.update(worker=lease[0], lease=float(lease[1]), now=time.time())
        (made_row,) = yield Last(_insert(d, f"{_CLAIMED}, {d.lease_end}, 1, 1"), params)
    else:
        (made_row,) = yield Last(_insert(d, "'pending', NULL, NULL, 0, 0"), params)
    made = run_row(made_row)
    return made


def _thread_and_active(d: Dialect, key: dict[str, str]
                       ) -> Op[tuple[ThreadRow, Sequence[tuple[str, str]]] | None]:
    """The thread (locked until the transaction ends) and its active runs ((run_id,
    status), oldest first); None when the thread is missing."""
    if d.thread_and_active is None:
        thread = yield from threads.get(d, key["tenant"], key["thread_id"], for_update=True)
        if thread is None:
            return None
        active = yield (f"SELECT run_id, status FROM hg_runs WHERE {threads.KEY} AND "
                        f"{_ACTIVE} ORDER BY {d.oldest_first()}", key)
        return thread, active
    if d.lock_row:  # (its rows are not read: the SELECT after it reads the locked row)
        yield threads.lock_quietly(d), key
    rows = yield d.thread_and_active, key
    if not rows:
        return None
    runs = sorted(json.loads(rows[0][-1]), key=lambda r: (r[2], r[3]))  # (oldest_first)
    return thread_row(rows[0][:-1]), [(run_id, status) for run_id, status, *_ in runs]


_CLAIMED = "'running', :worker"
"""How the INSERT of a run claimed as it is made begins its status and lease owner."""


def claims(sql: str) -> bool:
    """Whether `sql` (a statement of `create`) inserts the run claimed."""
    return sql.startswith("INSERT INTO hg_runs") and _CLAIMED in sql


def _insert(d: Dialect, held: str) -> str:
    """The INSERT of a new run whose status, lease owner, lease end, fencing token and
    attempt are `held`."""
    return (
        "INSERT INTO hg_runs (run_id, tenant, thread_id, assistant_id, graph_id, created_at, "
        "updated_at, status, lease_owner, lease_until, fencing, attempt, metadata, kwargs, "
        "multitask_strategy, temporary, on_completion) VALUES (:run_id, :tenant, :thread_id, "
        f":assistant_id, :graph_id, {d.now}, {d.now}, {held}, :metadata, :kwargs, :strategy, "
        f":temporary, :on_completion) RETURNING {RUN_COLUMNS}")


def _cancel(d: Dialect, runs: Sequence[tuple[str, str]], action: CancelAction, at: str
            ) -> Op[None]:
    """Cancel active runs ((run_id, status)): a pending one ends 'interrupted' at once; a
    running one is marked with `action` for its worker to act on."""
    for run_id, status in runs:
        params = {"run_id": run_id, "action": action, "at": at}
        if status == "pending":
            yield ("UPDATE hg_runs SET status = 'interrupted', cancel_action = :action, "
                   f"updated_at = {d.now} WHERE run_id = :run_id", params)
            yield from notify(d, CHANGED, run_id)
        else:
            yield "UPDATE hg_runs SET cancel_action = :action WHERE run_id = :run_id", params
            yield from notify(d, CANCEL, run_id)


def get(d: Dialect, tenant: str, run_id: str, thread_id: str | None = None
        ) -> Op[RunRow | None]:
    """The run (on `thread_id` when given), or None."""
    found = yield (f"SELECT {RUN_COLUMNS} FROM hg_runs WHERE tenant = :tenant AND "
                   "run_id = :run_id", {"tenant": tenant, "run_id": run_id})
    if not found:
        return None
    row = run_row(found[0])
    return row if thread_id is None or row.thread_id == thread_id else None


def list_of_thread(d: Dialect, tenant: str, thread_id: str, *, limit: int, offset: int,
                   status: str | None) -> Op[list[RunRow]]:
    """The thread's runs (of `status` when given), newest first."""
    where = threads.KEY + ("" if status is None else " AND status = :status")
    rows = yield (f"SELECT {RUN_COLUMNS} FROM hg_runs WHERE {where} "
                  f"ORDER BY {d.oldest_first(desc=True)} LIMIT :limit OFFSET :offset",
                  {"tenant": tenant, "thread_id": thread_id, "status": status,
                   "limit": limit, "offset": offset})
    return [run_row(r) for r in rows]


def active_of_assistant(d: Dialect, tenant: str, assistant_id: str) -> Op[list[RunRow]]:
    """The pending and running runs of an assistant, oldest first."""
    rows = yield (f"SELECT {RUN_COLUMNS} FROM hg_runs WHERE tenant = :tenant AND "
                  f"assistant_id = :assistant_id AND {_ACTIVE} ORDER BY {d.oldest_first()}",
                  {"tenant": tenant, "assistant_id": assistant_id})
    return [run_row(r) for r in rows]


def cancel(d: Dialect, tenant: str, thread_id: str, run_id: str, action: CancelAction
           ) -> Op[RunRow | None]:
    """Cancel the run (see `_cancel`); a thread left with no active run goes back to what its
    state shows. None when the thread or the run is missing."""
    if not (yield from threads.lock(d, tenant, thread_id)):
        return None
    row = yield from get(d, tenant, run_id, thread_id)
    if row is None:
        return None
    if row.status in ACTIVE:
        at = now_iso()
        yield from _cancel(d, [(run_id, row.status)], action, at)
        if row.status == "pending":
            yield (
                "UPDATE hg_threads SET status = CASE WHEN interrupts <> '{}' THEN "
                f"'interrupted' ELSE 'idle' END, updated_at = {d.now} WHERE {threads.KEY} "
                f"AND status = 'busy' AND NOT EXISTS (SELECT 1 FROM hg_runs WHERE "
                f"{threads.KEY} AND {_ACTIVE})",
                {"tenant": tenant, "thread_id": thread_id, "at": at})
            yield from notify(d, QUEUED)
    return (yield from get(d, tenant, run_id))


def delete(d: Dialect, tenant: str, thread_id: str, run_id: str) -> Op[bool]:
    """Delete a run and its events; False when missing."""
    gone = yield (f"DELETE FROM hg_runs WHERE {threads.KEY} AND run_id = :run_id "
                  "RETURNING run_id", {"tenant": tenant, "thread_id": thread_id,
                                       "run_id": run_id})
    if gone:
        yield "DELETE FROM hg_run_events WHERE run_id = :run_id", {"run_id": run_id}
    return bool(gone)
