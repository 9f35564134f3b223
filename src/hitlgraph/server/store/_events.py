"""Run events (a run's stream chunks, `seq` counting from 1 per run), for every backend (see
`_ops.py`): the worker holding the run appends them, clients read them."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._notify import CHANGED, notify
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._records import RunEvent

__all__ = ["append", "insert", "read"]


_CHUNK = 100
"""Events per INSERT: 201 bound parameters, far below either database's limit."""


@functools.lru_cache(maxsize=_CHUNK)
def _insert(count: int) -> str:
    """An INSERT of `count` events (`:event1`, `:data1`, ...) numbered on from the run's last
    seq. (Both databases name a VALUES list's columns column1, column2, ...)"""
    rows = ", ".join(f"({n}, :event{n}, :data{n})" for n in range(1, count + 1))
    return ("INSERT INTO hg_run_events (run_id, seq, event, data) "
            "SELECT :run_id, last.seq + t.column1, t.column2, t.column3 FROM (SELECT "
            "COALESCE(MAX(seq), 0) AS seq FROM hg_run_events WHERE run_id = :run_id) AS last, "
            f"(VALUES {rows}) AS t")


def append(d: Dialect, run_id: str, fencing: int, events: Sequence[tuple[str, str]]
           ) -> Op[bool]:
    """Append (event, JSON data) pairs after the run's last seq; False (nothing written) when
    the token is stale. The run's row stays locked meanwhile, so another worker claiming it
    waits until these events are in."""
    held = yield ("SELECT 1 FROM hg_runs WHERE run_id = :run_id AND fencing = :fencing AND "
                  f"status = 'running'{d.share_row}", {"run_id": run_id, "fencing": fencing})
    if not held:
        return False
    yield from insert(d, run_id, events)
    if events:
        yield from notify(d, CHANGED, run_id)
    return True


def insert(d: Dialect, run_id: str, events: Sequence[tuple[str, str]]) -> Op[None]:
    """Insert the events after the run's last seq, `_CHUNK` a statement; the caller holds
    the run (checked its token in this transaction) and notifies."""
    for start in range(0, len(events), _CHUNK):
        chunk = events[start:start + _CHUNK]
        params: dict[str, str] = {"run_id": run_id}
        for n, (event, data) in enumerate(chunk, 1):
            params[f"event{n}"], params[f"data{n}"] = event, data
        yield _insert(len(chunk)), params


def read(d: Dialect, run_id: str, after_seq: int, limit: int) -> Op[list[RunEvent]]:
    """Events with seq > after_seq, in order, at most `limit`."""
    rows = yield ("SELECT run_id, seq, event, data FROM hg_run_events WHERE run_id = :run_id "
                  "AND seq > :after ORDER BY seq LIMIT :limit",
                  {"run_id": run_id, "after": after_seq, "limit": limit})
    return [RunEvent(run_id=r[0], seq=r[1], event=r[2], data=r[3]) for r in rows]
