"""The SQLite store's writes and the server's checkpointer (LoopSqliteSaver) run on the event
loop while the file is free, and wait on their threads for a lock another connection holds
(another process's): never failing for it, never blocking the loop meanwhile, and in the order
they were made."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from hitlgraph.checkpoint.base import empty_checkpoint
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.server._loop_saver import LoopSqliteSaver
from hitlgraph.server.store.sqlite import SqliteStore

WAIT_S = 30.0
"""How long a test waits for a write before failing (a bound, not a measurement)."""


@contextmanager
def _locked(path: Path) -> Iterator[sqlite3.Connection]:
    """The file's write lock held by another connection (as another process holds it)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("COMMIT")
        other.close()


def _on_threads(calls: list[str]) -> Any:
    """AsyncSqliteSaver._arun, recording the name of each call's thread-bound operation."""
    original = AsyncSqliteSaver._arun

    async def recording(self: AsyncSqliteSaver, call: Any) -> Any:
        calls.append(call.ops.__name__)
        return await original(self, call)
    return recording


def _put(saver: AsyncSqliteSaver, thread_id: str) -> Any:
    checkpoint = empty_checkpoint(f"1ef0000-{thread_id}", "2026-12-07T00:00:00+00:00")
    return saver.aput({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}},
                      checkpoint, {"source": "input", "step": -1}, {})


def test_store_writes_on_the_loop_and_waits_for_another_connections_lock(
        tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"

    async def main() -> None:
        store = SqliteStore(str(path))
        await store.setup()
        try:
            loop_thread = threading.get_ident()
            seen: list[int] = []
            conn = store._inline_connection()
            conn.set_trace_callback(lambda sql: seen.append(threading.get_ident()))
            await store.create_thread("", "free", {}, if_exists="raise")
            assert seen and set(seen) == {loop_thread}  # free: run on the loop's thread
            with _locked(path) as other:
                waiting = asyncio.ensure_future(
                    store.create_thread("", "busy", {}, if_exists="raise"))
                await asyncio.sleep(0.2)
                assert not waiting.done()  # waits on the write thread; the loop goes on
                other.execute("COMMIT")
                row = await asyncio.wait_for(waiting, WAIT_S)
            assert row is not None and row.thread_id == "busy"
            assert await store.get_thread("", "busy") is not None
        finally:
            await store.close()

    asyncio.run(main())


def test_checkpointer_runs_calls_on_the_loop_unless_the_file_is_locked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "saver.sqlite"
    to_thread: list[str] = []
    monkeypatch.setattr(AsyncSqliteSaver, "_arun", _on_threads(to_thread))

    async def main() -> None:
        async with LoopSqliteSaver.from_conn_string(str(path)) as saver:
            await _put(saver, "free")
            assert await saver.aget_tuple({"configurable": {"thread_id": "free"}}) is not None
            assert to_thread == []  # both on the loop
            with _locked(path) as other:
                writing = asyncio.ensure_future(_put(saver, "busy"))
                await asyncio.sleep(0.2)
                assert not writing.done() and len(to_thread) == 1
                # A read made meanwhile queues behind the write: it must see it.
                reading = asyncio.ensure_future(
                    saver.aget_tuple({"configurable": {"thread_id": "busy"}}))
                await asyncio.sleep(0.05)
                assert len(to_thread) == 2
                other.execute("COMMIT")
                await asyncio.wait_for(writing, WAIT_S)
                assert await asyncio.wait_for(reading, WAIT_S) is not None
            assert saver.conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0

    asyncio.run(main())
