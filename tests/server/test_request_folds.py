"""Transactions a runs/wait no longer needs on its own (issue 16), with the rules they kept:

- on SQLite, a run's first claim records where it starts in its fence-and-read transaction
  (the store and the checkpointer share the loop connection), a stale token records
  nothing, and a start already recorded stays;
- a resume is checked on the thread's row the creating transaction reads: no read of the
  row before it; a refused answer (422) or a thread with nothing to answer (409) still
  queues nothing;
- on PostgreSQL, creating a run locks the thread and reads it with its active runs in one
  round trip, and runs created at once on one thread still start one at a time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TypedDict

import pytest

pytest.importorskip("fastapi")

import httpx
from _ask_done import ask_then_done
from pydantic import BaseModel

from hitlgraph.graph import StateGraph
from hitlgraph.server import ServerSettings, create_app
from hitlgraph.server._loop_saver import LoopSqliteSaver
from hitlgraph.server._worker_fence import start_point
from hitlgraph.server.store import _leases as leases
from hitlgraph.server.store.base import NewRun
from hitlgraph.server.store.sqlite import SqliteStore
from hitlgraph.types import interrupt


class _State(TypedDict, total=False):
    payload: str
    answer: Any
    result: str


class _Answer(BaseModel):
    ok: bool


def _ask(state: _State) -> _State:
    answer = interrupt({"check": state["payload"]}, response_schema=_Answer)
    return {"answer": answer.ok}


def _done(state: _State) -> _State:
    return {"result": f"{state['payload']}:{state['answer']}"}


def _builder() -> StateGraph:
    return ask_then_done(_State, _ask, _done)


def _transactions(seen: list[str]) -> list[list[str]]:
    """The statements between each BEGIN and its COMMIT."""
    found: list[list[str]] = []
    for sql in seen:
        if sql.startswith("BEGIN"):
            found.append([])
        elif sql == "COMMIT" or sql.startswith("ROLLBACK"):
            continue
        elif found:
            found[-1].append(sql)
    return found


def _run(store: object, run_id: str) -> NewRun:
    return NewRun(tenant="", run_id=run_id, thread_id="t", assistant_id="a", graph_id="g",
                  metadata={}, kwargs={}, multitask_strategy="enqueue")


def test_the_start_point_is_recorded_with_the_fence_and_the_read(tmp_path: Path) -> None:
    async def main() -> None:
        store = SqliteStore(str(tmp_path / "s.sqlite"))
        await store.setup()
        try:
            async with LoopSqliteSaver.sharing(store) as saver:
                assert saver.shares(store)
                await store.create_thread("", "t", {}, if_exists="raise")
                made = await store.create_run(_run(store, "r1"), create_thread=False,
                                              thread_metadata={}, lease=("w", 60.0))
                assert made is not None and made.status == "running"
                seen: list[str] = []
                saver.conn.set_trace_callback(seen.append)
                config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}

                def record(fencing: int, point: dict[str, Any]) -> Any:
                    return lambda latest: leases.record_start(store.dialect, "r1", fencing,
                                                              point)

                token, latest, recorded = await saver.afence_read_then(
                    "r1", config, store, record(made.fencing, start_point(None)))
                assert (token, latest, recorded) == (1, None, True)
                (one,) = _transactions(seen)
                assert one[0].startswith("INSERT INTO fences")
                assert one[-1].startswith("UPDATE hg_runs SET start_point")
                row = await store.get_run("", "r1")
                assert row is not None and row.start_point == start_point(None)
                # A stale token records nothing (its fence still advances); a recorded
                # start stays the first.
                token, _, recorded = await saver.afence_read_then(
                    "r1", config, store, record(made.fencing + 1, {"checkpoint_id": "x"}))
                assert (token, recorded) == (2, False)
                token, _, recorded = await saver.afence_read_then(
                    "r1", config, store, record(made.fencing, {"checkpoint_id": "x"}))
                assert (token, recorded) == (3, True)
                row = await store.get_run("", "r1")
                assert row is not None and row.start_point == start_point(None)
        finally:
            await store.close()

    asyncio.run(main())


def test_a_private_saver_does_not_share_the_stores_connection(tmp_path: Path) -> None:
    async def main() -> None:
        store = SqliteStore(str(tmp_path / "s.sqlite"))
        await store.setup()
        try:
            async with LoopSqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as own:
                assert isinstance(own, LoopSqliteSaver) and not own.shares(store)
        finally:
            await store.close()

    asyncio.run(main())


def test_a_servers_runs_wait_records_its_start_in_the_fence_transaction(tmp_path: Path
                                                                        ) -> None:
    app = create_app(ServerSettings(graphs={"review": _builder()},
                                    db=str(tmp_path / "s.sqlite"), read_env=False))

    async def main() -> None:
        async with app.router.lifespan_context(app):
            rt = app.state.runtime
            seen: list[str] = []
            rt.saver.conn.set_trace_callback(seen.append)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://127.0.0.1") as http:
                tid = (await http.post("/threads", json={})).json()["thread_id"]
                seen.clear()
                out = (await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "input": {"payload": "x"}})).json()
                assert out["__interrupt__"][0]["value"] == {"check": "x"}
                starts = [t for t in _transactions(seen)
                          if any(s.startswith("UPDATE hg_runs SET start_point") for s in t)]
                assert len(starts) == 1 and starts[0][0].startswith("INSERT INTO fences")
                seen.clear()
                out = (await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": {"ok": True}}})).json()
                assert out["result"] == "x:True"
                # The resume's first statement opens the transaction that creates the run:
                # the thread's row is not read before it.
                first = next(s for s in seen if not s.startswith("SELECT p.thread_id"))
                assert first.startswith("BEGIN"), seen[:3]
                runs = (await http.get(f"/threads/{tid}/runs")).json()
                assert len(runs) == 2
                assert all(r["status"] == "success" for r in runs)

    asyncio.run(main())


def test_a_refused_resume_queues_nothing(tmp_path: Path) -> None:
    app = create_app(ServerSettings(graphs={"review": _builder()},
                                    db=str(tmp_path / "s.sqlite"), read_env=False))

    async def main() -> None:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://127.0.0.1") as http:
                tid = (await http.post("/threads", json={})).json()["thread_id"]
                await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "input": {"payload": "x"}})
                wrong = await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review",
                    "command": {"resume": {"ok": "maybe"}}})
                assert wrong.status_code == 422, wrong.text
                thread = (await http.get(f"/threads/{tid}")).json()
                assert thread["status"] == "interrupted"
                assert len((await http.get(f"/threads/{tid}/runs")).json()) == 1
                ok = await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": {"ok": False}}})
                assert ok.json()["result"] == "x:False"
                again = await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": {"ok": True}}})
                assert again.status_code == 409, again.text
                assert "has no interrupt waiting" in again.json()["detail"]
                assert len((await http.get(f"/threads/{tid}/runs")).json()) == 2
                thread = (await http.get(f"/threads/{tid}")).json()
                assert thread["status"] == "idle"

    asyncio.run(main())


def test_postgres_reads_the_thread_and_its_runs_in_the_first_trip() -> None:
    from hitlgraph.server.store._postgres_pipeline import FirstTrip, answers_nothing
    from hitlgraph.server.store._postgres_sql import POSTGRES
    from hitlgraph.server.store._runs import create

    trip = FirstTrip.of(create(POSTGRES, _run(None, "r"), False, {}, None))
    (lock, read) = trip.statements
    assert lock[0].startswith("SELECT 1 FROM hg_threads") and lock[0].endswith("FOR UPDATE")
    assert answers_nothing(lock[0])
    assert read[0] == POSTGRES.thread_and_active


def test_postgres_queues_one_run_at_a_time_on_a_thread(pg_url: str) -> None:
    """Creates racing on one thread, each claiming when free: one runs, the rest wait."""
    from hitlgraph.server.store.postgres import PostgresStore

    async def main() -> tuple[list[str], list[tuple[str, str]]]:
        store = PostgresStore.from_conn_string(pg_url, max_size=4)
        await store.setup()
        try:
            await store.create_thread("", "t", {}, if_exists="raise")
            made = await asyncio.gather(*(
                store.create_run(_run(None, f"r{i}"), create_thread=False,
                                 thread_metadata={}, lease=("w", 60.0)) for i in range(6)))
            statuses = sorted(m.status for m in made if m is not None)
            empty = await store.create_run(_run(None, "none"), create_thread=False,
                                           thread_metadata={}, lease=("w", 60.0))
            assert empty is not None and empty.status == "pending"
            runs = await store.list_runs("", "t", limit=10, offset=0, status=None)
            return statuses, sorted((r.run_id, r.status) for r in runs)
        finally:
            await store.close()

    statuses, runs = asyncio.run(main())
    assert statuses == ["pending"] * 5 + ["running"]
    assert [s for _, s in runs].count("running") == 1 and len(runs) == 7
