"""What browser clients (Agent Chat UI, Agent Inbox) need of the server, as LangGraph's
server gives it: a resume sent with `input: {}` beside the command."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from _harness import RunningServer

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
