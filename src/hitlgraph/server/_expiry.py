"""The expiry timer: every `expire_seconds` the server applies the review policies that are
due (`hitlgraph.review.aapply_expired`: warnings, default answers, cancels, escalations).

Several processes may run it on one database: each policy still happens once, since
aapply_expired changes the index compare-and-set and a default answer is claimed as any
resume is. A default answer resumes the thread through the graph that thread runs (the
server's threads may run different graphs: `_ServedGraphs` picks it from the thread's row),
and the thread's row is then brought up to date (its values, status and interrupts), as after
update_state; so is the row of a thread whose interrupt a policy cancelled, whose run the
cancel ended (through the graph's update_state: the state's metadata says why).

A default answer is not a server run (no run record, no run events, no run webhook): the
timer resumes the graph itself. Queuing it as a run instead would need (1) its answer in the
run's JSON kwargs, while `Expire.answer(value)` keeps any serializable value exactly as asked
(the index stores it serialized, not as JSON); (2) a run per (thread, interrupt) made once
however many servers' timers see it due, which the runs table has no key for (today the
claim of the answer is that once: two queued runs would leave one failed run record); and
(3) "answered" reported only once the worker ran it. The decision log and the review outbox
record each default answer (by "policy") all the same, so what the issue asks of a deadline
(applied once by the server's timer, logged by "policy" with its rule, `interrupt.expired` to
the webhooks, counted in /metrics) holds without a run; what a run adds (a run record, a
`run.finished`) the README says a default answer does not have.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from hitlgraph.review import aapply_expired
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.config import BoundGraph
from hitlgraph.server.routes.threads import graph_of, refresh_thread
from hitlgraph.server.store.base import ThreadRow

__all__ = ["expire_once", "run_expiry"]

log = logging.getLogger("hitlgraph.server")

LIMIT: Final = 100
"""Due policies one tick applies at most (the rest wait for the next tick)."""
_REFRESHED: Final = frozenset({"answered", "cancelled"})


def _split(thread_id: str) -> tuple[str, str]:
    """(tenant, thread id) of a checkpointer thread id ("tenant/thread" or "thread")."""
    tenant, sep, thread = thread_id.partition("/")
    return (tenant, thread) if sep else ("", thread_id)


class _ServedGraphs:
    """What aapply_expired resumes through: each thread's own served graph."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.checkpointer = rt.saver

    async def _thread(self, thread_id: str) -> ThreadRow:
        tenant, thread = _split(thread_id)
        row = await self.rt.store.get_thread(tenant, thread)
        if row is None:
            raise LookupError(f"Thread '{thread}' has no row in the server's store (deleted?).")
        return row

    async def _served(self, config: dict[str, Any]) -> tuple[BoundGraph, dict[str, Any]]:
        """The graph the row of `config`'s thread names, and `config` with its graph_id."""
        row = await self._thread(config["configurable"]["thread_id"])
        bound = graph_of(self.rt, row)
        if bound is None:
            raise LookupError(f"Thread '{row.thread_id}' runs no graph this server serves.")
        return bound, {**config, "metadata": {**config.get("metadata", {}),
                                              "graph_id": bound.graph_id}}

    async def ainvoke(self, value: Any, config: dict[str, Any]) -> Any:
        """Resume the thread of `config` with the graph its row names."""
        bound, config = await self._served(config)
        return await bound.runnable.ainvoke(value, config)

    async def aupdate_state(self, config: dict[str, Any], values: Any,
                            as_node: str | None = None) -> Any:
        """update_state through the thread's graph (how a cancel ends the thread's run)."""
        bound, config = await self._served(config)
        return await bound.compiled.aupdate_state(config, values, as_node=as_node)

    async def refresh(self, thread_id: str) -> None:
        """Bring the thread's row up to date with its latest checkpoint."""
        row = await self._thread(thread_id)
        bound = graph_of(self.rt, row)
        if bound is not None:
            await refresh_thread(self.rt, row.tenant, row, bound)


async def expire_once(rt: Runtime) -> int:
    """Apply what is due now; how many policies were applied (warnings included)."""
    graphs = _ServedGraphs(rt)
    done = await aapply_expired(graphs, rt.saver, limit=LIMIT)
    for item in done:
        if item.result == "failed":
            log.warning("the review policy of interrupt %s (thread '%s') failed: %s",
                        item.interrupt_id, item.thread_id, item.detail)
        if item.result in _REFRESHED:
            await graphs.refresh(item.thread_id)
    return sum(item.result not in ("skipped", "failed") for item in done)


async def run_expiry(rt: Runtime) -> None:
    """`expire_once` every `expire_seconds`, until cancelled (a failed tick is logged)."""
    while True:
        try:
            await expire_once(rt)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("applying due review policies failed; trying again later")
        await asyncio.sleep(rt.settings.expire_seconds)
