"""Run webhooks: the finished run POSTed as LangGraph's server sends it, retried, in the
background; internal addresses refused at run creation unless HITLGRAPH_WEBHOOK_ALLOW_HOSTS
names them. The receiver is a real HTTP server on 127.0.0.1 (allowed through the variable)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from _harness import RunningServer

from hitlgraph.server import _webhooks
from hitlgraph.server._webhooks import ALLOW_HOSTS_ENV, WebhookRefusedError, check


@dataclass
class Receiver:
    """A webhook receiver: what it was sent, and how it answers the next requests."""

    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Statuses of the next answers (then 200)."""
    delay: float = 0.0

    def wait(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count:
            assert time.monotonic() < deadline, f"{len(self.bodies)} webhooks of {count}"
            time.sleep(0.02)
        return self.bodies


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1, which HITLGRAPH_WEBHOOK_ALLOW_HOSTS allows."""
    monkeypatch.setenv(ALLOW_HOSTS_ENV, "127.0.0.1")
    monkeypatch.setattr(_webhooks, "BACKOFF", 0.05)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(got.delay)
            size = int(self.headers["Content-Length"])
            got.bodies.append(json.loads(self.rfile.read(size)))
            got.hosts.append(self.headers["Host"])
            self.send_response(got.answers.pop(0) if got.answers else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got = Receiver(url=f"http://127.0.0.1:{http.server_address[1]}/hook")
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield got
    http.shutdown()
    http.server_close()


def post(server: RunningServer, path: str, body: dict[str, Any], status: int = 200) -> Any:
    answer = httpx.post(f"{server.url}{path}", json=body, timeout=60)
    assert answer.status_code == status, answer.text
    return answer.json()


def thread_of(server: RunningServer) -> str:
    return str(post(server, "/threads", {})["thread_id"])


def slow_run(server: RunningServer, receiver: Receiver) -> tuple[str, dict[str, Any]]:
    """(thread, run): a run of 'slow' with a webhook, running."""
    thread = thread_of(server)
    run = post(server, f"/threads/{thread}/runs",
               {"assistant_id": "slow", "input": {"seconds": 5}, "webhook": receiver.url})
    deadline = time.monotonic() + 20
    while httpx.get(f"{server.url}/threads/{thread}/runs/{run['run_id']}").json()[
            "status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return thread, run


def test_finished_run_is_posted_as_langgraph_sends_it(server: RunningServer,
                                                      receiver: Receiver) -> None:
    thread = thread_of(server)
    run = post(server, f"/threads/{thread}/runs",
               {"assistant_id": "steps", "input": {"value": "w"}, "webhook": receiver.url,
                "metadata": {"origin": "test"}})
    (body,) = receiver.wait(1)
    assert body["run_id"] == run["run_id"] and body["thread_id"] == thread
    assert body["status"] == "success"
    assert body["values"] == {"value": "w", "log": ["a", "b saw w", "c"]}
    assert body["kwargs"]["webhook"] == receiver.url
    assert body["metadata"]["origin"] == "test"
    assert set(body) == {*run, "run_started_at", "run_ended_at", "webhook_sent_at", "values"}
    assert body["run_started_at"] <= body["run_ended_at"] <= body["webhook_sent_at"]
    assert receiver.hosts == [receiver.url.split("/")[2]]


def test_failed_run_is_posted_with_its_error(server: RunningServer,
                                            receiver: Receiver) -> None:
    thread = thread_of(server)
    post(server, f"/threads/{thread}/runs/wait",
         {"assistant_id": "review", "input": {"topic": "t"}, "webhook": receiver.url})
    post(server, f"/threads/{thread}/runs/wait",
         {"assistant_id": "review", "command": {"resume": "not a dict"},
          "webhook": receiver.url})
    paused, failed = receiver.wait(2)
    assert paused["status"] == "success" and "error" not in paused
    assert paused["values"]["draft"] == "Tips for t"
    assert failed["status"] == "error"
    assert failed["error"]["error"] == "ValueError"
    assert "approved" in failed["error"]["message"]


def test_cancelled_run_is_posted_as_interrupted(server: RunningServer,
                                               receiver: Receiver) -> None:
    thread, run = slow_run(server, receiver)
    httpx.post(f"{server.url}/threads/{thread}/runs/{run['run_id']}/cancel?wait=true")
    (body,) = receiver.wait(1)
    assert body["status"] == "interrupted"
    assert body["error"] == {"error": "UserInterrupt", "message": "User interrupted the run"}


def test_delivery_is_retried_after_a_server_error(server: RunningServer,
                                                 receiver: Receiver) -> None:
    receiver.answers = [503, 500]
    post(server, "/runs/wait", {"assistant_id": "steps", "input": {"value": "r"},
                                "webhook": receiver.url})
    bodies = receiver.wait(3)
    assert [b["run_id"] for b in bodies] == [bodies[0]["run_id"]] * 3
    time.sleep(0.3)
    assert len(receiver.bodies) == 3  # delivered: no fourth try


def test_delivery_gives_up_after_its_attempts(server: RunningServer,
                                             receiver: Receiver) -> None:
    receiver.answers = [500] * 10
    post(server, "/runs/wait", {"assistant_id": "steps", "input": {"value": "r"},
                                "webhook": receiver.url})
    receiver.wait(_webhooks.ATTEMPTS)
    time.sleep(0.5)
    assert len(receiver.bodies) == _webhooks.ATTEMPTS == 3


def test_a_slow_receiver_does_not_hold_up_the_next_runs(start_server: Any,
                                                       receiver: Receiver) -> None:
    server = start_server(workers=1)
    receiver.delay = 3.0
    post(server, "/runs/wait", {"assistant_id": "steps", "input": {"value": "1"},
                                "webhook": receiver.url})
    began = time.monotonic()
    done = post(server, "/runs/wait", {"assistant_id": "steps", "input": {"value": "2"}})
    assert done["log"] == ["a", "b saw 2", "c"]
    assert time.monotonic() - began < 2.5
    receiver.wait(1)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/hook",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://0.0.0.0/hook", "https://192.168.0.1/hook"])
def test_internal_webhook_is_422_unless_allowed(server: RunningServer, url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_HOSTS_ENV, raising=False)
    thread = thread_of(server)
    answer = post(server, f"/threads/{thread}/runs",
                  {"assistant_id": "steps", "input": {}, "webhook": url}, status=422)
    assert ALLOW_HOSTS_ENV in answer["detail"]
    assert httpx.get(f"{server.url}/threads/{thread}/runs").json() == []


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "/relative/hook", "http:///x",
                                 "http://example.com:99999/hook"])
def test_a_webhook_that_is_not_an_http_url_is_422(server: RunningServer, url: str) -> None:
    answer = post(server, "/runs", {"assistant_id": "steps", "input": {}, "webhook": url},
                  status=422)
    assert "webhook" in answer["detail"]


def test_allowed_hosts_are_named_or_given_by_address(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_HOSTS_ENV, " localhost , ::1")
    asyncio.run(check("http://localhost:8000/hook"))
    asyncio.run(check("http://[::1]/hook"))
    with pytest.raises(WebhookRefusedError, match=r"127\.0\.0\.1"):
        asyncio.run(check("http://127.0.0.1/hook"))
    with pytest.raises(WebhookRefusedError, match="does not resolve"):
        asyncio.run(check("http://no-such-host.invalid/hook"))


def test_rolled_back_run_is_posted_without_values(server: RunningServer,
                                                  receiver: Receiver) -> None:
    thread, run = slow_run(server, receiver)
    httpx.post(f"{server.url}/threads/{thread}/runs/{run['run_id']}/cancel",
               params={"wait": "true", "action": "rollback"})
    (body,) = receiver.wait(1)
    assert body["status"] == "rollback" and body["values"] is None
    assert body["error"]["error"] == "UserRollback"
