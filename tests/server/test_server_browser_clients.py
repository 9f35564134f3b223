"""What browser clients (Agent Chat UI, Agent Inbox) need of the server, as LangGraph's
server gives it: JSON bodies whatever their Content-Type, and a resume sent with `input: {}`
beside the command."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from _harness import RunningServer

# JSON bodies whatever their Content-Type says.

UNLABELLED: list[dict[str, str]] = [{}, {"content-type": "text/plain;charset=UTF-8"}]
"""No Content-Type (a proxy dropped it), and what fetch() labels a string body."""


@pytest.mark.parametrize("headers", UNLABELLED)
def test_json_body_without_json_content_type_creates_and_finds_a_thread(
        server: RunningServer, headers: dict[str, str]) -> None:
    made = httpx.post(f"{server.url}/threads", content=b'{"metadata": {"via": "proxy"}}',
                      headers=headers)
    assert made.status_code == 200, made.text
    assert made.json()["metadata"] == {"via": "proxy"}
    found = httpx.post(f"{server.url}/threads/search",
                       content=b'{"metadata": {"via": "proxy"}}', headers=headers)
    assert found.status_code == 200, found.text
    assert made.json()["thread_id"] in [t["thread_id"] for t in found.json()]


@pytest.mark.parametrize("headers", UNLABELLED)
def test_json_body_without_json_content_type_runs_and_waits(
        server: RunningServer, headers: dict[str, str]) -> None:
    tid = server.client().threads.create()["thread_id"]
    body = json.dumps({"assistant_id": "steps", "input": {"value": "x"}}).encode()
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", content=body,
                        headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["log"] == ["a", "b saw x", "c"]


@pytest.mark.parametrize("headers", UNLABELLED)
def test_invalid_json_body_without_content_type_is_422_naming_the_decode_error(
        server: RunningServer, headers: dict[str, str]) -> None:
    answer = httpx.post(f"{server.url}/threads", content=b'{"metadata":', headers=headers)
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["type"] == "json_invalid" and error["msg"] == "JSON decode error"

# A resume with input {} (or null) beside the command.


def _interrupted(server: RunningServer) -> str:
    client = server.client()
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "review", input={"topic": "cats"})
    assert client.threads.get(tid)["status"] == "interrupted"
    return tid


@pytest.mark.parametrize("empty", [{}, None])
def test_empty_input_beside_a_command_resumes_the_interrupted_thread(
        server: RunningServer, empty: Any) -> None:
    tid = _interrupted(server)
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", timeout=30, json={
        "assistant_id": "review", "input": empty, "command": {"resume": {"approved": True}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["published"] == "TIPS FOR CATS"


def test_non_empty_input_beside_a_command_is_still_refused(server: RunningServer) -> None:
    tid = _interrupted(server)
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", json={
        "assistant_id": "review", "input": {"topic": "dogs"},
        "command": {"resume": {"approved": True}}})
    assert answer.status_code == 422
    assert "either 'input'" in answer.text and "{} or null" in answer.text
    assert server.client().threads.get(tid)["status"] == "interrupted"
