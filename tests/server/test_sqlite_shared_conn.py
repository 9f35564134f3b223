"""The server's SQLite checkpointer shares its store's event-loop connection
(LoopSqliteSaver.sharing): one connection on the loop for the file, with one lock, one
busy-timeout side and one WAL checkpointer; other connections (another process's) still see
every change, and a finished run is one hg_changes row."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from hitlgraph.checkpoint.base import empty_checkpoint
from hitlgraph.server._loop_saver import LoopSqliteSaver
from hitlgraph.server.store._notify import CHANGED
from hitlgraph.server.store.base import NewRun
from hitlgraph.server.store.sqlite import SqliteStore

WAIT_S = 30.0
"""How long a test waits for something before failing (a bound, not a measurement)."""


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


def _put(saver: LoopSqliteSaver, thread_id: str, n: int = 1) -> Any:
    checkpoint = empty_checkpoint(f"1ef0000-{n:04d}", "2026-12-07T00:00:00+00:00")
    return saver.aput(_config(thread_id), checkpoint, {"source": "input", "step": -1}, {})


def _run(run_id: str, thread_id: str) -> NewRun:
    return NewRun(tenant="", run_id=run_id, thread_id=thread_id, assistant_id="a",
                  graph_id="g", metadata={}, kwargs={}, multitask_strategy="reject",
                  temporary=False, on_completion="keep")


@asynccontextmanager
async def _opened(path: str) -> AsyncIterator[SqliteStore]:
    """A store set up on the file at `path`, closed after."""
    store = SqliteStore(path)
    await store.setup()
    try:
        yield store
    finally:
        await store.close()


async def _finished_run(store: SqliteStore, run_id: str, thread_id: str) -> None:
    made = await store.create_run(_run(run_id, thread_id), create_thread=True,
                                  thread_metadata={}, lease=("w", 60.0))
    assert made is not None and made.status == "running"
    left = await store.finish_run(run_id, made.fencing, status="success", output={},
                                  error=None, thread_values={}, thread_interrupts={},
                                  thread_status="idle")
    assert left == "idle"


def test_the_saver_runs_on_the_stores_loop_connection(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")

    async def main() -> None:
        async with _opened(path) as store:
            async with LoopSqliteSaver.sharing(store) as saver:
                conn = store._inline_connection()
                assert saver.conn is conn
                seen: list[str] = []
                conn.set_trace_callback(seen.append)
                await _put(saver, "t")
                await store.create_thread("", "t", {}, if_exists="raise")
                assert await saver.aget_tuple(_config("t")) is not None
                assert any(s.startswith("INSERT OR REPLACE INTO checkpoints") for s in seen)
                assert any(s.startswith("INSERT INTO hg_threads") for s in seen)
                # One WAL checkpointer counts the commits of both.
                loop = store.loop_connection()
                assert loop is not None and saver._loop is loop
                before = loop.wal._commits
                await _put(saver, "t", 2)
                await store.patch_thread("", "t", {"k": 1})
                assert loop.wal._commits == before + 2
                assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 0
            # The saver leaves the connection to the store, which still uses it.
            assert (await store.get_thread("", "t")) is not None

    asyncio.run(main())


def test_another_process_sees_the_shared_connections_changes(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")

    async def main() -> None:
        store = SqliteStore(path, watch_seconds=0.005)
        other = SqliteStore(path, watch_seconds=0.005)  # as another process's
        await store.setup()
        await other.setup()
        woken: asyncio.Queue[str] = asyncio.Queue()
        listening = asyncio.ensure_future(other.listen(woken.put_nowait))
        try:
            async with LoopSqliteSaver.sharing(store) as saver, \
                    LoopSqliteSaver.from_conn_string(path) as other_saver:
                await asyncio.sleep(0.1)  # (the watcher has read where the changes are)
                await _put(saver, "t")
                await _finished_run(store, "r", "t")
                while (key := await asyncio.wait_for(woken.get(), WAIT_S)) != "run:r":
                    assert key == "queue"
                saved = await other_saver.aget_tuple(_config("t"))
                assert saved is not None and saved.checkpoint["id"] == "1ef0000-0001"
                run = await other.get_run("", "r")
                assert run is not None and run.status == "success"
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)
            await other.close()
            await store.close()

    asyncio.run(main())


def test_a_finished_run_is_one_change_row(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")

    async def main() -> None:
        async with _opened(path) as store:
            await _finished_run(store, "r", "t")

    asyncio.run(main())
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT channel, payload FROM hg_changes WHERE payload = 'r'"
                        ).fetchall()
    conn.close()
    assert rows == [(CHANGED, "r")]


def test_the_store_goes_to_its_threads_while_the_saver_thread_holds_the_connection(
        tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")

    async def main() -> None:
        async with _opened(path) as store:
            async with LoopSqliteSaver.sharing(store) as saver:
                await _put(saver, "t")
                loop = store.loop_connection()
                assert loop is not None
                held, done = threading.Event(), threading.Event()

                def hold() -> None:  # as the saver's thread does for a call
                    with loop.lock:
                        loop.wait_for_locks(30_000)
                        held.set()
                        done.wait(WAIT_S)

                holder = threading.Thread(target=hold)
                holder.start()
                assert held.wait(WAIT_S)
                try:
                    seen: list[str] = []
                    loop.conn.set_trace_callback(seen.append)
                    made = await asyncio.wait_for(
                        store.create_thread("", "t", {}, if_exists="raise"), WAIT_S)
                    assert made is not None
                    assert await asyncio.wait_for(store.get_thread("", "t"), WAIT_S)
                    assert seen == []  # both went to the store's own threads
                finally:
                    done.set()
                    holder.join()
                # Back on the loop: the busy timeout is 0 again for the loop's uses.
                await store.patch_thread("", "t", {"k": 1})
                assert seen and seen[0] == "PRAGMA busy_timeout = 0"
                assert loop.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 0
                assert await saver.aget_tuple(_config("t")) is not None

    asyncio.run(main())


def test_a_locked_file_sends_both_to_their_threads_and_back(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")

    async def main() -> None:
        async with _opened(path) as store:
            async with LoopSqliteSaver.sharing(store) as saver:
                other = sqlite3.connect(path, isolation_level=None)
                other.execute("BEGIN IMMEDIATE")
                try:
                    writing = asyncio.ensure_future(_put(saver, "t"))
                    making = asyncio.ensure_future(
                        store.create_thread("", "t", {}, if_exists="raise"))
                    await asyncio.sleep(0.2)
                    assert not writing.done() and not making.done()
                    other.execute("COMMIT")
                    await asyncio.wait_for(asyncio.gather(writing, making), WAIT_S)
                finally:
                    other.close()
                assert await saver.aget_tuple(_config("t")) is not None
                assert await store.get_thread("", "t") is not None
                conn = store._inline_connection()
                assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 0

    asyncio.run(main())


def test_a_private_memory_store_gives_the_saver_its_own_database() -> None:
    async def main() -> None:
        store = SqliteStore(":memory:")
        await store.setup()
        try:
            assert store.loop_connection() is None
            async with LoopSqliteSaver.sharing(store) as saver:
                await _put(saver, "t")
                assert await saver.aget_tuple(_config("t")) is not None
                await store.create_thread("", "t", {}, if_exists="raise")
        finally:
            await store.close()

    asyncio.run(main())
