"""/metrics: the server's review and run figures in Prometheus's text format.

Two kinds of figures:

- read from the databases at each scrape (`_metrics_read.py`), so every process reports the
  same, whole-database values: `hitlgraph_pending_interrupts{graph_id}`,
  `hitlgraph_runs{status}`, `hitlgraph_worker_leases`;
- counted by this process since it started, from the review events it reads
  (`hitlgraph_decisions_total{outcome}`, `hitlgraph_expired_interrupts_total`,
  `hitlgraph_time_to_decision_seconds`) and the runs its workers end
  (`hitlgraph_run_duration_seconds{status}`). The review events come from the shared
  outbox, so with several server processes on one database each counts every decision:
  aggregate those with max(), not sum(); run durations are each process's own.

Each app has its own registry (several apps may live in one test process).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from hitlgraph.review._events import ReviewEvent
from hitlgraph.server._metrics_read import count_pending, leases_held, runs_by_status

__all__ = ["CONTENT_TYPE_LATEST", "ServerMetrics"]

_STATUSES: Final = ("pending", "running", "success", "error", "interrupted", "timeout")
_DECISION_BUCKETS: Final = (1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0,
                            7 * 86400.0, float("inf"))
_RUN_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
                       float("inf"))
_REMEMBERED: Final = 10_000
"""Open interrupts whose creation time is kept for the time to decision (oldest dropped)."""


def _key(thread_id: str, interrupt_id: str) -> int:
    """The 64-bit hash an open interrupt's creation time is kept under.

    The map holds up to _REMEMBERED entries for as long as they stay open, so its entry size
    is the server's memory per paused thread: a tuple of the two ids and the ISO text of the
    time cost about 385 bytes an entry (3.9 MB at 10,000 paused threads, more than half of
    the server's own figure); an int and a float, about 135. Two open interrupts with equal
    hashes (odds about 1 in 10^11 at 10,000) would only swap their times in the histogram.
    """
    return hash((thread_id, interrupt_id))


def _timestamp(at: str) -> float | None:
    try:
        return datetime.fromisoformat(at).timestamp()
    except (TypeError, ValueError):
        return None


def _seconds_between(start: str | float, end: str) -> float | None:
    """From `start` (ISO 8601, or a timestamp) to `end`; None if either is unreadable or
    the interval is negative."""
    begun = start if isinstance(start, float) else _timestamp(start)
    ended = _timestamp(end)
    if begun is None or ended is None:
        return None
    took = ended - begun
    return took if took >= 0 else None


class ServerMetrics:
    """One app's metrics (see the module docstring)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.pending = Gauge("hitlgraph_pending_interrupts", "Open interrupts, per graph "
                             "(counted up to 10000).", ["graph_id"], registry=r)
        self.runs = Gauge("hitlgraph_runs", "Runs the store holds, per status.", ["status"],
                          registry=r)
        self.leases = Gauge("hitlgraph_worker_leases", "Runs a worker holds a live lease on.",
                            registry=r)
        self.decisions = Counter("hitlgraph_decisions", "Decisions about interrupts, per "
                                 "outcome.", ["outcome"], registry=r)
        self.expired = Counter("hitlgraph_expired_interrupts", "Interrupts whose deadline "
                               "policy was applied.", registry=r)
        self.time_to_decision = Histogram(
            "hitlgraph_time_to_decision_seconds", "From an interrupt's creation to its answer.",
            buckets=_DECISION_BUCKETS, registry=r)
        self.run_duration = Histogram("hitlgraph_run_duration_seconds", "Run durations, per "
                                      "final status.", ["status"], buckets=_RUN_BUCKETS,
                                      registry=r)
        self._created: OrderedDict[int, float] = OrderedDict()
        """Creation times (timestamps) of open interrupts, by `_key`, oldest first."""

    def observe_event(self, event: ReviewEvent) -> None:
        """Count one review event (the feed of the shared outbox calls this)."""
        key = _key(event.thread_id, event.interrupt_id)
        if event.kind == "interrupt.created":
            at = _timestamp(event.at)
            if at is not None:
                self._created[key] = at
            while len(self._created) > _REMEMBERED:
                self._created.popitem(last=False)
            return
        if event.kind == "interrupt.expired":
            self.expired.inc()
        if event.kind not in ("interrupt.decided", "interrupt.expired"):
            return
        outcome = str(event.data.get("outcome") or "unknown")
        self.decisions.labels(outcome=outcome).inc()
        if outcome not in ("answered", "expired"):
            return
        created = event.data.get("created_at") or self._created.pop(key, None)
        took = (_seconds_between(created, event.at) if isinstance(created, (str, float))
                else None)
        if took is not None:
            self.time_to_decision.observe(took)

    def observe_run(self, status: str, started: str, ended: str) -> None:
        """Record a run this process's workers ended (times as ISO 8601)."""
        took = _seconds_between(started, ended)
        if took is not None:
            self.run_duration.labels(status=status).observe(took)

    async def render(self, rt: Any) -> bytes:
        """The text of a scrape, with the figures read now (`rt`: the server's Runtime)."""
        for graph_id in sorted(rt.graphs):
            count = await count_pending(rt.saver, graph_id)
            if count is not None:
                self.pending.labels(graph_id=graph_id).set(count)
        counts = await runs_by_status(rt.store)
        for status in sorted({*_STATUSES, *counts}):
            self.runs.labels(status=status).set(counts.get(status, 0))
        self.leases.set(await leases_held(rt.store))
        return generate_latest(self.registry)
