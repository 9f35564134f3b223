"""SQLite's change watcher: a change one store (one server process) commits wakes the waiters
of another store on the same file, as PostgreSQL's NOTIFY does, without either polling.

The server test sets every waiter's poll to an hour: a waiter that is woken at all was woken
by the watcher. No timing is asserted; a watcher that never wakes fails by the clients'
timeouts."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from _harness import RunningServer, ServerProcess
from langgraph_sdk import get_client

from hitlgraph.server.store import NewRun
from hitlgraph.server.store._notify import CHANGED
from hitlgraph.server.store._sqlite_sql import SQLITE
from hitlgraph.server.store._watch import CHANGES_KEPT, PRUNE_EVERY, ChangeWatcher
from hitlgraph.server.store.sqlite import SqliteStore

WAIT_S = 30.0
"""How long a test waits for a wake-up before failing (a bound, not a measurement)."""


def _run(run_id: str, thread_id: str) -> NewRun:
    return NewRun(tenant="", run_id=run_id, thread_id=thread_id, assistant_id="a",
                  graph_id="g", metadata={}, kwargs={}, multitask_strategy="enqueue")


@asynccontextmanager
async def _stores(path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """Two stores on one file, as two server processes have (each its own connections)."""
    first, second = SqliteStore(str(path)), SqliteStore(str(path))
    try:
        await first.setup()
        await second.setup()
        yield first, second
    finally:
        await first.close()
        await second.close()


@asynccontextmanager
async def _listening(store: SqliteStore) -> AsyncIterator[asyncio.Queue[str]]:
    """The keys `store`'s watcher wakes, as they come."""
    keys: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.get_running_loop().create_task(store.listen(keys.put_nowait))
    await asyncio.sleep(0.2)  # the watcher reads where the change log stands
    try:
        yield keys
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _next_key(keys: asyncio.Queue[str]) -> str:
    return await asyncio.wait_for(keys.get(), WAIT_S)


def test_a_run_queued_by_another_store_wakes_this_ones_workers(tmp_path: Path) -> None:
    async def main() -> None:
        async with _stores(tmp_path / "shared.sqlite") as (here, there), _listening(here) as keys:
            await there.create_run(_run("r-1", "t-1"), create_thread=True, thread_metadata={})
            assert await _next_key(keys) == "queue"
    asyncio.run(main())


def test_a_cancel_by_another_store_wakes_the_runs_waiters_and_not_its_own(tmp_path: Path
                                                                          ) -> None:
    async def main() -> None:
        async with _stores(tmp_path / "shared.sqlite") as (here, there):
            for n in (1, 2):
                await there.create_run(_run(f"r-{n}", f"t-{n}"), create_thread=True,
                                       thread_metadata={})
            async with _listening(here) as keys:
                # The store's own change comes first in the log, and is skipped: its own
                # process woke its waiters already.
                await here.cancel_run("", "t-1", "r-1", "interrupt")
                await there.cancel_run("", "t-2", "r-2", "interrupt")
                woken = [await _next_key(keys)]
                while "run:r-2" not in woken:
                    woken.append(await _next_key(keys))
            assert "run:r-1" not in woken
    asyncio.run(main())


def test_a_watcher_that_fell_behind_the_kept_changes_wakes_everyone(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"

    async def setup() -> None:
        async with _stores(path):
            pass
    asyncio.run(setup())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("hg_origin", 0, lambda: "other")
    made = CHANGES_KEPT + PRUNE_EVERY + 5
    for n in range(made):
        assert SQLITE.notify is not None
        conn.execute(SQLITE.notify, {"channel": CHANGED, "payload": f"r-{n}"})
    # The last prune (at the last multiple of PRUNE_EVERY) kept its CHANGES_KEPT rows.
    first = made // PRUNE_EVERY * PRUNE_EVERY - CHANGES_KEPT + 1
    kept = conn.execute("SELECT COUNT(*), MIN(seq) FROM hg_changes").fetchone()
    assert kept == (made - first + 1, first) and first > 1
    assert CHANGES_KEPT <= kept[0] < CHANGES_KEPT + PRUNE_EVERY
    woken: list[list[str]] = []
    watcher = ChangeWatcher(str(path), origin="mine")
    seen, complete = watcher._read(conn, 0, woken.append)
    assert (seen, complete) == (first + CHANGES_KEPT - 1, False)
    assert woken[0][:2] == ["*", f"run:r-{first - 1}"]
    conn.close()


def test_a_private_in_memory_store_listens_without_a_watcher() -> None:
    async def main() -> None:
        store = SqliteStore(":memory:")
        await store.setup()
        try:
            task = asyncio.get_running_loop().create_task(store.listen(lambda key: None))
            await asyncio.sleep(0.05)
            assert not task.done()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        finally:
            await store.close()
    asyncio.run(main())


GATED = '''
import time
from pathlib import Path
from typing import TypedDict

from hitlgraph.graph import END, START, StateGraph

GATE = Path({gate!r})


class State(TypedDict, total=False):
    n: int


def wait_for_gate(state: State) -> State:
    for _ in range(6000):
        if GATE.exists():
            return {{"n": state["n"] + 1}}
        time.sleep(0.01)
    raise TimeoutError(f"the test never opened {{GATE}}")


builder = StateGraph(State)
builder.add_node("wait_for_gate", wait_for_gate)
builder.add_edge(START, "wait_for_gate")
builder.add_edge("wait_for_gate", END)
'''


def test_a_join_in_one_process_learns_of_a_run_finished_in_another_without_polling(
        tmp_path: Path, start_process: Callable[..., ServerProcess],
        start_server: Callable[..., RunningServer]) -> None:
    gate = tmp_path / "gate"
    (tmp_path / "gated.py").write_text(GATED.format(gate=str(gate)), encoding="utf-8")
    config = tmp_path / "gated.json"
    config.write_text('{"graphs": {"gated": "./gated.py:builder"}}', encoding="utf-8")
    database = str(tmp_path / "shared.sqlite")
    runner = start_process(database, "--poll-seconds", "3600", config=config)

    async def main() -> Any:
        async with get_client(url=runner.url, timeout=WAIT_S) as first:
            thread = await first.threads.create()
            run = await first.runs.create(thread["thread_id"], "gated", input={"n": 1})
            await _until_running(first, thread["thread_id"], run["run_id"])
        # Started only now, so that its workers cannot take the run: only the waiter is here.
        second = start_server(db=database, config=config, poll_seconds=3600)
        async with get_client(url=second.url, timeout=WAIT_S) as waiter:
            joined = asyncio.ensure_future(waiter.runs.join(thread["thread_id"],
                                                            run["run_id"]))
            await asyncio.sleep(0.5)  # let the join read the run, still running
            gate.touch()
            # The server sends a keep-alive newline every few seconds: bound the wait here.
            return await asyncio.wait_for(joined, WAIT_S)

    assert asyncio.run(main()) == {"n": 2}


async def _until_running(client: Any, thread_id: str, run_id: str) -> None:
    """Wait (bounded) until a worker of the first server holds the run."""
    for _ in range(600):
        if (await client.runs.get(thread_id, run_id))["status"] == "running":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} was never claimed")
