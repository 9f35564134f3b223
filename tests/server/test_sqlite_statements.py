"""What the SQLite server's storage sends per operation: the statements a request costs are
only those its result needs (issue 16), and the rules they enforce hold as before.

- LoopSqliteSaver sets the connection's busy timeout only when a call runs on the other side
  (loop or thread) from the one before, not around every call; a call off the loop still
  waits for another connection's lock.
- A step saved with writes reads its fence's token once on SQLite, and a stale token is
  still refused with nothing stored.
- finish_run on SQLite sends no row-locking read (its write transaction holds the file).
- The WAL checkpoint runs on a thread of its own, not inside a commit made on the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from hitlgraph.checkpoint.base import Fence, WriteRules, empty_checkpoint
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.errors import FencedWriteError
from hitlgraph.server._loop_saver import LoopSqliteSaver
from hitlgraph.server.store._wal import (
    CHECK_EVERY,
    LOG_LIMIT,
    WalCheckpoints,
    no_autocheckpoint,
)
from hitlgraph.server.store.base import NewRun
from hitlgraph.server.store.sqlite import SqliteStore


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


def _checkpoint(n: int) -> Any:
    return empty_checkpoint(f"1ef0000-{n:04d}", "2026-12-07T00:00:00+00:00")


def _traced(conn: sqlite3.Connection) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def test_loop_saver_sets_the_busy_timeout_only_when_calls_change_sides(tmp_path: Path
                                                                        ) -> None:
    async def main() -> None:
        async with LoopSqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as saver:
            seen = _traced(saver.conn)
            config = await saver.aput(_config("t"), _checkpoint(1), {"step": -1}, {})
            await saver.aput_writes(config, [("a", 1)], "task-1", "")
            assert await saver.aget_tuple(_config("t")) is not None
            pragmas = [s for s in seen if s.startswith("PRAGMA busy_timeout")]
            assert pragmas == ["PRAGMA busy_timeout = 0"]  # once, for three calls
            seen.clear()
            # Off the loop (a sync call on a thread), the saver's busy timeout is back.
            assert await asyncio.to_thread(saver.get_tuple, _config("t")) is not None
            assert seen[0] == "PRAGMA busy_timeout = 30000"
            assert saver.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
            seen.clear()
            assert await saver.aget_tuple(_config("t")) is not None
            assert seen[0] == "PRAGMA busy_timeout = 0"

    asyncio.run(main())


def _step(saver: SqliteSaver, fence: Fence) -> Any:
    base = saver.put(_config("t"), _checkpoint(1), {"step": -1}, {})
    ruled = WriteRules(fence=fence).on(base)
    return saver.put_step([(ruled, [("a", 1)], "task-1", "")], ruled, _checkpoint(2),
                          {"step": 0}, {})


def test_a_step_with_writes_reads_its_fence_once(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as saver:
        fence = Fence("run-1", saver.advance_fence("run-1"))
        seen = _traced(saver.conn)
        _step(saver, fence)
        assert sum(s.startswith("SELECT token FROM fences") for s in seen) == 1
        saved = saver.get_tuple(_config("t"))
        assert saved is not None and saved.checkpoint["id"] == "1ef0000-0002"


def test_a_step_with_a_stale_fence_stores_nothing(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as saver:
        fence = Fence("run-1", saver.advance_fence("run-1"))
        saver.advance_fence("run-1")  # another worker claimed the run since
        with pytest.raises(FencedWriteError):
            _step(saver, fence)
        saved = saver.get_tuple(_config("t"))
        assert saved is not None and saved.checkpoint["id"] == "1ef0000-0001"
        assert saved.pending_writes == []


def test_finish_run_sends_no_locking_read_on_sqlite(tmp_path: Path) -> None:
    async def main() -> None:
        store = SqliteStore(str(tmp_path / "store.sqlite"))
        await store.setup()
        try:
            await store.create_thread("", "t", {}, if_exists="raise")
            run = NewRun(tenant="", run_id="r", thread_id="t", assistant_id="a",
                         graph_id="g", metadata={}, kwargs={}, multitask_strategy="reject",
                         temporary=False, on_completion="keep")
            made = await store.create_run(run, create_thread=False, thread_metadata={},
                                          lease=("w", 60.0))
            assert made is not None and made.status == "running"
            seen: list[str] = []
            for conn in (store.conn, store._inline_connection()):
                conn.set_trace_callback(seen.append)
            left = await store.finish_run("r", made.fencing, status="success", output={},
                                          error=None, thread_values={}, thread_interrupts={},
                                          thread_status="idle")
            assert left == "idle"
            assert not any(s.startswith("SELECT 1 FROM hg_threads") for s in seen)
            thread = await store.get_thread("", "t")
            assert thread is not None and thread.status == "idle"
        finally:
            await store.close()

    asyncio.run(main())


def test_wal_checkpoints_run_off_the_committing_connection(tmp_path: Path) -> None:
    path = str(tmp_path / "wal.sqlite")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    no_autocheckpoint(conn)
    conn.execute("CREATE TABLE t (v BLOB)")
    wal = WalCheckpoints(path, "test-wal")
    try:
        for _ in range(LOG_LIMIT // 4096 + 64):
            conn.execute("INSERT INTO t VALUES (randomblob(4000))")
        # Every commit stayed in the log: the database file holds no row yet.
        assert Path(path).stat().st_size < LOG_LIMIT
        for _ in range(CHECK_EVERY):
            wal.committed()
    finally:
        wal.close()  # (waits for the checkpoint started)
    assert Path(path).stat().st_size > LOG_LIMIT
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == LOG_LIMIT // 4096 + 64
    conn.close()


def test_the_wal_log_starts_over_while_commits_go_on_during_its_checkpoints(
        tmp_path: Path) -> None:
    # Each thread checkpoint ends while a transaction is open, as under a steady load: the
    # log holds frames it did not copy, and SQLite would never start it over by itself.
    path = str(tmp_path / "wal.sqlite")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    no_autocheckpoint(conn)
    conn.execute("CREATE TABLE t (v BLOB)")
    wal = WalCheckpoints(path, "test-wal", conn)
    rows = 4 * LOG_LIMIT // 4096
    try:
        for _ in range(rows):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t VALUES (randomblob(4000))")
            running = wal._running  # (the thread's checkpoint, if one was started)
            if running is not None:
                running.result()
            conn.execute("COMMIT")
            wal.committed()
    finally:
        wal.close()
    assert Path(path + "-wal").stat().st_size < 2 * LOG_LIMIT  # (4x without starting over)
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == rows
    conn.close()


def test_the_servers_loop_connections_leave_checkpoints_to_a_thread(tmp_path: Path) -> None:
    async def main() -> None:
        path = str(tmp_path / "s.sqlite")
        store = SqliteStore(path)
        await store.setup()
        try:
            await store.create_thread("", "t", {}, if_exists="raise")
            inline = store._inline_connection()
            assert inline.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
            async with LoopSqliteSaver.from_conn_string(path) as saver:
                await saver.aput(_config("t"), _checkpoint(1), {"step": -1}, {})
                assert saver.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        finally:
            await store.close()

    asyncio.run(main())
