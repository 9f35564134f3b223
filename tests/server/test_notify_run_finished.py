"""`run.finished` through the server: written by a trigger in the transaction that records the
run's end, so it is sent once per ended run, with the run's status (a rolled back run's is
"rollback"), and a server killed right after that commit still has it sent (by the next
server). The receiver is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer, ServerProcess
from _notify_receiver import SECRET, Got, NotifyReceiver, notify_receiver

from hitlgraph.server._webhooks import ALLOW_HOSTS_ENV

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
HOOK_EVENTS = ["run.finished"]

_KILL_AT_RUN_ENDED = '''
import os, signal, sys
import hitlgraph.server._notify as notify

async def _killed(*args, **kwargs):
    """The worker's call right after the run's end committed: the process dies there."""
    os.kill(os.getpid(), signal.SIGKILL)

original = notify.run_ended
for module in list(sys.modules.values()):
    if getattr(module, "run_ended", None) is original:
        module.run_ended = _killed
'''
"""A sitecustomize for the first server: its worker (which imports `run_ended` by name, and
is imported with the server's package) gets one that kills the process, the moment after
the commit of the run's end."""


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifyReceiver]:
    monkeypatch.setenv(ALLOW_HOSTS_ENV, "127.0.0.1")
    with notify_receiver() as got:
        yield got


def _hook(receiver: NotifyReceiver) -> dict[str, Any]:
    return {"url": receiver.url, "secret": SECRET, "name": "runs", "events": HOOK_EVENTS}


def _finished_of(receiver: NotifyReceiver, run_id: str, wait: float = 30) -> list[Got]:
    """The run.finished events delivered for `run_id`, once there is one, after a further
    pause in which a duplicate would have come."""
    deadline = time.monotonic() + wait
    while True:
        found = [g for g in receiver.delivered() if g.kind == "run.finished"
                 and g.body["data"]["run_id"] == run_id]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(1.0)  # several notifier rounds (0.1 s apart): a second copy would show
    return [g for g in receiver.delivered() if g.kind == "run.finished"
            and g.body["data"]["run_id"] == run_id]


@BOTH
def test_each_ended_run_is_sent_once_with_its_status_and_times(
        start_server: Callable[..., RunningServer], receiver: NotifyReceiver) -> None:
    server = start_server(webhooks=[_hook(receiver)], notify_seconds=0.1)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        run = http.post(f"/threads/{thread}/runs", json={
            "assistant_id": "steps", "input": {"log": []}}).json()
        http.get(f"/threads/{thread}/runs/{run['run_id']}/join")
        ended = http.get(f"/threads/{thread}/runs/{run['run_id']}").json()
    [sent] = _finished_of(receiver, run["run_id"])
    assert sent.signed and sent.delivery.startswith("run-")
    body = sent.body
    assert (body["event"], body["tenant"], body["thread_id"], body["graph_id"]) == (
        "run.finished", "", thread, "steps")
    data = body["data"]
    assert (data["status"], data["error"]) == ("success", None)
    started, finished = (datetime.fromisoformat(data[k]) for k in ("started_at", "ended_at"))
    assert started <= finished
    assert finished == datetime.fromisoformat(ended["updated_at"])
    assert datetime.fromisoformat(body["at"]) == finished


@BOTH
def test_a_rolled_back_run_is_sent_as_rollback(
        start_server: Callable[..., RunningServer], receiver: NotifyReceiver) -> None:
    server = start_server(webhooks=[_hook(receiver)], notify_seconds=0.1)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        run = http.post(f"/threads/{thread}/runs", json={
            "assistant_id": "slow", "input": {"seconds": 30}}).json()
        for _ in range(300):  # bounded: 15 s, until a worker runs it
            if http.get(f"/threads/{thread}/runs/{run['run_id']}").json()["status"] \
                    == "running":
                break
            time.sleep(0.05)
        answer = http.post(f"/threads/{thread}/runs/{run['run_id']}/cancel",
                           params={"action": "rollback", "wait": "true"})
        assert answer.status_code in (200, 204), answer.text
        assert http.get(f"/threads/{thread}/runs/{run['run_id']}").status_code == 404
    [sent] = _finished_of(receiver, run["run_id"])
    assert sent.body["data"]["status"] == "rollback"


def _with_hook(config_file: Path, receiver: NotifyReceiver) -> None:
    data = json.loads(config_file.read_text(encoding="utf-8"))
    data["hitlgraph"] = {"webhooks": [_hook(receiver)]}
    config_file.write_text(json.dumps(data), encoding="utf-8")


@BOTH
def test_kill_9_right_after_the_run_ended_still_sends_it_once(
        start_process: Callable[..., ServerProcess], database: str, config_file: Path,
        receiver: NotifyReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first server dies the moment after it committed the run's end (before anything
    else it does for the run); the next one, on the same database, sends run.finished once."""
    _with_hook(config_file, receiver)
    site = tmp_path / "kill_site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_KILL_AT_RUN_ENDED, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(site))
    first = start_process(database)
    monkeypatch.delenv("PYTHONPATH")
    with httpx.Client(base_url=first.url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        run = http.post(f"/threads/{thread}/runs", json={
            "assistant_id": "steps", "input": {"log": []}}).json()
    assert first.process.wait(timeout=60) == -9  # killed by its own run's end
    first.close()
    assert receiver.got == []
    second = start_process(database)
    [sent] = _finished_of(receiver, run["run_id"], wait=60)
    assert (sent.body["thread_id"], sent.body["data"]["status"]) == (thread, "success")
    with httpx.Client(base_url=second.url, timeout=30) as http:
        assert http.get(f"/threads/{thread}/runs/{run['run_id']}").json()["status"] \
            == "success"
