"""A worker that loses its database while running or finishing a run tries the run again
on the same claim (backing off, bounded) instead of failing it or leaving it "running"
until its lease runs out: each fault site raises a lost connection once (InjectedFault), in a
server process of its own (`_child.py serve`), and the run still ends "success" with the state
a fault-free run leaves, its node's effect applied once, well before the lease would have
handed it to another claim."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from _servers import ChildServers

LEASE = 30.0
"""Long: a run that had to wait for its lease to run out would miss RUN_SECONDS."""
RUN_SECONDS = 15.0
"""Time a run gets to end, with its one lost connection (far below LEASE)."""


def _run_to_end(url: str) -> tuple[dict[str, Any], dict[str, Any], float]:
    """(the run, the thread's state, seconds it took) of one run of `slow`."""
    with httpx.Client(base_url=url, timeout=10) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        began = time.monotonic()
        run = http.post(f"/threads/{thread}/runs",
                        json={"assistant_id": "slow", "input": {"by": []}}).json()
        deadline = began + RUN_SECONDS
        while time.monotonic() < deadline:
            run = http.get(f"/threads/{thread}/runs/{run['run_id']}").json()
            if run["status"] not in ("pending", "running"):
                break
            time.sleep(0.1)
        took = time.monotonic() - began
        return run, http.get(f"/threads/{thread}/state").json(), took


FAULTS = {
    # The graph's own checkpoint write after its node ran (the node's writes are saved).
    "checkpoint write": ("checkpoint.before_put:raise@2", 0.2),
    # Recording the run's end and its thread's new state.
    "finish": ("server.finish:raise@1", 0.2),
    # Renewing the lease while the node runs: the graph is stopped and run again.
    "lease renewal": ("server.lease_renewal:raise@1", 2.0),
}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_lost_connection_is_tried_again_on_the_same_claim(
        fault: str, backend: str, database: str, servers: ChildServers) -> None:
    faults, slow_seconds = FAULTS[fault]
    _, url = servers.start(database, LEASE, HITLGRAPH_FAULTS=faults,
                           SLOW_SECONDS=str(slow_seconds))
    run, state, took = _run_to_end(url)
    assert run["status"] == "success", (run, state)
    assert took < RUN_SECONDS < LEASE
    assert len(state["values"]["by"]) == 1, state  # the node's write applied once
    assert state["next"] == [] and state["tasks"] == []
