"""Queuing a run on SQLite reads its thread and the thread's active runs in one statement,
and the multitask strategies see those runs as before: oldest first, whatever order they
were written in."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from hitlgraph.server.store._records import ThreadBusyError
from hitlgraph.server.store.base import NewRun
from hitlgraph.server.store.sqlite import SqliteStore


def _run(run_id: str, strategy: str = "enqueue", **extra: Any) -> NewRun:
    return NewRun(tenant="", run_id=run_id, thread_id="t", assistant_id="a", graph_id="g",
                  metadata=extra, kwargs={}, multitask_strategy=strategy,  # type: ignore[arg-type]
                  temporary=False, on_completion="keep")


def test_queuing_reads_thread_and_active_runs_in_one_statement(tmp_path: Path) -> None:
    async def main() -> None:
        store = SqliteStore(str(tmp_path / "s.sqlite"))
        await store.setup()
        try:
            await store.create_thread("", "t", {"owner": "me"}, if_exists="raise")
            seen: list[str] = []
            store._inline_connection().set_trace_callback(seen.append)
            made = await store.create_run(_run("r1"), create_thread=False,
                                          thread_metadata={})
            assert made is not None and made.status == "pending"
            reads = [s for s in seen if s.startswith("SELECT")]
            assert len(reads) == 1 and "hg_runs" in reads[0] and "hg_threads" in reads[0]
            assert made.metadata["owner"] == "me"  # (the thread's metadata, read there)
            assert await store.create_run(_run("r0"), create_thread=False,
                                          thread_metadata={}) is not None
            # The oldest active run is r1 (made first, though r0 sorts before it by id).
            with pytest.raises(ThreadBusyError) as refused:
                await store.create_run(_run("r2", "reject"), create_thread=False,
                                       thread_metadata={})
            assert refused.value.run_id == "r1"
            made = await store.create_run(_run("r3", "interrupt"), create_thread=False,
                                          thread_metadata={})
            assert made is not None
            for run_id in ("r1", "r0"):
                row = await store.get_run("", run_id)
                assert row is not None and row.status == "interrupted"
            assert await store.create_run(_run("r4"), create_thread=False,
                                          thread_metadata={}) is not None
            missing = dataclasses.replace(_run("r5"), thread_id="nope")
            assert await store.create_run(missing, create_thread=False,
                                          thread_metadata={}) is None
        finally:
            await store.close()

    asyncio.run(main())
