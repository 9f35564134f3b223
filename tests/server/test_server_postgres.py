"""The PostgreSQL store: migrations racing, claims racing, notifications across processes,
and two `hitlgraph serve` processes sharing one database.

Each test gets a fresh schema of HITLGRAPH_TEST_POSTGRES_DSN's database (see conftest.py);
without it they skip, and under CI=true they fail."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from _harness import ServerProcess
from langgraph_sdk import get_sync_client

from hitlgraph.server.store.base import NewRun


def _run(run_id: str, thread_id: str) -> NewRun:
    return NewRun(tenant="", run_id=run_id, thread_id=thread_id, assistant_id="a",
                  graph_id="g", metadata={}, kwargs={}, multitask_strategy="enqueue")


def test_migrations_from_several_connections_at_once_apply_once(pg_url: str) -> None:
    from hitlgraph.server.store.postgres import PostgresStore

    async def main() -> list[int]:
        stores = [PostgresStore.from_conn_string(pg_url, max_size=1) for _ in range(4)]
        try:
            await asyncio.gather(*(s.setup() for s in stores))
            await stores[0].setup()  # again: nothing to do
            async with stores[0].pool.connection() as conn:
                rows = await (await conn.execute(
                    "SELECT v FROM hg_server_migrations ORDER BY v")).fetchall()
            return [v for (v,) in rows]
        finally:
            for store in stores:
                await store.close()

    from hitlgraph.server.store._postgres_sql import MIGRATIONS

    assert asyncio.run(main()) == list(range(len(MIGRATIONS)))


def test_racing_workers_claim_each_run_once_and_one_per_thread(pg_url: str) -> None:
    from hitlgraph.server.store.postgres import PostgresStore

    async def main() -> None:
        store = PostgresStore.from_conn_string(pg_url, max_size=8)
        await store.setup()
        try:
            for i in range(12):
                await store.create_run(_run(f"solo-{i}", f"t{i}"), create_thread=True,
                                       thread_metadata={})
            for i in range(3):
                await store.create_run(_run(f"queued-{i}", "busy"), create_thread=True,
                                       thread_metadata={})

            async def worker(name: str) -> list[str]:
                mine = []
                while (claim := await store.claim_run(name, 30)) is not None:
                    mine.append(claim.run.run_id)
                return mine

            taken = await asyncio.gather(*(worker(f"w{i}") for i in range(8)))
            claimed = [run_id for mine in taken for run_id in mine]
            # Every thread's oldest run exactly once; runs queued behind one wait for it.
            assert sorted(claimed) == sorted([f"solo-{i}" for i in range(12)] + ["queued-0"])
            finished = await store.finish_run(
                "queued-0", 1, status="success", output=None, error=None, thread_values=None,
                thread_interrupts={}, thread_status="idle")
            assert finished
            nxt = await store.claim_run("w0", 30)
            assert nxt is not None and nxt.run.run_id == "queued-1"
        finally:
            await store.close()

    asyncio.run(main())


def test_notifications_wake_a_listener_in_another_connection(pg_url: str) -> None:
    from hitlgraph.server.store.postgres import PostgresStore

    async def main() -> None:
        listener = PostgresStore.from_conn_string(pg_url, max_size=1)
        writer = PostgresStore.from_conn_string(pg_url, max_size=1)
        await listener.setup()
        await writer.setup()
        heard: asyncio.Queue[str] = asyncio.Queue()

        async def hears(key: str) -> None:
            # NOTIFY reaches every connection to the database: other tests' keys may come
            # first (their runs' ids), so skip them until ours, within 30 s.
            async def until() -> None:
                while await heard.get() != key:
                    pass
            await asyncio.wait_for(until(), 30)

        task = asyncio.ensure_future(listener.listen(heard.put_nowait))
        try:
            await hears("*")  # listening now
            await writer.create_run(_run("r1", "t1"), create_thread=True, thread_metadata={})
            await hears("queue")
            claim = await writer.claim_run("w", 30)
            assert claim is not None
            await writer.append_events("r1", claim.fencing, [("values", "{}")])
            await hears("run:r1")
            await writer.cancel_run("", "t1", "r1", "interrupt")
            await hears("cancel:r1")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await listener.close()
            await writer.close()

    asyncio.run(main())


MEET_GRAPHS = '''
import asyncio, os, time
from pathlib import Path
from typing import TypedDict

from hitlgraph.graph import START, StateGraph

ROOM = Path(__file__).with_name("room")


class S(TypedDict, total=False):
    pids: list


async def meet(state):
    # Wait (bounded) until two runs are in here at once: with one worker per server, they
    # are necessarily executing in two different servers.
    ROOM.mkdir(exist_ok=True)
    (ROOM / str(os.getpid())).touch()
    deadline = time.monotonic() + 60
    while len(list(ROOM.iterdir())) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return {"pids": sorted(int(p.name) for p in ROOM.iterdir())}


meeting = StateGraph(S)
meeting.add_node("meet", meet)
meeting.add_edge(START, "meet")
'''


def test_two_servers_share_the_work_and_stream_each_others_runs(
        pg_url: str, start_process: Callable[..., ServerProcess], tmp_path: Path) -> None:
    folder = tmp_path / "meet"
    folder.mkdir()
    (folder / "meet_graphs.py").write_text(MEET_GRAPHS, encoding="utf-8")
    config = folder / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"meeting": "./meet_graphs.py:meeting"}}),
                      encoding="utf-8")
    first = start_process(pg_url, "--workers", "1", config=config)
    second = start_process(pg_url, "--workers", "1", config=config)
    with get_sync_client(url=first.url, timeout=90) as one, \
            get_sync_client(url=second.url, timeout=90) as two:
        runs = []
        for _ in range(2):
            tid = one.threads.create()["thread_id"]
            runs.append((tid, one.runs.create(tid, "meeting", input={},
                                              stream_mode="updates")["run_id"]))
        # Created through the first server, followed through the second.
        streams = [list(two.runs.join_stream(tid, run_id)) for tid, run_id in runs]
        both = sorted([first.process.pid, second.process.pid])
        for parts in streams:
            assert parts[0].event == "metadata"
            assert [p.data for p in parts if p.event == "updates"] == [{"meet": {"pids": both}}]
        for tid, run_id in runs:
            assert one.runs.get(tid, run_id)["status"] == "success"
            assert two.threads.get_state(tid)["values"] == {"pids": both}


def test_a_resume_through_one_server_is_joined_through_the_other(
        pg_url: str, start_process: Callable[..., ServerProcess]) -> None:
    first = start_process(pg_url)
    second = start_process(pg_url)
    with get_sync_client(url=first.url, timeout=60) as one, \
            get_sync_client(url=second.url, timeout=60) as two:
        tid = one.threads.create()["thread_id"]
        paused = two.runs.wait(tid, "review", input={"topic": "sharing"})
        assert paused["__interrupt__"][0]["value"]["question"] == "Publish this draft?"
        assert one.threads.get(tid)["status"] == "interrupted"
        run = one.runs.create(tid, "review", command={"resume": {"approved": True}})
        final = two.runs.join(tid, run["run_id"])
        assert final["published"] == "TIPS FOR SHARING"
        assert one.threads.get(tid)["status"] == "idle"
