"""Request validation errors answer 422 with a string detail, as LangGraph's server does,
naming each field at fault and never echoing the values sent."""

from __future__ import annotations

import httpx
import pytest
from _harness import RunningServer

pytest.importorskip("fastapi")

from hitlgraph.server._errors import describe_errors


def test_detail_names_each_field_and_its_problem() -> None:
    detail = describe_errors([
        {"loc": ("body", "stream_mode"), "msg": "Input should be 'values'", "input": "x"},
        {"loc": ("body", "config", "configurable"), "msg": "Input should be a valid dict"},
    ])
    assert detail == ("Invalid request body: stream_mode: Input should be 'values'; "
                      "config.configurable: Input should be a valid dict")


def test_detail_never_repeats_the_values_sent() -> None:
    detail = describe_errors([{"loc": ("body", "input"), "msg": "bad",
                               "input": {"secret": "s3cret", "n": float("nan")}}])
    assert "s3cret" not in detail and "nan" not in detail.lower()


def test_many_errors_are_counted_after_the_first_ten() -> None:
    errors = [{"loc": ("body", f"f{i}"), "msg": "bad"} for i in range(25)]
    detail = describe_errors(errors)
    assert "f9: bad" in detail and "f10" not in detail and "15 more errors" in detail


def test_a_run_whose_webhook_host_does_not_resolve_is_422_and_not_created(
        server: RunningServer) -> None:
    """The webhook's host is looked up when the run is asked for, so a typo in it is the
    caller's error at once rather than a delivery that fails after the run."""
    thread = httpx.post(f"{server.url}/threads", json={}, timeout=30).json()["thread_id"]
    answer = httpx.post(f"{server.url}/threads/{thread}/runs/wait", timeout=30, json={
        "assistant_id": "steps", "input": {}, "webhook": "https://no-such-host.invalid/hook"})
    assert answer.status_code == 422
    assert "'no-such-host.invalid' does not resolve" in answer.json()["detail"]
    assert httpx.get(f"{server.url}/threads/{thread}/runs", timeout=30).json() == []
