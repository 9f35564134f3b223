"""The store's operations, called directly, on SQLite and on PostgreSQL: each is written once
over a dialect, so both backends must give the same answers (multitask strategies, cancels,
thread search, events, claims, the sweep).

The PostgreSQL cases use a fresh schema of HITLGRAPH_TEST_POSTGRES_DSN's database (see
conftest.py's `pg_url`); without it they skip, and under CI=true they fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.server.store import NewRun, Store, ThreadBusyError
from hitlgraph.server.store._ops import drive
from hitlgraph.server.store._rules import on_busy_thread
from hitlgraph.server.store._sqlite_sql import SQLITE
from hitlgraph.server.store._threads import search

Scenario = Callable[[Store], Awaitable[None]]


@pytest.fixture(params=["sqlite", "postgres"])
def run_on(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Scenario], None]:
    """run_on(scenario): await scenario(store) on a freshly set up store of the backend."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[Store]:
        if request.param == "postgres":
            from hitlgraph.server.store.postgres import PostgresStore

            store: Store = PostgresStore.from_conn_string(request.getfixturevalue("pg_url"))
        else:
            from hitlgraph.server.store.sqlite import SqliteStore

            store = SqliteStore(str(tmp_path / "store.sqlite"))
        try:
            await store.setup()
            yield store
        finally:
            await store.close()

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            async with opened() as store:
                await scenario(store)
        asyncio.run(main())

    return run


def _run(run_id: str, thread_id: str = "t", strategy: Any = "enqueue", **more: Any) -> NewRun:
    return NewRun(tenant="", run_id=run_id, thread_id=thread_id, assistant_id="a",
                  graph_id="g", metadata={}, kwargs={}, multitask_strategy=strategy, **more)


async def _queue(store: Store, *runs: NewRun) -> None:
    for run in runs:
        assert await store.create_run(run, create_thread=True, thread_metadata={}) is not None


async def _finish(store: Store, run_id: str, fencing: int, **more: Any) -> str | None:
    return await store.finish_run(run_id, fencing, status="success", output={"x": 1},
                                  error=None, thread_values={"x": 1}, thread_interrupts={},
                                  thread_status="idle", **more)


def test_setup_twice_finds_nothing_to_do(run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store) -> None:
        await store.setup()
        assert await store.list_threads("", limit=100) == []

    run_on(scenario)


def test_reject_refuses_a_busy_thread_and_writes_nothing(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store) -> None:
        await _queue(store, _run("r1"))
        with pytest.raises(ThreadBusyError, match="'r1'"):
            await store.create_run(_run("r2", strategy="reject"), create_thread=False,
                                   thread_metadata={})
        assert await store.get_run("", "r2") is None
        assert [r.run_id for r in await store.list_runs("", "t", limit=10, offset=0,
                                                        status=None)] == ["r1"]

    run_on(scenario)


def test_interrupt_ends_a_pending_run_and_marks_a_running_one(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store) -> None:
        await _queue(store, _run("r1"), _run("r2"))
        claim = await store.claim_run("w", 30)
        assert claim is not None and claim.run.run_id == "r1"
        await _queue(store, _run("r3", strategy="interrupt"))
        running, pending = await store.get_run("", "r1"), await store.get_run("", "r2")
        assert running is not None and running.status == "running"
        assert running.cancel_action == "interrupt"
        assert pending is not None and pending.status == "interrupted"
        assert (await store.heartbeat("r1", claim.fencing, 30)).cancel_action == "interrupt"
        assert await _finish(store, "r1", claim.fencing)
        thread = await store.get_thread("", "t")
        assert thread is not None and thread.status == "busy"  # r3 is still queued
        nxt = await store.claim_run("w", 30)
        assert nxt is not None and nxt.run.run_id == "r3"

    run_on(scenario)


def test_cancelling_the_last_pending_run_settles_its_thread(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store) -> None:
        await _queue(store, _run("r1"))
        row = await store.cancel_run("", "t", "r1", "rollback")
        assert row is not None and row.status == "interrupted"
        assert row.cancel_action == "rollback"
        thread = await store.get_thread("", "t")
        assert thread is not None and thread.status == "idle"
        assert await store.cancel_run("", "elsewhere", "r1", "interrupt") is None
        assert await store.claim_run("w", 30) is None

    run_on(scenario)


def test_thread_search_filters_by_ids_and_status_and_sorts(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store) -> None:
        for name in ("c", "a", "b"):
            await store.create_thread("", name, {"n": name}, if_exists="raise")
        await _queue(store, _run("r1", thread_id="b"))
        found = await store.list_threads("", ids=["a", "b", "zz"], sort_by="thread_id",
                                         sort_order="asc", limit=100)
        assert [t.thread_id for t in found] == ["a", "b"]
        assert await store.list_threads("", ids=[], limit=100) == []
        busy = await store.list_threads("", status="busy", limit=100)
        assert [t.thread_id for t in busy] == ["b"]
        newest = await store.list_threads("", sort_by="created_at", sort_order="desc",
                                         limit=100)
        assert [t.thread_id for t in newest] == ["b", "a", "c"]
        assert await store.list_threads("other", limit=100) == []

    run_on(scenario)


def test_events_number_on_across_batches_and_a_stale_token_writes_none(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store) -> None:
        await _queue(store, _run("r1"))
        claim = await store.claim_run("w", 30)
        assert claim is not None
        assert await store.append_events("r1", claim.fencing, [("values", '{"a":"é"}'),
                                                              ("updates", "[1]")])
        assert await store.append_events("r1", claim.fencing, [])
        assert await store.append_events("r1", claim.fencing, [("end", "null")])
        assert not await store.append_events("r1", claim.fencing + 1, [("x", "0")])
        events = await store.read_events("r1", 0)
        assert [(e.seq, e.event, e.data) for e in events] == [
            (1, "values", '{"a":"é"}'), (2, "updates", "[1]"), (3, "end", "null")]
        assert [e.seq for e in await store.read_events("r1", 1, limit=1)] == [2]
        batch = [("messages", f'{{"i":{i}}}') for i in range(300)]
        assert await store.append_events("r1", claim.fencing, batch)
        tail = await store.read_events("r1", 3, limit=1000)
        assert [(e.seq, e.event, e.data) for e in tail] == [
            (4 + i, event, data) for i, (event, data) in enumerate(batch)]

    run_on(scenario)


def test_sweep_takes_only_finished_stateless_runs_made_to_be_deleted(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store) -> None:
        await _queue(store, _run("gone", thread_id="t1", temporary=True,
                                 on_completion="delete"),
                     _run("kept", thread_id="t2", temporary=True),
                     _run("active", thread_id="t3", temporary=True, on_completion="delete"))
        for _ in range(2):
            claim = await store.claim_run("w", 30)
            assert claim is not None
            await store.append_events(claim.run.run_id, claim.fencing, [("values", "{}")])
            assert await _finish(store, claim.run.run_id, claim.fencing)
        assert await store.sweep_runs(3600) == 0
        assert await store.sweep_runs(0) == 1
        assert await store.get_run("", "gone") is None
        assert await store.read_events("gone", 0) == []
        assert await store.get_run("", "kept") is not None
        assert await store.get_run("", "active") is not None

    run_on(scenario)


def test_finishing_with_delete_run_leaves_the_thread_state(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store) -> None:
        await _queue(store, _run("r1"))
        claim = await store.claim_run("w", 30)
        assert claim is not None
        assert await store.record_start("r1", claim.fencing, {"checkpoint_id": None})
        assert await _finish(store, "r1", claim.fencing, delete_run=True)
        assert await store.get_run("", "r1") is None
        thread = await store.get_thread("", "t")
        assert thread is not None and thread.status == "idle" and thread.values == {"x": 1}

    run_on(scenario)


def test_the_multitask_rule_is_decided_once_for_every_backend() -> None:
    active = [("r1", "running")]
    assert on_busy_thread(_run("n", strategy="enqueue"), active) is None
    assert on_busy_thread(_run("n", strategy="rollback"), active) == "rollback"
    assert on_busy_thread(_run("n", strategy="reject"), []) is None
    with pytest.raises(ThreadBusyError, match="'r1'"):
        on_busy_thread(_run("n", strategy="reject"), active)


def test_an_operation_is_a_generator_of_statements_a_test_can_answer() -> None:
    seen: list[tuple[str, Any]] = []

    def execute(sql: str, params: Any) -> list[tuple[Any, ...]]:
        seen.append((sql, dict(params)))
        return []

    assert drive(search(SQLITE, "x", "idle", ["a"], "nope", "asc", 10, 20), SQLITE,
                 execute) == []
    ((sql, params),) = seen
    assert "json_each(:ids)" in sql and sql.endswith(
        "ORDER BY created_at ASC, rowid ASC LIMIT :limit OFFSET :offset")
    assert (params["limit"], params["offset"]) == (10, 20)
    assert params["ids"] == '["a"]' and params["status"] == "idle"
