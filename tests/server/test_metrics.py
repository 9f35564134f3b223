"""GET /metrics: Prometheus's text format, parsed with prometheus_client's own parser; the
figures move after a run pauses and after a decision, and the route is authenticated like the
rest of the API."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from _harness import RunningServer
from prometheus_client.parser import text_string_to_metric_families

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
ASK = {"assistant_id": "review", "input": {"topic": "metrics"}}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(http: httpx.Client) -> Samples:
    answer = http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples}


def _until(http: httpx.Client, name: str, labels: dict[str, str], value: float) -> Samples:
    """A scrape in which the sample is `value` (the review counts follow the outbox, read by
    the server's notifier every notify_seconds)."""
    key = (name, tuple(sorted(labels.items())))
    for _ in range(200):  # bounded: 10 s
        samples = _scrape(http)
        if samples.get(key) == value:
            return samples
        time.sleep(0.05)
    raise AssertionError(f"{key} never became {value}: {samples.get(key)}")


@BOTH
def test_figures_move_after_a_pause_and_a_decision(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(notify_seconds=0.05)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        before = _scrape(http)
        assert before[("hitlgraph_pending_interrupts", (("graph_id", "review"),))] == 0
        assert before[("hitlgraph_runs", (("status", "success"),))] == 0
        assert before[("hitlgraph_worker_leases", ())] == 0
        thread = str(http.post("/threads", json={}).json()["thread_id"])
        http.post(f"/threads/{thread}/runs/wait", json=ASK)
        paused = _until(http, "hitlgraph_pending_interrupts", {"graph_id": "review"}, 1)
        assert paused[("hitlgraph_runs", (("status", "success"),))] == 1
        assert paused[("hitlgraph_run_duration_seconds_count", (("status", "success"),))] == 1
        http.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "review", "command": {"resume": {"approved": True}}})
        after = _until(http, "hitlgraph_decisions_total", {"outcome": "answered"}, 1)
        assert after[("hitlgraph_pending_interrupts", (("graph_id", "review"),))] == 0
        assert after[("hitlgraph_time_to_decision_seconds_count", ())] == 1
        assert after[("hitlgraph_runs", (("status", "success"),))] == 2
        assert after[("hitlgraph_expired_interrupts_total", ())] == 0


def test_metrics_need_a_key_when_keys_are_set(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(api_keys={"ops": "metrics-key-1"})
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"x-api-key": "metrics-key-1"}).status_code == 200
