"""Garbage collection, for every backend (see `_ops.py`): the finished runs of stateless
requests made with on_completion "delete" go, with their events, once their client had time
to read the result (their thread went when they ended)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op

__all__ = ["sweep_runs"]


def sweep_runs(d: Dialect, older_than_seconds: float) -> Op[int]:
    """Delete those runs that ended more than `older_than_seconds` ago, and their events;
    returns how many went."""
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than_seconds)
    gone = yield ("DELETE FROM hg_runs WHERE temporary AND on_completion = 'delete' "
                  "AND status IN ('success', 'error', 'interrupted', 'timeout') "
                  f"AND updated_at < {d.cutoff} RETURNING run_id",
                  {"age": float(older_than_seconds), "cutoff": cutoff.isoformat()})
    if gone:
        yield (f"DELETE FROM hg_run_events WHERE {d.member('run_id', 'ids')}",
               {"ids": d.text_list([run_id for (run_id,) in gone])})
    return len(gone)
