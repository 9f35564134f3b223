"""A full disk under SQLite: every write fails, reads go on, and nothing stored is lost.

In the library, SQLite's own limit (`PRAGMA max_page_count` on the saver's connection) makes
a resume fail with "database or disk is full" (SQLITE_FULL); the thread keeps its open
question and takes the answer once the limit is lifted.

Under a server, the whole file system is full for it, without privileges (so in CI too):
the server runs in a process of its own whose file size limit (RLIMIT_FSIZE, set from
outside with prlimit) drops to one page, so each write to the database or its WAL fails
(EFBIG, which SQLite reports as a "disk I/O error"; ENOSPC on a full file system gives
"database or disk is full", which the server's store treats the same); raising the limit
again is space coming back.

While full: a request that must write is answered 503 (Retry-After), never 500; the thread
still reads back with its open question; a run cut off by it ends (error, or success once
retried) instead of staying "running". After: the question is answered, the thread ends
as without the fault, and `PRAGMA integrity_check` is ok.
"""

from __future__ import annotations

import resource
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _reliability_graph import review_builder
from _servers import ChildServers

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.types import Command

LEASE = 5.0
"""Short: a run cut off by the full disk is claimed again once its lease runs out."""
FULL = 4096
"""The file size limit while the disk is full: one page, less than any write SQLite makes
past a database's first page or a WAL's header."""


def _limit(pid: int, size: int) -> None:
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (size if size >= 0 else hard, hard))


def _until(check: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return found


def test_a_full_disk_refuses_writes_cleanly_and_loses_nothing(
        tmp_path: Any, servers: ChildServers) -> None:
    db = str(tmp_path / "server.sqlite")
    server, url = servers.start(db, LEASE, SLOW_SECONDS="2")
    with httpx.Client(base_url=url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        paused = http.post(f"/threads/{thread}/runs/wait",
                           json={"assistant_id": "review", "input": {"topic": "disk"}})
        assert paused.status_code == 200, paused.text
        busy = http.post("/threads", json={}).json()["thread_id"]
        slow = http.post(f"/threads/{busy}/runs",
                         json={"assistant_id": "slow", "input": {"by": []}}).json()["run_id"]
        _until(lambda: http.get(f"/threads/{busy}/runs/{slow}").json()["status"] == "running",
               "the slow run to start")

        _limit(server.pid, FULL)
        refused = http.post(f"/threads/{thread}/runs",
                            json={"assistant_id": "review", "command": {"resume": True}})
        made = http.post("/threads", json={})
        state = http.get(f"/threads/{thread}/state")
        time.sleep(3)  # the slow run's node ends and its checkpoint write meets the full disk
        _limit(server.pid, -1)

        assert refused.status_code == 503 and refused.headers["retry-after"], refused.text
        assert made.status_code == 503, made.text
        assert state.status_code == 200, state.text
        assert [i["value"] for i in state.json()["interrupts"]] == [
            {"question": "Publish disk?"}], state.text
        ended = _until(lambda: (run := http.get(f"/threads/{busy}/runs/{slow}").json())[
            "status"] not in ("pending", "running") and run, "the cut-off run to end")
        assert ended["status"] in ("success", "error"), ended

        done = http.post(f"/threads/{thread}/runs/wait",
                         json={"assistant_id": "review", "command": {"resume": True}})
        assert done.status_code == 200 and done.json() == {"topic": "disk", "approved": True}
        again = http.post(f"/threads/{busy}/runs/wait",
                          json={"assistant_id": "slow", "input": {"by": []}})
        assert again.status_code == 200, again.text
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    print(f"\nwhile full: resume {refused.status_code}, new thread {made.status_code}, "
          f"state {state.status_code}; the cut-off run ended {ended['status']}")


def test_a_full_database_fails_the_resume_and_keeps_the_question(tmp_path: Any) -> None:
    conn = sqlite3.connect(tmp_path / "full.sqlite", check_same_thread=False)
    try:
        graph = review_builder.compile(checkpointer=SqliteSaver(conn))
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"topic": "disk"}, config)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
        with pytest.raises(sqlite3.OperationalError, match="full"):
            graph.invoke(Command(resume="a long answer " * 20_000), config)
        state = graph.get_state(config)
        assert state.next == ("ask",)
        assert [i.value for i in state.interrupts] == [{"question": "Publish disk?"}]
        conn.execute("PRAGMA max_page_count=1073741823")
        assert graph.invoke(Command(resume=False), config) == {"topic": "disk",
                                                                 "approved": False}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
