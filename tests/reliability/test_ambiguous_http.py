"""Ambiguous commits through the HTTP API: a loopback proxy in front of a hitlgraph server
(_proxy.Proxy.cut) lets a POST reach the server, which carries it out and answers, and then
resets the client's connection instead of forwarding the answer: the thread was created,
the run queued or the answer claimed, yet the client saw a lost connection.

The client does what a careful client does after a lost answer: it reads the thread back
(waiting while it is busy) and sends what the thread now asks for, never the same request
blindly. Clients take threads of the ledger graph (_child.py: three questions, a fan-out,
eight steps, a side effect per node) to their end while every EVERY-th POST has its answer
cut, until `trials` answers were cut. Then every thread ends with the state of a run
without faults (an answer applied twice would show in its `answers`), no run ended in
error (a resume sent twice would), its history is one chain, and the side-effect ledger
holds each effect once: 0 lost, 0 duplicated. SQLite and PostgreSQL; one server and
several client threads, so the full tier's 1,000 cuts take minutes.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import _child
import httpx
import pytest
from _checks import fault_free_values
from _proxy import Proxy
from _rel_clients import Clients
from _servers import serve
from _tiers import tier

EVERY = 3
"""Every EVERY-th POST through the proxy has its answer cut."""
POST, ANSWER = b"POST ", b"HTTP/1.1 "
CALLS = 200
"""Requests one client may make for one thread (about 15 without cuts): bounds the loop."""
BUSY_SECONDS = 60.0
"""Longest wait for a thread's run to end."""


def _next_body(state: dict[str, Any]) -> dict[str, Any] | None:
    """What the thread asks for now: its first input, an answer, a push past a step, or
    nothing (it ended)."""
    if not state["values"]:
        return {"assistant_id": "ledger", "input": {"items": []}}
    if state["interrupts"]:
        return {"assistant_id": "ledger",
                "command": {"resume": f"yes to {state['interrupts'][0]['value']}"}}
    if state["next"]:
        return {"assistant_id": "ledger", "input": None}
    return None


def _step(http: httpx.Client, thread_id: str) -> bool:
    """One request towards the thread's end, from what the server says now; False once the
    thread ended."""
    thread = http.get(f"/threads/{thread_id}")
    if thread.status_code == 404:
        made = http.post("/threads", json={"thread_id": thread_id, "if_exists": "do_nothing"})
        assert made.status_code == 200, made.text
        return True
    if thread.json()["status"] == "busy":
        time.sleep(0.02)
        return True
    body = _next_body(http.get(f"/threads/{thread_id}/state").json())
    if body is None:
        return False
    answer = http.post(f"/threads/{thread_id}/runs/wait", json=body)
    assert answer.status_code == 200, answer.text
    return True


def _finish(base: str, thread_id: str) -> int:
    """Take one thread to its end through the proxy; how many answers it lost."""
    lost = 0
    with httpx.Client(base_url=base, timeout=BUSY_SECONDS) as http:
        for _ in range(CALLS):
            try:
                if not _step(http, thread_id):
                    return lost
            except httpx.TransportError:
                lost += 1
    raise AssertionError(f"thread {thread_id} did not end in {CALLS} requests")


def _check_thread(http: httpx.Client, thread_id: str, expected: dict[str, Any]) -> None:
    assert http.get(f"/threads/{thread_id}/state").json()["values"] == expected
    runs = http.get(f"/threads/{thread_id}/runs", params={"limit": 100}).json()
    assert {run["status"] for run in runs} == {"success"}, runs
    history = http.post(f"/threads/{thread_id}/history", json={"limit": 100}).json()
    for newer, older in itertools.pairwise(history):
        assert newer["parent_checkpoint"]["checkpoint_id"] == (
            older["checkpoint"]["checkpoint_id"]), "history forked"


def _ledger_counts(ledger: Path, thread_ids: list[str]) -> int:
    """Check the ledger holds each effect of these threads once; how many node runs were
    repeated (a node cut off between its effect and its checkpoint runs again)."""
    with sqlite3.connect(ledger) as conn:
        effects = {row[0] for row in conn.execute("SELECT key FROM effects")}
        attempts = int(conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])
    conn.close()
    wanted = set().union(*(_child.expected_effects(t) for t in thread_ids))
    assert wanted - effects == set(), "effects lost"
    assert effects - wanted == set(), "unexpected effects"
    return attempts - len(wanted)


@pytest.mark.parametrize("trials", tier(6, 1000))
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_answer_lost_after_the_server_committed_is_applied_once(
        trials: int, backend: str, database: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("LEDGER", str(ledger))
    clients = 1 if trials < 50 else 6
    started = time.monotonic()
    with serve(db=database, graphs={"ledger": _child.builder()}) as url:
        port = int(url.rsplit(":", 1)[1])
        proxy = Proxy(("127.0.0.1", port))
        try:
            proxy.cut(POST, ANSWER, EVERY, every=True)
            base = f"http://127.0.0.1:{proxy.port}"
            work = Clients(proxy, trials, trials * EVERY, lambda _: str(uuid.uuid4()),
                           lambda thread_id: _finish(base, thread_id))
            work.run(clients)
            cuts = proxy.cuts
        finally:
            proxy.close()
        expected = fault_free_values(tmp_path / "reference-ledger.sqlite")
        with httpx.Client(base_url=url, timeout=30) as http:
            for thread_id in work.thread_ids:
                _check_thread(http, thread_id, expected)
    repeated = _ledger_counts(ledger, work.thread_ids)
    assert cuts >= trials and work.lost == cuts, (cuts, work.lost)
    print(f"\n{cuts} answers cut after the server carried the request out ({backend}, "
          f"{len(work.thread_ids)} threads, {time.monotonic() - started:.0f} s): 0 lost, "
          f"0 applied twice, no run failed, history linear; {repeated} node runs repeated")
