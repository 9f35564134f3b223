"""Joining a thread's stream (GET /threads/{thread_id}/stream) from a test, through
langgraph-sdk's `threads.join_stream`. That stream never ends, so it is read in a background
thread until a condition on the parts received holds. `join_thread` returns once the server has
answered (its headers arrived): a run created after that is one the stream was joined for."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.schema import StreamPart

Until = Callable[[list[StreamPart]], bool]


def run_dones(count: int) -> Until:
    """Until `count` runs have ended (`metadata {status: run_done}`)."""
    return lambda parts: sum(1 for p in parts if is_run_done(p)) >= count


def is_run_done(part: StreamPart) -> bool:
    return part.event == "metadata" and isinstance(part.data, dict) \
        and part.data.get("status") == "run_done"


@dataclass
class Joined:
    """A thread stream being read."""

    thread: threading.Thread
    parts: list[StreamPart] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def result(self, timeout: float = 30) -> list[StreamPart]:
        """The parts, once the condition held; raises what the stream raised (an HTTP error)."""
        self.thread.join(timeout)
        if self.errors:
            raise self.errors[0]
        assert not self.thread.is_alive(), f"the thread stream stopped short: {self.parts}"
        return self.parts

    def events(self, timeout: float = 30) -> list[list[Any]]:
        """[event, data] of each part."""
        return [[p.event, p.data] for p in self.result(timeout)]


def join_thread(client: SyncLangGraphClient, thread_id: str, until: Until,
                **kwargs: Any) -> Joined:
    """Read client.threads.join_stream(thread_id, **kwargs) in the background until `until`
    holds, once the server has answered the request."""
    answered = threading.Event()
    http = client.http.client
    path = f"/threads/{thread_id}/stream"

    def on_response(response: httpx.Response) -> None:
        if response.request.method == "GET" and response.request.url.path == path:
            answered.set()

    hooks = {name: list(found) for name, found in http.event_hooks.items()}
    http.event_hooks = {**hooks, "response": [*hooks.get("response", []), on_response]}

    def read() -> None:
        try:
            for part in client.threads.join_stream(thread_id, **kwargs):
                joined.parts.append(part)
                if until(joined.parts):
                    return
        except BaseException as exc:
            joined.errors.append(exc)
        finally:
            answered.set()

    joined = Joined(thread=threading.Thread(target=read, daemon=True))
    joined.thread.start()
    try:
        assert answered.wait(30), "the thread stream was not answered within 30 s"
    finally:
        http.event_hooks = hooks
    return joined
