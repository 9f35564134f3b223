"""A resume cancelled while the node that asked runs again: what LangGraph's server does, and
what ours does (issue 17: never half-applied), and the webhook each posts for it. Both servers
serve a graph of their own here, whose node is slow after its answer (lg_graphs.py has none),
started once for this module, each allowed to call a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from _compat import Pair, at_both, mask, status_of
from langgraph_sdk.client import SyncLangGraphClient

GRAPH = '''
import time
from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    seconds: float
    answer: str


def ask(state: State) -> State:
    answer = interrupt("Go ahead?")
    time.sleep(state.get("seconds", 0.0))
    return {"answer": answer}


builder = StateGraph(State)
builder.add_node("ask", ask)
builder.add_edge(START, "ask")
builder.add_edge("ask", END)
graph = builder.compile()
'''


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(folder: Path, source: str, command: list[str], port: int
           ) -> subprocess.Popen[bytes]:
    folder.mkdir()
    (folder / "cancel_graph.py").write_text(source)
    (folder / "langgraph.json").write_text(json.dumps(
        {"graphs": {"ask": "./cancel_graph.py:graph"}, "dependencies": ["."],
         "webhooks": {"url": {"disable_loopback": False, "require_https": False}}}))
    env = {**os.environ, "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false",
           "HITLGRAPH_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"}
    with (folder / "server.log").open("wb") as out:
        process = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=folder, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command[0]} did not start:\n{(folder / 'server.log').read_text()}")


@pytest.fixture(scope="module")
def slow_pair(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Both servers on the slow-answer graph (`pair` first: it skips without LangGraph)."""
    root = tmp_path_factory.mktemp("cancel")
    langgraph = str(Path(sys.executable).with_name("langgraph"))
    lg_port, hg_port = _free_port(), _free_port()
    processes = [
        _serve(root / "lg", GRAPH, [langgraph, "dev", "--no-browser", "--no-reload"], lg_port),
        _serve(root / "hg", GRAPH.replace("langgraph", "hitlgraph"),
               [sys.executable, "-m", "hitlgraph.cli", "serve", "--db",
                str(root / "hg.sqlite")], hg_port)]
    try:
        yield Pair(hitlgraph=f"http://127.0.0.1:{hg_port}",
                   langgraph=f"http://127.0.0.1:{lg_port}")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _paused_then_resumed(client: SyncLangGraphClient, **options: Any) -> tuple[str, str]:
    """A thread whose resume ("first") is running, its node asleep after taking the answer."""
    tid: str = client.threads.create()["thread_id"]
    client.runs.wait(tid, "ask", input={"seconds": 2.0})
    run_id: str = client.runs.create(tid, "ask", command={"resume": "first"},
                                     **options)["run_id"]
    _until(lambda: client.runs.get(tid, run_id)["status"] == "running")
    time.sleep(0.5)
    return tid, run_id


def _seen(client: SyncLangGraphClient, tid: str, run_id: str) -> dict[str, Any]:
    state = client.threads.get_state(tid)
    return {"run": client.runs.get(tid, run_id)["status"],
            "thread": client.threads.get(tid)["status"],
            "asks": [i["value"] for i in state["interrupts"]], "next": state["next"],
            "answer": state["values"].get("answer")}


def test_resume_cancelled_while_its_node_runs_can_be_answered_again(slow_pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> list[Any]:
        tid, run_id = _paused_then_resumed(client)
        client.runs.cancel(tid, run_id, wait=True, action="interrupt")
        seen = [_seen(client, tid, run_id)]
        seen.append(status_of(lambda: client.runs.wait(tid, "ask",
                                                       command={"resume": "second"})))
        return [*seen, _seen(client, tid, run_id)["answer"]]

    ours, theirs = at_both(slow_pair, flow)
    assert theirs == ours == [
        {"run": "interrupted", "thread": "interrupted", "asks": ["Go ahead?"],
         "next": ["ask"], "answer": None}, 200, "second"]


def test_resume_interrupted_by_another_resume_takes_the_second_answer(
        slow_pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> list[Any]:
        tid, run_id = _paused_then_resumed(client)
        result = client.runs.wait(tid, "ask", command={"resume": "second"},
                                  multitask_strategy="interrupt")
        return [result, _seen(client, tid, run_id)["run"]]

    ours, theirs = at_both(slow_pair, flow)
    assert theirs == ours == [{"seconds": 2.0, "answer": "second"}, "interrupted"]


def test_input_none_after_a_cancelled_resume_does_not_take_its_answer(
        slow_pair: Pair) -> None:
    """A deliberate difference: LangGraph's server shows the question again after the
    cancel, yet continuing with input None gives the node the cancelled answer (half
    applied). Ours gave the answer back: the node asks again."""
    def flow(client: SyncLangGraphClient) -> Any:
        tid, run_id = _paused_then_resumed(client)
        client.runs.cancel(tid, run_id, wait=True, action="interrupt")
        result = client.runs.wait(tid, "ask", input=None)
        return result.get("answer"), [i["value"] for i in result.get("__interrupt__", ())]

    ours, theirs = at_both(slow_pair, flow)
    assert theirs == ("first", [])
    assert ours == (None, ["Go ahead?"])


@pytest.fixture
def hooks() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(a webhook URL on 127.0.0.1, the bodies posted to it)."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_address[1]}/hook", bodies
    http.shutdown()
    http.server_close()


def test_webhook_of_a_cancelled_resume_and_of_the_next_one(
        slow_pair: Pair, hooks: tuple[str, list[dict[str, Any]]]) -> None:
    url, bodies = hooks

    def flow(client: SyncLangGraphClient) -> list[Any]:
        tid, run_id = _paused_then_resumed(client, webhook=url)
        client.runs.cancel(tid, run_id, wait=True, action="interrupt")
        client.runs.wait(tid, "ask", command={"resume": "second"}, webhook=url)
        _until(lambda: len(bodies) == 2)
        # The run's kwargs beyond its webhook are each server's own (see _compat); the text
        # of an error is not compared (LangGraph's names the route that cancelled).
        seen = [{**body, "kwargs": {"webhook": body["kwargs"].get("webhook")},
                 **({"error": body["error"]["error"]} if "error" in body else {})}
                for body in bodies]
        bodies.clear()
        return mask(seen)

    ours, theirs = at_both(slow_pair, flow)
    assert ours == theirs
    cancelled, second = ours
    assert cancelled["status"] == "interrupted" and cancelled["error"] == "UserInterrupt"
    assert second["status"] == "success"
    assert second["values"] == {"seconds": 2.0, "answer": "second"}
