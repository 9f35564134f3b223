"""What a worker does with runs, for every backend (see `_ops.py`): claim one, renew its lease,
record where it started, finish it.

A claim sets `lease_until` and increments the run's `fencing` token; every later write of the
worker names the token and is refused (nothing written) once another worker has claimed the
run again after its lease ran out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import hitlgraph.server.store._events as run_events
import hitlgraph.server.store._threads as threads
from hitlgraph import _faults
from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._last import Last
from hitlgraph.server.store._notify import CHANGED, QUEUED, notify
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._records import Claim, Heartbeat, RunStatus, ThreadStatus
from hitlgraph.server.store._rows import RUN_COLUMNS, dumps, dumps_or_null, now_iso, run_row
from hitlgraph.server.store._rules import thread_error

__all__ = ["anything_claimable", "claim", "finish", "heartbeat", "lease_check",
           "record_start"]

_HELD = "run_id = :run_id AND fencing = :fencing AND status = 'running'"

RENEW_WHEN_LEFT = 2 / 3
"""A heartbeat renews the lease only once less than this share of its length is left: the
worker beats every third of a lease at most, so the lease never falls below a third."""


def _runnable(d: Dialect) -> str:
    """The runnable runs `r`: pending, or running with an expired lease (its worker died),
    on a thread where no other run holds a live lease and no older run is active."""
    return f"""FROM hg_runs r
    WHERE (r.status = 'pending' OR (r.status = 'running' AND r.lease_until < {d.clock}))
      AND NOT EXISTS (
        SELECT 1 FROM hg_runs o
        WHERE o.tenant = r.tenant AND o.thread_id = r.thread_id AND o.run_id <> r.run_id
          AND o.status = 'running' AND o.lease_until >= {d.clock})
      AND NOT EXISTS (
        SELECT 1 FROM hg_runs e
        WHERE e.tenant = r.tenant AND e.thread_id = r.thread_id AND e.run_id <> r.run_id
          AND e.status IN ('pending', 'running') AND {d.earlier('e', 'r')})"""


def _claimable(d: Dialect) -> str:
    """The oldest runnable run. (Where rows are locked, one another claim is taking is
    skipped, not waited for.)"""
    return (f"SELECT r.run_id {_runnable(d)} ORDER BY {d.oldest_first('r')} "
            f"LIMIT 1{d.skip_locked}")


def anything_claimable(d: Dialect) -> Op[bool]:
    """Whether a claim would find a run now, read without a lock. Idle workers wake at every
    queued or finished run and all but one find nothing: asking first spares each of them a
    write transaction (on SQLite, a wait for the file's one writer)."""
    found = yield f"SELECT EXISTS (SELECT 1 {_runnable(d)})", {"now": time.time()}
    return bool(found and found[0][0])


def claim(d: Dialect, worker_id: str, lease_seconds: float) -> Op[Claim | None]:
    """Take the oldest runnable run: set it running, leased to `worker_id` for
    `lease_seconds`, with the next fencing token. None when there is nothing to do."""
    found = yield (
        f"UPDATE hg_runs SET status = 'running', lease_owner = :worker, "
        f"lease_until = {d.lease_end}, fencing = fencing + 1, attempt = attempt + 1, "
        f"updated_at = {d.now} WHERE run_id = ({_claimable(d)}) RETURNING {RUN_COLUMNS}",
        {"worker": worker_id, "lease": float(lease_seconds), "now": time.time(),
         "at": now_iso()})
    if not found:
        return None
    row = run_row(found[0])
    return Claim(run=row, fencing=row.fencing, worker_id=worker_id)


def lease_check(d: Dialect, run_id: str, fencing: int, lease_seconds: float
                ) -> Op[Heartbeat | None]:
    """A heartbeat that writes nothing while the lease has more than RENEW_WHEN_LEFT of
    `lease_seconds` left (None: renew it now with `heartbeat`). A run just claimed, or
    renewed a moment ago, needs no write transaction to learn whether it is still held or
    cancelled."""
    found = yield (f"SELECT cancel_action, lease_until > {d.lease_end} FROM hg_runs "
                   f"WHERE {_HELD}",
                   {"run_id": run_id, "fencing": fencing, "now": time.time(),
                    "lease": float(lease_seconds) * RENEW_WHEN_LEFT})
    if not found:
        return Heartbeat(held=False, cancel_action=None)
    cancel_action, fresh = found[0]
    return Heartbeat(held=True, cancel_action=cancel_action) if fresh else None


def heartbeat(d: Dialect, run_id: str, fencing: int, lease_seconds: float) -> Op[Heartbeat]:
    """Renew the lease of a run the worker holds, and read whether a cancel was asked."""
    if _faults.ARMED:
        _faults.hit("server.lease_renewal")
    found = yield (f"UPDATE hg_runs SET lease_until = {d.lease_end} WHERE {_HELD} "
                   "RETURNING cancel_action",
                   {"run_id": run_id, "fencing": fencing, "lease": float(lease_seconds),
                    "now": time.time()})
    if not found:
        return Heartbeat(held=False, cancel_action=None)
    return Heartbeat(held=True, cancel_action=found[0][0])


def record_start(d: Dialect, run_id: str, fencing: int, start_point: dict[str, Any]
                 ) -> Op[bool]:
    """Record where the run started unless that is recorded already (a reclaimed run keeps
    its first). False when the token is stale."""
    # Its only write: PostgreSQL commits in the UPDATE's round trip.
    found = yield Last(f"UPDATE hg_runs SET start_point = COALESCE(start_point, "
                       f":start_point) WHERE {_HELD} RETURNING run_id",
                       {"run_id": run_id, "fencing": fencing,
                        "start_point": dumps(start_point)})
    return bool(found)


def finish(d: Dialect, run_id: str, fencing: int, *, status: RunStatus, output: Any,
           error: dict[str, Any] | None, thread_values: Any,
           thread_interrupts: dict[str, list[dict[str, Any]]], thread_status: ThreadStatus,
           delete_run: bool, events: Sequence[tuple[str, str]] = (),
           drop_thread: bool = False) -> Op[ThreadStatus | None]:
    """Record the run's end and its thread's new state (the thread stays 'busy' while other
    runs are active), after the run's last `events` (its worker hands over those it had not
    appended yet: a transaction fewer); with `delete_run`, the run and its events go; with
    `drop_thread` (a stateless run's temporary thread), the thread row goes in the same
    commit, so no waiter woken by it still finds the thread. Returns the thread's status
    as this commit left it ('busy': its next run may be claimed now), or None (nothing
    written) when the token is stale."""
    if _faults.ARMED:
        _faults.hit("server.finish")
    # The thread before the run: the order in which creating and cancelling runs lock them
    # (where rows are locked; SQLite's write transaction holds the whole file already).
    if d.lock_row:
        yield (f"SELECT 1 FROM hg_threads WHERE (tenant, thread_id) = (SELECT tenant, "
               f"thread_id FROM hg_runs WHERE run_id = :run_id){d.lock_row}",
               {"run_id": run_id})
    at = now_iso()
    found = yield (f"UPDATE hg_runs SET status = :status, output = :output, error = :error, "
                   f"updated_at = {d.now}, lease_owner = NULL, lease_until = NULL "
                   f"WHERE {_HELD} RETURNING tenant, thread_id",
                   {"run_id": run_id, "fencing": fencing, "status": status, "at": at,
                    "output": dumps(output), "error": dumps_or_null(error)})
    if not found:
        return None
    if events and not delete_run:
        yield from run_events.insert(d, run_id, events)
    if delete_run:
        yield "DELETE FROM hg_runs WHERE run_id = :run_id", {"run_id": run_id}
        yield "DELETE FROM hg_run_events WHERE run_id = :run_id", {"run_id": run_id}
    tenant, thread_id = found[0]
    after = yield threads.after_run(d) + " RETURNING status", {
        "tenant": tenant, "thread_id": thread_id, "at": at, "status": thread_status,
        "values": dumps(thread_values), "interrupts": dumps(thread_interrupts),
        "error": dumps_or_null(thread_error(thread_status, error))}
    if drop_thread:
        yield from threads.delete(d, tenant, thread_id, keep_runs=True)
    yield from notify(d, CHANGED, run_id)
    left: ThreadStatus = after[0][0] if after else thread_status
    if left == "busy":  # the thread's next run may start now
        yield from notify(d, QUEUED)
    return left
