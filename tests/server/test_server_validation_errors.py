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


def test_a_run_with_a_webhook_is_refused_until_webhooks_exist(
        server: RunningServer) -> None:
    answer = httpx.post(f"{server.url}/runs/wait", timeout=30, json={
        "assistant_id": "steps", "input": {}, "webhook": "https://example.invalid/hook"})
    assert answer.status_code == 422 and "webhook" in answer.json()["detail"]
