"""runs/wait and join on a long run: a 200 at once, a newline every keepalive_seconds (so
proxies keep the connection), then the result, as LangGraph's server sends it."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from _harness import RunningServer

pytest.importorskip("fastapi")


def _chunks(response: httpx.Response) -> list[bytes]:
    return [chunk for chunk in response.iter_raw() if chunk]


def test_a_long_wait_sends_newlines_then_the_result(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(keepalive_seconds=0.2)
    tid = server.client().threads.create()["thread_id"]
    with httpx.stream("POST", f"{server.url}/threads/{tid}/runs/wait", timeout=30,
                      json={"assistant_id": "slow", "input": {"seconds": 1.0}}) as answer:
        assert answer.status_code == 200
        chunks = _chunks(answer)
    body = b"".join(chunks)
    assert body.startswith(b"\n") and chunks.count(b"\n") >= 2
    assert json.loads(body) == {"seconds": 1.0, "done": ["slow"]}


def test_join_of_a_long_run_sends_newlines_too(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(keepalive_seconds=0.2)
    client = server.client()
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "slow", input={"seconds": 1.0})
    with httpx.stream("GET", f"{server.url}/threads/{tid}/runs/{run['run_id']}/join",
                      timeout=30) as answer:
        body = b"".join(_chunks(answer))
    assert body.startswith(b"\n") and json.loads(body)["done"] == ["slow"]
    assert client.runs.join(tid, run["run_id"])["done"] == ["slow"]  # the SDK reads it too


def test_a_quick_wait_is_plain_json(server: RunningServer) -> None:
    tid = server.client().threads.create()["thread_id"]
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", timeout=30,
                        json={"assistant_id": "steps", "input": {"value": "q"}})
    assert answer.status_code == 200 and not answer.content.startswith(b"\n")
    assert answer.json()["log"] == ["a", "b saw q", "c"]


def test_a_resume_that_cannot_apply_after_the_keepalive_is_an_error_body(
        start_server: Callable[..., RunningServer]) -> None:
    # The status went out with the first newline: the conflict is told in the body.
    server = start_server(keepalive_seconds=0.2)
    client = server.client()
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "slow_review", input={"seconds": 1.0})
    state = client.threads.get_state(tid)
    assert state["interrupts"], state
    client.runs.create(tid, "slow_review", command={"resume": "first"})
    with httpx.stream("POST", f"{server.url}/threads/{tid}/runs/wait", timeout=30,
                      json={"assistant_id": "slow_review",
                            "command": {"resume": "second"}}) as answer:
        status, body = answer.status_code, b"".join(_chunks(answer))
    assert status == 200 and body.startswith(b"\n")
    assert json.loads(body)["__error__"]["error"] == "Conflict"
