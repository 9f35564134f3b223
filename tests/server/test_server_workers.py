"""Workers: leases, fencing of a worker that lost its run, runs taken over after a server
died (continued from their last checkpoint), and many resumes racing for one interrupt.

Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import operator
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypedDict

import httpx
import pytest
from _harness import RunningServer, ServerProcess
from langgraph_sdk import get_sync_client

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.conformance import fenced_by
from hitlgraph.errors import FencedWriteError
from hitlgraph.graph import START, StateGraph
from hitlgraph.server import _worker_events
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.config import ServerSettings, bind_graph
from hitlgraph.server.store.base import NewRun, Store
from hitlgraph.server.worker import WorkerPool


@asynccontextmanager
async def opened(database: str) -> AsyncIterator[tuple[Store, BaseCheckpointSaver]]:
    """The store and checkpointer a server would open on `database`."""
    if database.startswith("postgresql://"):
        from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from hitlgraph.server.store.postgres import PostgresStore

        store: Store = PostgresStore.from_conn_string(database)
        await store.setup()
        try:
            async with AsyncPostgresSaver.from_conn_string(database) as saver:
                yield store, saver
        finally:
            await store.close()
        return
    from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from hitlgraph.server.store.sqlite import SqliteStore

    store = SqliteStore(database)
    await store.setup()
    try:
        async with AsyncSqliteSaver.from_conn_string(database) as saver:
            yield store, saver
    finally:
        await store.close()


def new_run(run_id: str, thread_id: str = "t1") -> NewRun:
    return NewRun(tenant="", run_id=run_id, thread_id=thread_id, assistant_id="a",
                  graph_id="g", metadata={}, kwargs={"input": {"log": []}},
                  multitask_strategy="enqueue")


class LogState(TypedDict):
    log: Annotated[list[str], operator.add]


def test_stale_worker_writes_are_refused_after_a_takeover(database: str) -> None:
    async def main() -> None:
        async with opened(database) as (store, saver):
            await store.create_run(new_run("r1"), create_thread=True, thread_metadata={})
            # A lease of 0 seconds has run out by the next claim: as if the worker stalled.
            first = await store.claim_run("w1", 0)
            assert first is not None and first.run.attempt == 1
            second = await store.claim_run("w2", 30)
            assert second is not None and second.run.run_id == "r1"
            assert second.fencing == first.fencing + 1 and second.run.attempt == 2
            assert await store.claim_run("w3", 30) is None

            assert not await store.append_events("r1", first.fencing, [("values", "{}")])
            assert not (await store.heartbeat("r1", first.fencing, 30)).held
            assert not await store.record_start("r1", first.fencing, {"checkpoint_id": None})
            assert not await store.finish_run(
                "r1", first.fencing, status="success", output=None, error=None,
                thread_values=None, thread_interrupts={}, thread_status="idle")
            assert await store.append_events("r1", second.fencing, [("values", "{}")])
            assert [e.seq for e in await store.read_events("r1", 0)] == [1]

            # The checkpointer's fence: the first worker's graph may no longer checkpoint.
            old = await saver.aadvance_fence("r1")
            new = await saver.aadvance_fence("r1")
            builder = StateGraph(LogState)
            builder.add_node("a", lambda s: {"log": ["a"]})
            builder.add_edge(START, "a")
            graph = builder.compile(checkpointer=saver)
            thread = {"thread_id": "t1"}
            stale = {"configurable": {**thread, **fenced_by("r1", old)}}
            with pytest.raises(FencedWriteError, match="Another worker took the lease over"):
                await graph.ainvoke({"log": []}, stale)
            assert (await graph.aget_state({"configurable": thread})).metadata is None
            done = await graph.ainvoke({"log": []}, {"configurable": {**thread,
                                                                       **fenced_by("r1", new)}})
            assert done["log"] == ["a"]

    asyncio.run(main())


def test_worker_that_lost_its_run_stops_quietly_and_the_new_holder_finishes_it(
        database: str) -> None:
    ran: list[str] = []
    taken: list[Any] = []

    async def main() -> None:
        async with opened(database) as (store, saver):
            async def take_over() -> None:
                # Another worker claims the run (its lease is 0 s, so it is always expired)
                # and advances the checkpointer's fence, as WorkerPool does on a claim.
                # The worker's write of 'a''s events may be in flight, its run's row locked
                # (PostgreSQL's claim skips locked rows): take it once that is done.
                claim = None
                for _ in range(200):
                    claim = await store.claim_run("thief", 30)
                    if claim is not None:
                        break
                    await asyncio.sleep(0.01)
                assert claim is not None
                taken.append(claim)
                await saver.aadvance_fence(claim.run.run_id)

            async def b(state: LogState) -> dict[str, Any]:
                ran.append("b")
                if not taken:
                    await take_over()
                return {"log": ["b"]}

            builder = StateGraph(LogState)
            builder.add_node("a", lambda s: ran.append("a") or {"log": ["a"]})
            builder.add_node("b", b)
            builder.add_node("c", lambda s: ran.append("c") or {"log": ["c"]})
            builder.add_edge(START, "a")
            builder.add_edge("a", "b")
            builder.add_edge("b", "c")
            settings = ServerSettings(graphs={"g": builder}, lease_seconds=0, poll_seconds=0.05)
            rt = Runtime(settings=settings, store=store, saver=saver,
                         graphs={"g": bind_graph("g", builder, saver)}, assistants={})
            pool = WorkerPool(rt, 1)
            run = dataclasses.replace(new_run("r1"), kwargs={
                "input": {"log": []}, "durability": "sync", "stream_mode": ["updates"]})
            await store.create_run(run, create_thread=True, thread_metadata={})
            first = await store.claim_run("w1", 0)
            assert first is not None
            await pool.execute(first)

            (second,) = taken
            row = await store.get_run("", "r1")
            assert row is not None and row.status == "running" and row.fencing == second.fencing
            # Events are written behind the graph (RunEvents): 'a''s went in before the
            # takeover, or was refused after it, as the events of a worker that died unwritten.
            stale = [json.loads(e.data) for e in await store.read_events("r1", 0)]
            assert stale in ([], [{"a": {"log": ["a"]}}])
            state = await rt.graphs["g"].compiled.aget_state({"configurable": {
                "thread_id": "t1"}})
            assert state.values["log"] == ["a"] and state.next == ("b",)

            await pool.execute(second)
            row = await store.get_run("", "r1")
            assert row is not None and row.status == "success"
            assert row.output == {"log": ["a", "b", "c"]}
            events = [json.loads(e.data) for e in await store.read_events("r1", 0)]
            assert events == [*stale, {"b": {"log": ["b"]}}, {"c": {"log": ["c"]}}]

    asyncio.run(main())
    # 'b' ran twice: its first run never finished (its writes were refused); 'a' ran once.
    assert ran == ["a", "b", "b", "c"]



def test_events_are_written_behind_the_graph_and_the_rest_with_the_finish(
        database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run streams ten chunks: its worker writes the first at once and, with writes spaced
    further apart than the run lasts, hands the other nine to the transaction that finishes
    the run (RunEvents); all ten are there, in order."""
    monkeypatch.setattr(_worker_events, "WRITE_EVERY", 60.0)
    appends: list[int] = []

    async def main() -> None:
        async with opened(database) as (store, saver):
            append = store.append_events

            async def counted(run_id: str, fencing: int, events: Any) -> bool:
                appends.append(len(events))
                return await append(run_id, fencing, events)

            monkeypatch.setattr(store, "append_events", counted)
            builder = StateGraph(LogState)
            previous = START
            for i in range(10):
                builder.add_node(f"n{i}", lambda s, i=i: {"log": [f"n{i}"]})
                builder.add_edge(previous, f"n{i}")
                previous = f"n{i}"
            settings = ServerSettings(graphs={"g": builder}, poll_seconds=0.05)
            rt = Runtime(settings=settings, store=store, saver=saver,
                         graphs={"g": bind_graph("g", builder, saver)}, assistants={})
            run = dataclasses.replace(new_run("r1"), kwargs={
                "input": {"log": []}, "stream_mode": ["updates"]})
            await store.create_run(run, create_thread=True, thread_metadata={})
            claim = await store.claim_run("w1", 30)
            assert claim is not None
            await WorkerPool(rt, 1).execute(claim)

            row = await store.get_run("", "r1")
            assert row is not None and row.status == "success"
            events = [json.loads(e.data) for e in await store.read_events("r1", 0)]
            assert events == [{f"n{i}": {"log": [f"n{i}"]}} for i in range(10)]

    asyncio.run(main())
    assert appends == [1]


CRASH_GRAPHS = '''
import asyncio, operator, os
from pathlib import Path
from typing import Annotated, TypedDict

from hitlgraph.config import get_stream_writer
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import interrupt

EFFECTS = Path(__file__).with_name("effects.log")


def effect(text):
    with EFFECTS.open("a", encoding="utf-8") as f:
        f.write(f"{text} {os.getpid()}\\n")


async def block_here_if_told():
    if os.environ.get("HITLGRAPH_TEST_BLOCK") == "1":
        await asyncio.Event().wait()  # until the process is killed


class S(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    answer: str


def one(state):
    effect("one")
    return {"log": ["one"]}


async def two(state):
    get_stream_writer()({"started": "two"})
    await block_here_if_told()
    effect("two")
    return {"log": ["two"]}


def three(state):
    effect("three")
    return {"log": ["three"]}


chain = StateGraph(S)
chain.add_sequence([one, two, three])
chain.add_edge(START, "one")


def ask(state):
    effect("ask")
    return {"log": ["ask"]}


async def review(state):
    answer = interrupt("approve?")
    get_stream_writer()({"answered": answer})
    await block_here_if_told()
    effect(f"review {answer}")
    return {"answer": answer}


def after(state):
    effect("after")
    return {"log": ["after"]}


asking = StateGraph(S)
asking.add_sequence([ask, review, after])
asking.add_edge(START, "ask")
'''


@pytest.fixture
def crash_config(tmp_path: Path) -> Path:
    folder = tmp_path / "crash"
    folder.mkdir()
    (folder / "crash_graphs.py").write_text(CRASH_GRAPHS, encoding="utf-8")
    path = folder / "langgraph.json"
    path.write_text(json.dumps({"graphs": {"chain": "./crash_graphs.py:chain",
                                           "asking": "./crash_graphs.py:asking"}}),
                    encoding="utf-8")
    return path


def effects(config: Path) -> list[tuple[str, int]]:
    lines = config.with_name("effects.log").read_text(encoding="utf-8").splitlines()
    return [(text, int(pid)) for text, _, pid in (line.rpartition(" ") for line in lines)]


def wait_for_custom(url: str, thread_id: str, run_id: str, wanted: str) -> None:
    """Follow the run's stream until its node sends the custom event `wanted` (a key)."""
    with get_sync_client(url=url, timeout=60) as client:
        for part in client.runs.join_stream(thread_id, run_id, stream_mode="custom"):
            if part.event == "custom" and wanted in part.data:
                return
    raise AssertionError(f"the run ended without a custom event {wanted!r}")


def start_blocking(start_process: Callable[..., ServerProcess], database: str,
                   config: Path, monkeypatch: pytest.MonkeyPatch) -> ServerProcess:
    with monkeypatch.context() as m:
        m.setenv("HITLGRAPH_TEST_BLOCK", "1")
        return start_process(database, "--workers", "1", "--lease-seconds", "2",
                             config=config)


def test_run_of_a_killed_server_is_finished_by_another_from_its_last_checkpoint(
        database: str, start_process: Callable[..., ServerProcess], crash_config: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    doomed = start_blocking(start_process, database, crash_config, monkeypatch)
    with get_sync_client(url=doomed.url, timeout=60) as client:
        tid = client.threads.create()["thread_id"]
        run = client.runs.create(tid, "chain", input={"log": []}, durability="sync",
                                 stream_mode=["updates", "custom"])
    wait_for_custom(doomed.url, tid, run["run_id"], "started")  # 'one' is checkpointed
    doomed.kill()
    heir = start_process(database, "--workers", "1", "--lease-seconds", "2",
                         "--poll-seconds", "0.1", config=crash_config)
    with get_sync_client(url=heir.url, timeout=60) as client:
        parts = list(client.runs.join_stream(tid, run["run_id"]))
        final = client.runs.join(tid, run["run_id"])
        assert client.runs.get(tid, run["run_id"])["status"] == "success"
    assert final["log"] == ["one", "two", "three"]
    # 'one' ran once, in the killed server; 'two' (cut off) and 'three' ran in the heir.
    assert effects(crash_config) == [("one", doomed.process.pid), ("two", heir.process.pid),
                                     ("three", heir.process.pid)]
    updates = [p.data for p in parts if p.event == "updates"]
    assert updates[0] == {"one": {"log": ["one"]}}
    assert updates[-1] == {"three": {"log": ["three"]}}


def test_resume_claimed_before_a_crash_is_continued_with_its_answer(
        database: str, start_process: Callable[..., ServerProcess], crash_config: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    doomed = start_blocking(start_process, database, crash_config, monkeypatch)
    with get_sync_client(url=doomed.url, timeout=60) as client:
        tid = client.threads.create()["thread_id"]
        paused = client.runs.wait(tid, "asking", input={"log": []})
        assert paused["__interrupt__"][0]["value"] == "approve?"
        run = client.runs.create(tid, "asking", command={"resume": "yes"},
                                 durability="sync", stream_mode=["updates", "custom"])
    # The answer is claimed (stored beside the checkpoint) before 'review' runs again.
    wait_for_custom(doomed.url, tid, run["run_id"], "answered")
    doomed.kill()
    heir = start_process(database, "--workers", "1", "--lease-seconds", "2",
                         "--poll-seconds", "0.1", config=crash_config)
    with get_sync_client(url=heir.url, timeout=60) as client:
        final = client.runs.join(tid, run["run_id"])
        assert client.runs.get(tid, run["run_id"])["status"] == "success"
        assert client.threads.get(tid)["status"] == "idle"
    assert final["answer"] == "yes" and final["log"] == ["ask", "after"]
    assert effects(crash_config) == [("ask", doomed.process.pid),
                                     ("review yes", heir.process.pid),
                                     ("after", heir.process.pid)]


def test_of_a_hundred_concurrent_resumes_exactly_one_wins(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server()
    with get_sync_client(url=server.url, timeout=60) as client:
        tid = client.threads.create()["thread_id"]
        client.runs.wait(tid, "review", input={"topic": "races"})

    async def race() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
            return list(await asyncio.gather(*(
                http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": {"approved": True}}})
                for _ in range(100))))

    answers = asyncio.run(race())
    # A loser is a 409, or, when its wait outlasted the keep-alive (the 200 went out with the
    # first newline), a 200 whose body is the conflict as an __error__.
    wins = [r for r in answers if r.status_code == 200 and "__error__" not in r.json()]
    losses = [r for r in answers if r not in wins]
    assert len(wins) == 1 and wins[0].json()["published"] == "TIPS FOR RACES"
    assert len(losses) == 99
    assert all(r.status_code == 409 or r.json()["__error__"]["error"] == "Conflict"
               for r in losses)
    # Each loser says the interrupt was answered already, and what the thread is now.
    for loss in losses:
        body = loss.json()
        detail = body["detail"] if loss.status_code == 409 else body["__error__"]["message"]
        assert "no interrupt waiting" in detail
        assert "status is 'idle'" in detail or "state now: next [], no open interrupt" in detail
    with get_sync_client(url=server.url, timeout=60) as client:
        assert client.threads.get(tid)["status"] == "idle"
        assert client.threads.get_state(tid)["values"]["approved"] is True


def test_a_run_created_with_a_lease_is_claimed_when_nothing_holds_it_back(
        database: str) -> None:
    """Store.create_run(lease=...): the run is claimed in its creating transaction as a
    worker's claim would take it (token 1, attempt 1, leased), unless another run of its
    thread is active; its lease and token then work as any claim's (a takeover advances
    the token and the first holder's writes are refused)."""
    async def main() -> None:
        async with opened(database) as (store, _saver):
            first = await store.create_run(new_run("r1"), create_thread=True,
                                           thread_metadata={}, lease=("here", 0))
            assert first is not None and first.status == "running"
            assert (first.fencing, first.attempt) == (1, 1)
            queued = await store.create_run(new_run("r2"), create_thread=False,
                                            thread_metadata={}, lease=("here", 30))
            assert queued is not None and queued.status == "pending" and queued.fencing == 0
            # r1's lease (0 s) has run out: a worker takes it over, not r2 (queued behind).
            taken = await store.claim_run("w1", 30)
            assert taken is not None and taken.run.run_id == "r1" and taken.fencing == 2
            assert not await store.record_start("r1", 1, {"checkpoint_id": None})
            assert await store.record_start("r1", 2, {"checkpoint_id": None})

    asyncio.run(main())


def _held_claims(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make the workers' claims find nothing until the returned event is set."""
    free = threading.Event()
    claim_run = Store.claim_run

    async def claim(self: Store, worker_id: str, lease_seconds: float) -> Any:
        return await claim_run(self, worker_id, lease_seconds) if free.is_set() else None

    monkeypatch.setattr(Store, "claim_run", claim)
    return free


def test_a_waited_run_runs_on_the_process_that_received_it(
        start_server: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """With the workers' claims held, runs/wait still answers (the request's process ran
    its run), a background run stays pending, and a runs/wait queued behind it on its thread
    waits for the workers (enqueue: it does not overtake)."""
    free = _held_claims(monkeypatch)
    server = start_server(poll_seconds=0.05)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        done = http.post(f"/threads/{thread}/runs/wait",
                         json={"assistant_id": "steps", "input": {"value": "x"}})
        assert done.status_code == 200 and done.json()["log"] == ["a", "b saw x", "c"]
        queued = http.post(f"/threads/{thread}/runs",
                           json={"assistant_id": "steps", "input": {"value": "y"}}).json()
        answers: list[Any] = []
        waiting = threading.Thread(target=lambda: answers.append(http.post(
            f"/threads/{thread}/runs/wait",
            json={"assistant_id": "steps", "input": {"value": "z"}}).json()))
        waiting.start()
        waiting.join(0.5)
        runs = http.get(f"/threads/{thread}/runs").json()
        assert [r["status"] for r in runs] == ["pending", "pending", "success"], runs
        assert runs[1]["run_id"] == queued["run_id"]
        free.set()
        waiting.join(20)
        assert answers and answers[0]["log"][-3:] == ["a", "b saw z", "c"], answers
        assert answers[0]["log"][3:6] == ["a", "b saw y", "c"]


def test_a_waited_run_writes_its_events_with_its_finish(
        start_server: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A runs/wait run that ends within WRITE_EVERY writes no events of its own: all go
    into the transaction that finishes it, and its stream, joined after, has them."""
    monkeypatch.setattr(_worker_events, "WRITE_EVERY", 60.0)
    appends: list[int] = []
    append = Store.append_events

    async def counted(self: Store, run_id: str, fencing: int, events: Any) -> bool:
        appends.append(len(events))
        return await append(self, run_id, fencing, events)

    monkeypatch.setattr(Store, "append_events", counted)
    server = start_server()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        done = http.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "steps", "input": {"value": "x"}, "stream_mode": ["updates"]})
        assert done.json()["log"] == ["a", "b saw x", "c"]
        (run,) = http.get(f"/threads/{thread}/runs").json()
        joined = http.get(f"/threads/{thread}/runs/{run['run_id']}/stream").text
    assert appends == []
    assert [line for line in joined.splitlines() if line.startswith("event:")].count(
        "event: updates") == 3, joined


def test_a_waited_runs_end_wakes_the_workers_only_for_its_threads_next_run(
        start_server: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle workers (no poll in the test's time) look for work when a run executed for its
    request ends with a run of its thread queued behind it, which they then run at once;
    a runs/wait whose end leaves its thread without an active run wakes none of them."""
    looks: list[str] = []
    claim_run = Store.claim_run

    async def counted(self: Store, worker_id: str, lease_seconds: float) -> Any:
        looks.append(worker_id)
        return await claim_run(self, worker_id, lease_seconds)

    monkeypatch.setattr(Store, "claim_run", counted)
    server = start_server(poll_seconds=3600.0)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        started = len(looks)  # each worker's first look, at its start
        done = http.post(f"/threads/{thread}/runs/wait",
                         json={"assistant_id": "slow", "input": {"seconds": 0.0}})
        assert done.status_code == 200 and done.json()["done"] == ["slow"]
        assert len(looks) == started, looks
        answers: list[Any] = []
        waiting = threading.Thread(target=lambda: answers.append(http.post(
            f"/threads/{thread}/runs/wait",
            json={"assistant_id": "slow", "input": {"seconds": 0.5}}).json()))
        waiting.start()
        for _ in range(100):  # until the waited run is going
            if http.get(f"/threads/{thread}").json()["status"] == "busy":
                break
            threading.Event().wait(0.02)
        queued = http.post(f"/threads/{thread}/runs",
                           json={"assistant_id": "slow", "input": {"seconds": 0.0}}).json()
        waiting.join(20)
        assert answers and answers[0]["done"] == ["slow", "slow"], answers
        for _ in range(250):  # 5 s: without the wake-up it stays pending for the poll's hour
            run = http.get(f"/threads/{thread}/runs/{queued['run_id']}").json()
            if run["status"] not in ("pending", "running"):
                break
            threading.Event().wait(0.02)
        assert run["status"] == "success", run
        assert http.get(f"/threads/{thread}/state").json()["values"]["done"] == ["slow"] * 3
