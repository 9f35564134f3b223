"""The server's expiry timer: a deadline that passes is applied without anyone calling
apply_expired: a default answer resumes the thread through its own graph (its row then shows
the result), a cancel closes the interrupt; two servers on one database apply each policy
once. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import httpx
import pytest
from _harness import RunningServer

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import Expire
from hitlgraph.types import interrupt

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


class Timed(TypedDict, total=False):
    topic: str
    approved: bool


def _builder(on_expire: Expire) -> StateGraph[Timed]:
    def ask(state: Timed) -> Timed:
        answer = interrupt({"question": f"Publish {state['topic']}?"}, expires_in=0.3,
                           on_expire=on_expire)
        return {"approved": bool(answer["approved"])}

    builder = StateGraph(Timed)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder


def _paused(http: httpx.Client, graph: str) -> str:
    thread = str(http.post("/threads", json={}).json()["thread_id"])
    out = http.post(f"/threads/{thread}/runs/wait", json={
        "assistant_id": graph, "input": {"topic": "deadlines"}}).json()
    assert "__interrupt__" in out, out
    return thread


def _decisions(http: httpx.Client, thread: str, count: int) -> list[dict[str, Any]]:
    for _ in range(300):  # bounded: 15 s
        found: list[dict[str, Any]] = http.get(f"/threads/{thread}/decisions").json()
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{count} decisions never logged for {thread}: {found}")


def _idle(http: httpx.Client, thread: str) -> dict[str, Any]:
    """The thread's row once its status is "idle" (the expiry timer refreshes it last)."""
    for _ in range(300):  # bounded: 15 s
        row: dict[str, Any] = http.get(f"/threads/{thread}").json()
        if row["status"] == "idle":
            return row
        time.sleep(0.05)
    raise AssertionError(f"thread {thread} never became idle: {row}")


@BOTH
def test_a_default_answer_resumes_the_thread_through_its_graph(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(expire_seconds=0.1, graphs={
        "timed": _builder(Expire.answer({"approved": False}))})
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = _paused(http, "timed")
        [decision] = _decisions(http, thread, 1)
        assert (decision["by"], decision["answer"], decision["outcome"]) == (
            "policy", {"approved": False}, "answered")
        assert decision["reason"].startswith("expired")
        for _ in range(300):  # bounded: 15 s, until the row follows the checkpoint
            row = http.get(f"/threads/{thread}").json()
            if row["status"] == "idle":
                break
            time.sleep(0.05)
        assert (row["status"], row["values"]) == ("idle", {"topic": "deadlines",
                                                           "approved": False})


def test_a_cancel_ends_the_run_and_the_state_says_why(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(expire_seconds=0.1,
                          graphs={"timed": _builder(Expire.cancel("nobody answered"))})
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = _paused(http, "timed")
        [decision] = _decisions(http, thread, 1)
        assert (decision["by"], decision["outcome"], decision["reason"]) == (
            "policy", "expired", "expired: nobody answered")
        assert _idle(http, thread)["interrupts"] == {}
        state = http.get(f"/threads/{thread}/state").json()
        assert "topic" in state["values"] and state["next"] == []
        assert state["metadata"]["expired_reason"] == "expired: nobody answered"
        assert state["metadata"]["expired_interrupt"] == decision["interrupt_id"]


@BOTH
def test_two_servers_apply_each_deadline_once(
        start_server: Callable[..., RunningServer], backend: str, tmp_path: Path) -> None:
    graphs = {"timed": _builder(Expire.answer({"approved": True}))}
    first = start_server(expire_seconds=0.05, graphs=graphs,
                         **({"db": tmp_path / "one.sqlite"} if backend == "sqlite" else {}))
    start_server(expire_seconds=0.05, graphs=graphs, db=first.db)
    with httpx.Client(base_url=first.url, timeout=30) as http:
        threads = [_paused(http, "timed") for _ in range(3)]
        for thread in threads:
            _decisions(http, thread, 1)
        time.sleep(1.0)  # both timers ticked many times since
        for thread in threads:
            assert [d["by"] for d in http.get(f"/threads/{thread}/decisions").json()] \
                == ["policy"]
