"""The crash sites at commits and at the server's own boundaries (hitlgraph._faults):

- in the savers (sync here, through `_child.py drive`): after a write's statements ran and
  before its commit, after its commit before the caller hears, after a task's writes are
  stored. Then, as in test_crash_sites, every thread ends as without faults, history is
  linear, and the ledger holds every effect once;
- in a server (the async savers, `_child.py serve`): the same three, and the resume's
  compare-and-set, on the first occurrence during a resume. A killed server's run is taken
  over by the next once its lease runs out; a lost connection is tried again on the same
  claim; a stall only delays. The run ends `success` with the state and the history of a
  fault-free resume;
- between a notification's outbox write and its delivery: it is delivered, after a kill by
  the next server, with the same idempotency key, once.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from _checks import faulted_then_finished, verify
from _servers import ChildServers
from _tiers import FULL, tier

SAVER_SITES = ["checkpoint.before_commit", "checkpoint.after_commit", "checkpoint.after_writes"]
SERVER_SITES = ["server.resume_claim", *SAVER_SITES]
LEASE = 1.0
"""Short: a killed server's run is taken over this long after its last renewal."""
RUN_SECONDS = 30.0
STALL = getattr(pytest.mark, FULL)
"""A stall at a server's site only delays the run: the full tier's, to keep the fast one
short (each case starts two or three servers)."""


@pytest.mark.parametrize("occurrences", tier((2, 7), (1, 2, 3, 4, 5)))
@pytest.mark.parametrize("action", ["kill", "raise"])
@pytest.mark.parametrize("site", SAVER_SITES)
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_fault_at_a_commit_loses_and_repeats_nothing(
        backend: str, site: str, action: str, occurrences: tuple[int, ...], database: str,
        tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    faulted_then_finished(database, ledger, [f"{site}:{action}@{nth}" for nth in occurrences])
    verify(database, 1, ledger, tmp_path)


def _paused(http: httpx.Client, topic: str) -> str:
    """A new thread of `review`, paused at its question."""
    thread = http.post("/threads", json={}).json()["thread_id"]
    paused = http.post(f"/threads/{thread}/runs/wait",
                       json={"assistant_id": "review", "input": {"topic": topic}})
    assert paused.status_code == 200 and "__interrupt__" in paused.json(), paused.text
    return str(thread)


def _resume(http: httpx.Client, thread: str) -> str:
    run = http.post(f"/threads/{thread}/runs",
                    json={"assistant_id": "review", "command": {"resume": True}})
    assert run.status_code == 200, run.text
    return str(run.json()["run_id"])


def _run_ids(http: httpx.Client, thread: str) -> set[str]:
    """The ids of the thread's runs."""
    runs = http.get(f"/threads/{thread}/runs", params={"limit": 100}).json()
    return {str(run["run_id"]) for run in runs}


def _armed_resume(url: str, thread: str, action: str) -> str | None:
    """The resume's run id, or None when a kill cut the POST off: the worker may reach its
    first checkpoint commit (and die there) before the response leaves."""
    with httpx.Client(base_url=url, timeout=10) as http:
        try:
            return _resume(http, thread)
        except httpx.TransportError:
            if action != "kill":
                raise
            return None


def _queued(url: str, thread: str, before: set[str]) -> str:
    """The one run queued on the thread since `before` (a POST cut off by the kill still
    committed its run: the worker only takes committed runs)."""
    with httpx.Client(base_url=url, timeout=10) as http:
        new = _run_ids(http, thread) - before
    assert len(new) == 1, new
    return new.pop()


def _ended(url: str, thread: str, run_id: str) -> dict[str, Any]:
    """The run once it ended (bounded by RUN_SECONDS)."""
    deadline = time.monotonic() + RUN_SECONDS
    with httpx.Client(base_url=url, timeout=10) as http:
        while True:
            run = http.get(f"/threads/{thread}/runs/{run_id}").json()
            if run["status"] not in ("pending", "running"):
                return dict(run)
            assert time.monotonic() < deadline, run
            time.sleep(0.1)


def _outcome(url: str, thread: str) -> tuple[dict[str, Any], list[str]]:
    """(the thread's values, its history's sources newest first), checking the history is one
    chain."""
    with httpx.Client(base_url=url, timeout=10) as http:
        values = http.get(f"/threads/{thread}/state").json()["values"]
        history = http.post(f"/threads/{thread}/history", json={"limit": 100}).json()
    for newer, older in itertools.pairwise(history):
        assert newer["parent_checkpoint"]["checkpoint_id"] == (
            older["checkpoint"]["checkpoint_id"]), "history forked"
    return values, [h["metadata"]["source"] for h in history]


def _survivor(armed: Any, servers: ChildServers, database: str, url: str, action: str
              ) -> str:
    """The URL that finishes the run: the armed server's, unless the fault killed it
    (then a new server's, which takes the run over when its lease runs out)."""
    if action != "kill":
        return url
    assert armed.wait(timeout=RUN_SECONDS) == -9, "the fault did not kill the server"
    return servers.start(database, LEASE)[1]


@pytest.mark.parametrize("action", ["kill", "raise", pytest.param("sleep=0.5", marks=STALL)])
@pytest.mark.parametrize("site", SERVER_SITES)
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_fault_in_a_server_during_a_resume_loses_and_repeats_nothing(
        backend: str, site: str, action: str, database: str, servers: ChildServers) -> None:
    first, url = servers.start(database, LEASE)
    with httpx.Client(base_url=url, timeout=10) as http:
        thread, reference = _paused(http, "faulted"), _paused(http, "faulted")
        _ended(url, reference, _resume(http, reference))
        before = _run_ids(http, thread)
    expected = _outcome(url, reference)
    first.kill()
    first.wait(timeout=30)
    armed, url = servers.start(database, LEASE, HITLGRAPH_FAULTS=f"{site}:{action}@1")
    run_id = _armed_resume(url, thread, action)
    url = _survivor(armed, servers, database, url, action)
    queued = _queued(url, thread, before)  # one run, whether or not the POST was answered
    assert run_id in (None, queued), (run_id, queued)
    run = _ended(url, thread, queued)
    assert run["status"] == "success", run
    assert _outcome(url, thread) == expected


class _Receiver(BaseHTTPRequestHandler):
    """Records each notification's (delivery key, kind, thread id) on its server."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        got: list[tuple[str, str, str]] = self.server.got  # type: ignore[attr-defined]
        got.append((self.headers["X-Hitlgraph-Delivery"], self.headers["X-Hitlgraph-Event"],
                    json.dumps(body, sort_keys=True)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """(URL of a webhook receiver on 127.0.0.1, what it got)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.got = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", server.got  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("action", ["kill", "raise", "sleep=0.5"])
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_notification_cut_off_before_its_delivery_is_delivered_once(
        backend: str, action: str, database: str, servers: ChildServers,
        receiver: tuple[str, list[tuple[str, str, str]]]) -> None:
    hook, got = receiver
    env = {"WEBHOOK_URL": hook, "HITLGRAPH_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"}
    armed, url = servers.start(database, LEASE, HITLGRAPH_FAULTS=(
        f"server.outbox_delivery:{action}@1"), **env)
    time.sleep(0.5)  # the notifier's first round places its cursor at the outbox's end
    with httpx.Client(base_url=url, timeout=10) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        http.post(f"/threads/{thread}/runs",
                  json={"assistant_id": "review", "input": {"topic": "notified"}})
    if action == "kill":
        assert armed.wait(timeout=RUN_SECONDS) == -9, "the fault did not kill the server"
        servers.start(database, LEASE, **env)  # takes the cursor when its lease runs out
    deadline = time.monotonic() + RUN_SECONDS
    while not got:
        assert time.monotonic() < deadline, "the notification was never delivered"
        time.sleep(0.1)
    time.sleep(1.0)  # a second delivery of the same event would come within a round or two
    assert len(got) == 1 and got[0][1] == "interrupt.created", got
    assert thread in got[0][2]
