"""What /metrics reads from the databases when it is scraped: open interrupts per graph (from
the checkpointer's index of open interrupts), runs per status and the worker leases held now
(from the store's runs). Every read is bounded: a count stops at `PENDING_CAP` interrupts per
graph, and the run counts are one aggregate query each."""

from __future__ import annotations

import time
from typing import Any, Final

from hitlgraph.review import PendingIndex
from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store.base import Store

__all__ = ["PENDING_CAP", "count_pending", "leases_held", "runs_by_status"]

PENDING_CAP: Final = 10_000
"""The most open interrupts counted per graph (a count that reaches it means "at least")."""
_PAGE: Final = 500


async def count_pending(saver: Any, graph_id: str) -> int | None:
    """The graph's open interrupts, up to PENDING_CAP; None when the saver keeps no index."""
    if not isinstance(saver, PendingIndex):
        return None
    count, after = 0, None
    while count < PENDING_CAP:  # bounded: PENDING_CAP / _PAGE pages at most
        page = [item async for item in saver.alist_pending(
            graph_id=graph_id, limit=min(_PAGE, PENDING_CAP - count), after=after)]
        count += len(page)
        if len(page) < _PAGE:
            break
        after = page[-1].cursor
    return count


def _by_status() -> Op[dict[str, int]]:
    rows = yield "SELECT status, COUNT(*) FROM hg_runs GROUP BY status", {}
    return {str(status): int(n) for status, n in rows}


def _leases(d: Dialect) -> Op[int]:
    ((n,),) = yield (f"SELECT COUNT(*) FROM hg_runs WHERE status = 'running' AND "
                     f"lease_until >= {d.clock}", {"now": time.time()})
    return int(n)


async def runs_by_status(store: Store) -> dict[str, int]:
    """How many runs the store holds in each status (every tenant's)."""
    return await store._read(_by_status())


async def leases_held(store: Store) -> int:
    """Runs a worker (of any process) holds a live lease on now."""
    return await store._read(_leases(store.dialect))
