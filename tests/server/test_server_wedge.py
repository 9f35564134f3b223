"""No run wedges its thread: a run that fails outside its graph (planning, reading the
thread, finishing) is claimed again up to worker.ATTEMPTS times, then ends in error; its
waiters and streams return, and its thread takes new runs, idle or interrupted as its state
shows. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _harness import RunningServer

from hitlgraph.server import worker
from hitlgraph.server.worker import WorkerPool

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

FAIL = {"fail": "here"}
"""Run metadata that marks the runs a test makes fail."""


def marked(claim: Any) -> bool:
    return bool(claim.run.metadata.get("fail") == "here")


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The attempts at which a marked run's planning failed (every one does)."""
    attempts: list[int] = []
    plan = WorkerPool._plan

    async def failing(self: WorkerPool, claim: Any, bound: Any) -> Any:
        if marked(claim):
            attempts.append(claim.run.attempt)
            raise RuntimeError("planning broke")
        return await plan(self, claim, bound)

    monkeypatch.setattr(WorkerPool, "_plan", failing)
    return attempts


@pytest.fixture
def quick(start_server: Callable[..., RunningServer]) -> RunningServer:
    """A server whose leases run out fast, so that a failed claim is retried at once."""
    return start_server(lease_seconds=0.3, poll_seconds=0.1)


def post(server: RunningServer, path: str, body: dict[str, Any]) -> Any:
    answer = httpx.post(f"{server.url}{path}", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def get(server: RunningServer, path: str) -> Any:
    answer = httpx.get(f"{server.url}{path}", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_run_failing_before_its_graph_starts_ends_in_error_and_frees_its_thread(
        quick: RunningServer, planned: list[int]) -> None:
    thread = post(quick, "/threads", {})["thread_id"]
    result = post(quick, f"/threads/{thread}/runs/wait",
                  {"assistant_id": "steps", "input": {"value": "x"}, "metadata": FAIL})
    assert "gave up" in result["__error__"]["message"]
    assert "planning broke" in result["__error__"]["message"]
    assert planned == [1, 2, 3] and worker.ATTEMPTS == 3
    (run,) = get(quick, f"/threads/{thread}/runs")
    assert run["status"] == "error"
    assert get(quick, f"/threads/{thread}")["status"] == "idle"

    done = post(quick, f"/threads/{thread}/runs/wait",
                {"assistant_id": "steps", "input": {"value": "y"}})
    assert done["log"] == ["a", "b saw y", "c"]


def test_thread_paused_before_the_failing_run_is_interrupted_again_and_resumable(
        quick: RunningServer, planned: list[int]) -> None:
    thread = post(quick, "/threads", {})["thread_id"]
    paused = post(quick, f"/threads/{thread}/runs/wait",
                  {"assistant_id": "review", "input": {"topic": "tea"}})
    assert paused["__interrupt__"]
    failed = post(quick, f"/threads/{thread}/runs/wait", {
        "assistant_id": "review", "command": {"resume": {"approved": True}}, "metadata": FAIL})
    assert "__error__" in failed and len(planned) == 3
    assert get(quick, f"/threads/{thread}")["status"] == "interrupted"

    done = post(quick, f"/threads/{thread}/runs/wait",
                {"assistant_id": "review", "command": {"resume": {"approved": True}}})
    assert done["published"] == "TIPS FOR TEA"


def test_stream_of_a_run_failing_before_its_graph_ends_with_its_error(
        quick: RunningServer, planned: list[int]) -> None:
    events: list[str] = []
    with httpx.stream("POST", f"{quick.url}/runs/stream", timeout=60, json={
            "assistant_id": "steps", "input": {}, "metadata": FAIL}) as answer:
        for line in answer.iter_lines():  # ends when the server closes the stream
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
    assert events == ["metadata", "error"] and len(planned) == 3


def test_failure_while_finishing_ends_the_run_with_the_state_stored_last(
        quick: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    read = WorkerPool._thread_after
    tries: list[int] = []

    async def failing(self: WorkerPool, claim: Any, bound: Any, *rest: Any) -> Any:
        if bound is not None and marked(claim):
            tries.append(claim.run.attempt)
            raise RuntimeError("reading the state broke")
        return await read(self, claim, bound, *rest)

    monkeypatch.setattr(WorkerPool, "_thread_after", failing)
    thread = post(quick, "/threads", {})["thread_id"]
    post(quick, f"/threads/{thread}/runs/wait", {"assistant_id": "steps", "input": {}})
    result = post(quick, f"/threads/{thread}/runs/wait",
                  {"assistant_id": "steps", "input": {"value": "z"}, "metadata": FAIL})
    assert "reading the state broke" in result["__error__"]["message"]
    # Claims 1 and 2 failed finishing; claim 3 continued (nothing left to run), failed
    # finishing, and then once more giving up, which fell back to the row's state.
    assert tries == [1, 2, 3, 3]
    row = get(quick, f"/threads/{thread}")
    assert row["status"] == "idle" and row["values"] == {"log": ["a", "b saw ", "c"]}
    assert post(quick, f"/threads/{thread}/runs/wait",
                {"assistant_id": "steps", "input": {"value": "w"}})["log"][-2:] == [
        "b saw w", "c"]


def test_run_whose_workers_all_died_ends_in_error_at_its_next_claim(
        start_server: Callable[..., RunningServer], monkeypatch: pytest.MonkeyPatch) -> None:
    stuck: list[int] = []

    async def hang(self: WorkerPool, claim: Any, bound: Any) -> Any:
        stuck.append(claim.run.attempt)
        await asyncio.Event().wait()  # as a worker that died: no heartbeat; cancelled at stop

    monkeypatch.setattr(WorkerPool, "_plan", hang)
    server = start_server(lease_seconds=0.3, poll_seconds=0.1, workers=worker.ATTEMPTS + 1)
    result = post(server, "/runs/wait", {"assistant_id": "steps", "input": {}})
    assert "gave up" in result["__error__"]["message"]
    assert stuck == [1, 2, 3]
