"""What /metrics keeps per open interrupt (its creation time, for the time to decision) is
the server's memory per paused thread: kept small, and still giving the right durations."""

from __future__ import annotations

import tracemalloc
import uuid

from hitlgraph.review._events import ReviewEvent
from hitlgraph.server._metrics import ServerMetrics

COUNT = 2_000


def _event(kind: str, thread_id: str, at: str, outcome: str | None = None) -> ReviewEvent:
    data = {} if outcome is None else {"outcome": outcome, "by": "ann", "reason": None,
                                       "node": "review", "decision_seq": 1}
    return ReviewEvent(seq=1, kind=kind, at=at, thread_id=thread_id,  # type: ignore[arg-type]
                       checkpoint_ns="", interrupt_id=uuid.uuid4().hex, graph_id="review",
                       data=data)


def _copies(events: list[ReviewEvent]) -> list[ReviewEvent]:
    """The events with strings of their own, as rows read from a database have."""
    return [ReviewEvent(seq=e.seq, kind=e.kind, at="".join(list(e.at)),
                        thread_id="".join(list(e.thread_id)), checkpoint_ns="",
                        interrupt_id="".join(list(e.interrupt_id)), graph_id=e.graph_id,
                        data=e.data) for e in events]


def test_an_open_interrupt_costs_the_metrics_under_160_bytes() -> None:
    metrics = ServerMetrics()
    events = [_event("interrupt.created", f"default/{uuid.uuid4()}",
                     "2026-12-07T10:00:00.123456+00:00") for _ in range(COUNT)]
    tracemalloc.start()
    try:
        kept = _copies(events)  # made while traced: what the metrics keep of them counts
        for event in kept:
            metrics.observe_event(event)
        del kept, event
        grown = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert grown / COUNT < 160, f"{grown / COUNT:.0f} bytes per open interrupt"


def test_the_time_to_decision_is_still_each_interrupts_own() -> None:
    metrics = ServerMetrics()
    first = _event("interrupt.created", "default/a", "2026-12-07T10:00:00+00:00")
    second = _event("interrupt.created", "default/b", "2026-12-07T10:00:30+00:00")
    for event in (first, second):
        metrics.observe_event(event)
    for created, at in ((second, "2026-12-07T10:01:00+00:00"),
                        (first, "2026-12-07T10:02:00+00:00")):
        metrics.observe_event(ReviewEvent(
            seq=2, kind="interrupt.decided", at=at, thread_id=created.thread_id,
            checkpoint_ns="", interrupt_id=created.interrupt_id, graph_id="review",
            data={"outcome": "answered", "by": "ann", "reason": None, "node": "review",
                  "decision_seq": 2}))
    (family,) = metrics.time_to_decision.collect()
    histogram = family.samples
    total = next(s.value for s in histogram if s.name.endswith("_sum"))
    count = next(s.value for s in histogram if s.name.endswith("_count"))
    assert (count, total) == (2, 30.0 + 120.0)
    assert not metrics._created
