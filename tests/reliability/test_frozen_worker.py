"""A frozen worker (SIGSTOP past its lease, then SIGCONT) gets none of its writes accepted
after another process took its run over: the run's fencing token moved on with the takeover,
so the thawed worker's checkpoint writes and run updates are refused."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _servers import ChildServers

LEASE = 1.5


def _until(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _freeze(process: subprocess.Popen[str], db: str) -> None:
    """SIGSTOP `process` at a moment it holds no SQLite write lock. A SQLite writer frozen
    inside its transaction blocks every other process's writes until it thaws (one writer
    per file), which no takeover can get around; the case under test is a worker frozen
    in its node, between transactions."""
    for _ in range(100):
        os.kill(process.pid, signal.SIGSTOP)
        if db.startswith("postgresql://") or _sqlite_writable(db):
            return
        os.kill(process.pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError("the worker held the SQLite write lock at every try")


def _sqlite_writable(path: str) -> bool:
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_thawed_worker_writes_nothing_after_takeover(
        backend: str, database: str, tmp_path: Path, servers: ChildServers) -> None:
    env = {"SLOW_SECONDS": "3", "LEDGER": str(tmp_path / "ledger.sqlite")}
    frozen, url = servers.start(database, LEASE, **env)
    with httpx.Client(base_url=url, timeout=10) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        run = http.post(f"/threads/{thread}/runs",
                        json={"assistant_id": "slow", "input": {"by": []}}).json()["run_id"]

        def status() -> Any:
            return http.get(f"/threads/{thread}/runs/{run}").json()["status"]

        _until(lambda: status() == "running", "the first worker to claim the run")
    _freeze(frozen, database)
    time.sleep(LEASE + 0.5)  # past its lease
    heir, heir_url = servers.start(database, LEASE, **env)
    with httpx.Client(base_url=heir_url, timeout=10) as http:
        _until(lambda: http.get(f"/threads/{thread}/runs/{run}").json()["status"]
               == "success", "the second worker to finish the run")
        os.kill(frozen.pid, signal.SIGCONT)
        time.sleep(4)  # the thawed worker's node ends and it tries to save
        state = http.get(f"/threads/{thread}/state").json()
        history = http.post(f"/threads/{thread}/history", json={"limit": 50}).json()
        assert http.get(f"/threads/{thread}/runs/{run}").json()["status"] == "success"
    assert state["values"]["by"] == [heir.pid], state
    writers = {pid for entry in history for pid in (entry["values"] or {}).get("by", [])}
    assert frozen.pid not in writers, "a checkpoint of the frozen worker was accepted"
    assert frozen.poll() is None, "the thawed worker died instead of standing down"
