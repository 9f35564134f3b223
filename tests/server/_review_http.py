"""Plain-HTTP steps the review tests through the server share: a client that sends one API
key, a response that must have succeeded, and a thread paused at the `review` assistant's
question."""

from __future__ import annotations

from typing import Any

import httpx
from _harness import RunningServer

ASK = {"assistant_id": "review", "input": {"topic": "reviews"}}
"""A run of the `review` assistant: it pauses at its question."""


def keyed_http(server: RunningServer, key: str) -> httpx.Client:
    """A client of `server` that sends `key` as its x-api-key."""
    return httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=30)


def ok(response: httpx.Response) -> Any:
    """The JSON of a response that must have succeeded (its body is the failure message)."""
    assert response.is_success, response.text
    return response.json()


def paused_thread(http: httpx.Client) -> str:
    """A new thread whose `review` run waits at its question."""
    thread = str(ok(http.post("/threads", json={}))["thread_id"])
    assert "__interrupt__" in ok(http.post(f"/threads/{thread}/runs/wait", json=ASK))
    return thread


def answer(http: httpx.Client, thread: str, resume: Any, **command: Any) -> httpx.Response:
    """POST /threads/{thread}/runs/wait resuming the question with `resume` (and any other
    keys of the command, e.g. a client-sent `by`)."""
    return http.post(f"/threads/{thread}/runs/wait", json={
        "assistant_id": "review", "command": {"resume": resume, **command}})
