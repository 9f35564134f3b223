"""Transactions a runs/wait no longer needs on its own (issue 16), with the rules they kept:

- on SQLite, a run's first claim records where it starts in its fence-and-read transaction
  (the store and the checkpointer share the loop connection), a stale token records
  nothing, and a start already recorded stays; a run claimed as a runs/wait creates it
  does all of that in the creating transaction (with a resume's open interrupts), and a
  worker that lost such a run still writes nothing;
- a resume is checked on the thread's row the creating transaction reads: no read of the
  row before it; a refused answer (422) or a thread with nothing to answer (409) still
  queues nothing;
- on PostgreSQL, creating a run locks the thread and reads it with its active runs in one
  round trip, a runs/wait's run is created, claimed, fenced and started in one transaction
  (a resume's open interrupts read there too), and runs created at once on one thread
  still start one at a time.
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


def _the_run_made(transactions: list[list[str]]) -> list[str]:
    """The one transaction that inserted a run."""
    (made,) = [t for t in transactions
               if any(s.startswith("INSERT INTO hg_runs") for s in t)]
    return made


def _index(statements: list[str], prefix: str) -> int:
    return next(i for i, s in enumerate(statements) if s.startswith(prefix))


def test_a_runs_wait_creates_claims_fences_and_starts_its_run_in_one_transaction(
        tmp_path: Path) -> None:
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
                made = _the_run_made(_transactions(seen))
                # The run's INSERT (claimed), then its fence, the read, and its start point.
                assert (_index(made, "INSERT INTO hg_runs") < _index(made, "INSERT INTO fences")
                        < _index(made, "SELECT thread_id, checkpoint_ns, checkpoint_id")
                        < _index(made, "UPDATE hg_runs SET start_point"))
                assert sum(s.startswith("INSERT INTO fences") for s in seen) == 1
                assert sum(s.startswith("UPDATE hg_runs SET start_point") for s in seen) == 1
                seen.clear()
                out = (await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": {"ok": True}}})).json()
                assert out["result"] == "x:True"
                # The resume's first statement opens the transaction that creates the run:
                # its open interrupts (the approvers' check), the thread's row, the run, its
                # fence, the thread's checkpoint and its start point are read and written
                # there, and nowhere else.
                assert seen[0].startswith("BEGIN"), seen[:3]
                made = _the_run_made(_transactions(seen))
                assert (_index(made, "SELECT p.thread_id") < _index(made, "SELECT tenant")
                        < _index(made, "INSERT INTO hg_runs") < _index(made, "INSERT INTO fences")
                        < _index(made, "SELECT thread_id, checkpoint_ns, checkpoint_id")
                        < _index(made, "UPDATE hg_runs SET start_point"))
                assert seen.index("COMMIT") > seen.index(made[-1])
                assert sum(s.startswith("SELECT p.thread_id") for s in seen) == 1
                assert sum(s.startswith("INSERT INTO fences") for s in seen) == 1
                runs = (await http.get(f"/threads/{tid}/runs")).json()
                assert len(runs) == 2
                assert all(r["status"] == "success" for r in runs)

    asyncio.run(main())


class _Slow(TypedDict, total=False):
    log: list[str]


def test_a_run_claimed_as_it_was_made_writes_nothing_once_another_claim_took_it(
        tmp_path: Path) -> None:
    """The fence a runs/wait's creating transaction advanced is the run's: once another
    claim advanced it again (the lease ran out), the first graph's next checkpoint is
    refused, and its worker neither finishes the run nor writes its thread."""
    entered, gate = asyncio.Event(), asyncio.Event()

    async def slow(state: _Slow) -> _Slow:
        entered.set()
        await gate.wait()
        return {"log": [*state.get("log", []), "slow"]}

    builder = StateGraph(_Slow)
    builder.add_node("slow", slow)
    builder.set_entry_point("slow")
    builder.set_finish_point("slow")
    path = str(tmp_path / "s.sqlite")
    app = create_app(ServerSettings(graphs={"slow": builder}, db=path, read_env=False))

    async def main() -> None:
        async with app.router.lifespan_context(app):
            rt = app.state.runtime
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://127.0.0.1") as http:
                tid = (await http.post("/threads", json={})).json()["thread_id"]
                waiting = asyncio.create_task(http.post(
                    f"/threads/{tid}/runs/wait",
                    json={"assistant_id": "slow", "input": {"log": []}}))
                await asyncio.wait_for(entered.wait(), 10)
                (run,) = (await http.get(f"/threads/{tid}/runs")).json()
                first = await rt.store.get_run("", run["run_id"])
                assert first.status == "running" and first.fencing == 1
                before = (await http.get(f"/threads/{tid}/state")).json()
                # Another worker takes the run over once its lease ran out, as its _plan
                # would: the store's claim, then the checkpointer's fence.
                await rt.store._write(_expire(run["run_id"]))
                taken = await rt.store.claim_run("other", 60.0)
                assert taken is not None and taken.fencing == 2
                await rt.saver.aadvance_fence(run["run_id"])
                gate.set()
                for _ in range(200):  # the first worker's run ends (refused)
                    if not rt.here._tasks:
                        break
                    await asyncio.sleep(0.01)
                assert not rt.here._tasks
                after = (await http.get(f"/threads/{tid}/state")).json()
                assert after["values"] == before["values"]
                assert after["checkpoint"] == before["checkpoint"]
                row = await rt.store.get_run("", run["run_id"])
                assert row.status == "running" and row.fencing == 2
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)

    asyncio.run(main())


def _expire(run_id: str) -> Any:
    yield "UPDATE hg_runs SET lease_until = 0 WHERE run_id = :run_id", {"run_id": run_id}


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


def test_postgres_creates_claims_fences_and_starts_a_runs_wait_in_one_transaction(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from hitlgraph.checkpoint.postgres import _wire

    sent: list[tuple[int, list[str]]] = []
    trip = _wire.round_trip

    async def traced(conn: Any, statements: Any, **kwargs: Any) -> Any:
        sent.append((id(conn), [sql for sql, _ in statements]))
        return await trip(conn, statements, **kwargs)

    monkeypatch.setattr(_wire, "round_trip", traced)
    app = create_app(ServerSettings(graphs={"review": _builder()}, db=pg_url,
                                    read_env=False))

    def made_in_one() -> list[str]:
        """The statements of the transaction that inserted the run, checked to be the
        only one with its fence and its start point."""
        transactions: dict[int, list[list[str]]] = {}
        for conn, statements in sent:
            for sql in statements:
                if sql.startswith("BEGIN"):
                    transactions.setdefault(conn, []).append([])
                elif conn in transactions and sql != "COMMIT":
                    transactions[conn][-1].append(sql)
        every = [t for ts in transactions.values() for t in ts]
        (made,) = [t for t in every if any(s.startswith("INSERT INTO hg_runs") for s in t)]
        for prefix in ("INSERT INTO hitlgraph_checkpoint_fences", "UPDATE hg_runs SET start"):
            assert sum(s.startswith(prefix) for t in every for s in t) == 1, prefix
        assert (_index(made, "INSERT INTO hg_runs")
                < _index(made, "INSERT INTO hitlgraph_checkpoint_fences")
                < _index(made, "SELECT c.thread_id") < _index(made, "UPDATE hg_runs SET start"))
        return made

    async def main() -> None:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://127.0.0.1") as http:
                tid = (await http.post("/threads", json={})).json()["thread_id"]
                sent.clear()
                out = (await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "input": {"payload": "x"}})).json()
                assert out["__interrupt__"][0]["value"] == {"check": "x"}
                made_in_one()
                sent.clear()
                wrong = await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": {"ok": "maybe"}}})
                assert wrong.status_code == 422, wrong.text
                sent.clear()
                out = (await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": {"ok": True}}})).json()
                assert out["result"] == "x:True"
                made = made_in_one()
                assert _index(made, "SELECT p.thread_id") < _index(made, "SELECT 1 FROM hg_threads")
                assert sum(s.startswith("SELECT p.thread_id") for _, t in sent for s in t) == 1
                runs = (await http.get(f"/threads/{tid}/runs")).json()
                assert [r["status"] for r in runs] == ["success", "success"]

    asyncio.run(main())


def test_postgres_reads_every_page_of_open_interrupts_before_the_commit(pg_url: str) -> None:
    # A resume on a thread whose row says busy (its check needs no answer from the open
    # interrupts) and whose index holds pages of them: the creating transaction reads them
    # all before its COMMIT (it once sent the COMMIT first, then failed with a 500).
    import psycopg

    app = create_app(ServerSettings(graphs={"review": _builder()}, db=pg_url,
                                    read_env=False))

    async def main() -> tuple[int, str, list[str]]:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://127.0.0.1") as http:
                tid = (await http.post("/threads", json={})).json()["thread_id"]
                await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "input": {"payload": "x"}})
                async with await psycopg.AsyncConnection.connect(pg_url,
                                                                 autocommit=True) as conn:
                    cols = [r[0] for r in await (await conn.execute(
                        "SELECT column_name FROM information_schema.columns WHERE "
                        "table_name = 'hitlgraph_pending_interrupts' "
                        "AND table_schema = current_schema()")).fetchall()]
                    rest = ", ".join(c for c in cols if c != "interrupt_id")
                    await conn.execute(
                        f"INSERT INTO hitlgraph_pending_interrupts (interrupt_id, {rest}) "
                        f"SELECT interrupt_id || '-' || n, {rest} FROM "
                        "hitlgraph_pending_interrupts, generate_series(1, 450) n")
                    await conn.execute("UPDATE hg_threads SET status = 'busy'")
                answer = await http.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": {"ok": True}}})
                runs = (await http.get(f"/threads/{tid}/runs")).json()
                return answer.status_code, answer.text[:300], [r["status"] for r in runs]

    status, text, statuses = asyncio.run(main())
    assert status == 200, text
    assert statuses == ["success", "success"]


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
