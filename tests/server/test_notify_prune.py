"""The notification tables stay bounded: the server's outbox is pruned below its slowest "run"
cursor, the review outbox below its slowest "review" cursor and the metrics feed but only
past the grace time, each webhook's delivery log is trimmed to its newest rows, and a server
started without a webhook deletes the cursors of the webhooks it no longer has (so the
run.finished trigger stops writing). On a SQLite file and on PostgreSQL (a fresh schema)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypedDict

import httpx
import pytest
from _harness import RunningServer
from _notify_receiver import SECRET, NotifyReceiver, notify_receiver

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.server import _notify_prune as prune
from hitlgraph.server import _notify_schema as schema
from hitlgraph.server._notify_store import Delivery, NotifyTables, _prune_events, _trim_deliveries
from hitlgraph.server._webhooks import ALLOW_HOSTS_ENV
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store.base import Store
from hitlgraph.server.store.postgres import PostgresStore
from hitlgraph.server.store.sqlite import SqliteStore
from hitlgraph.types import interrupt

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _store(database: str) -> Store:
    if database.startswith("postgresql"):
        return PostgresStore.from_conn_string(database)
    return SqliteStore(database)


@asynccontextmanager
async def _tables(database: str) -> AsyncIterator[NotifyTables]:
    store = _store(database)
    try:
        await store.setup()
        tables = NotifyTables(store)
        await tables.setup()
        yield tables
    finally:
        await store.close()


def _on(database: str, body: Callable[[NotifyTables], Awaitable[None]]) -> None:
    async def go() -> None:
        async with _tables(database) as tables:
            await body(tables)
    asyncio.run(go())


def _add_events(count: int) -> Op[None]:
    for i in range(count):
        yield ("INSERT INTO hg_notify_events (kind, at, tenant, thread_id, graph_id, data) "
               "VALUES ('run.finished', :at, '', :thread, 'g', '{}')",
               {"at": "2026-01-01T00:00:00+00:00", "thread": f"t{i}"})


async def _move(tables: NotifyTables, webhook: str, source: str, seq: int) -> None:
    assert await tables.lease(webhook, source, "test", 10) is not None
    assert await tables.advance(webhook, source, "test", seq)
    await tables.release(webhook, source, "test")


@BOTH
def test_the_server_outbox_is_pruned_below_the_slowest_run_cursor(database: str) -> None:
    async def body(tables: NotifyTables) -> None:
        for hook in ("fast", "slow"):
            await tables.place(hook, "run", 0)
        await tables.store._write(_add_events(7))
        await _move(tables, "fast", "run", 6)
        await _move(tables, "slow", "run", 3)
        pruner = prune.Pruner(tables, None, (), batch=2)
        assert (await pruner.prune(None)).run_events == 3  # in two DELETEs of at most 2
        assert [e.seq for e in await tables.events(0, 100)] == [4, 5, 6, 7]
        assert await tables.forget(frozenset(), 100) == 2
        assert await tables.min_cursor("run") is None
        assert (await pruner.prune(None)).run_events == 0  # no cursor: nothing goes
        assert [e.seq for e in await tables.events(0, 100)] == [4, 5, 6, 7]
    _on(database, body)


@BOTH
def test_forgetting_removed_webhooks_is_idempotent_across_processes(database: str) -> None:
    keep = frozenset({("desk", "review"), ("runs", "run")})

    async def body(tables: NotifyTables) -> None:
        for hook, source in (("desk", "review"), ("desk", "run"), ("gone", "review"),
                             ("gone", "run"), ("runs", "run")):
            await tables.place(hook, source, 0)
        async with _tables(database) as other:  # a second process, the same config
            await asyncio.gather(tables.forget(keep, 2), other.forget(keep, 2))
        for _ in range(3):  # what a start does: passes until one deletes nothing
            if not await tables.forget(keep, 2):
                break
        rows = await tables.store._read(_cursors())
        assert set(rows) == keep
    _on(database, body)


@BOTH
def test_a_database_of_the_previous_version_gains_the_trim_index(
        database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables made by the steps before the delivery log's index (0 and 1) are migrated."""
    async def body(tables: NotifyTables) -> None:
        await tables.log(_delivery("old", 1))
        monkeypatch.undo()  # this version's steps again
        await tables.setup()
        ((top,),) = await tables.store._read(_versions())
        assert top == 2
        await tables.log(_delivery("old", 2))
        assert (await prune.Pruner(tables, None, ("old",), keep=1).prune(None)).deliveries == 1
        assert [d.seq for d in await tables.deliveries("old")] == [2]
    for steps in ("_SQLITE", "_POSTGRES"):
        monkeypatch.setattr(schema, steps, getattr(schema, steps)[:2])
    _on(database, body)


def _versions() -> Op[list[Any]]:
    rows = yield "SELECT MAX(v) FROM hg_notify_migrations", {}
    return list(rows)


def _cursors() -> Op[list[tuple[str, str]]]:
    rows = yield "SELECT webhook, source FROM hg_notify_cursors", {}
    return [(r[0], r[1]) for r in rows]


def _delivery(webhook: str, seq: int) -> Delivery:
    return Delivery(webhook=webhook, source="run", seq=seq, kind="run.finished", attempts=1,
                    outcome="delivered", status_code=200, error=None)


@BOTH
def test_each_webhook_keeps_its_newest_deliveries(database: str) -> None:
    async def body(tables: NotifyTables) -> None:
        for seq in range(1, 26):
            await tables.log(_delivery("busy", seq))
            if seq % 5 == 0:
                await tables.log(_delivery("quiet", seq))
        pruner = prune.Pruner(tables, None, ("busy", "quiet"), keep=10, batch=4)
        assert (await pruner.prune(None)).deliveries == 15
        assert [d.seq for d in await tables.deliveries("busy")] == list(range(16, 26))
        assert [d.seq for d in await tables.deliveries("quiet")] == [5, 10, 15, 20, 25]
        assert (await pruner.prune(None)).deliveries == 0
    _on(database, body)


def _plans(path: str, op: Op[int]) -> list[str]:
    """Run `op` on the SQLite file, and give SQLite's plan of each of its statements."""
    plans: list[str] = []
    with sqlite3.connect(path) as conn:
        try:
            sql, params = next(op)
            while True:
                plans += [str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql,
                                                              params)]
                sql, params = op.send(conn.execute(sql, params).fetchall())
        except StopIteration as done:
            assert done.value > 0  # the op went as far as its DELETE
    return plans


def test_the_deletes_read_through_indexes(tmp_path: Path) -> None:
    path = str(tmp_path / "plan.sqlite")

    async def body(tables: NotifyTables) -> None:
        await tables.store._write(_add_events(30))
        for seq in range(30):
            await tables.log(_delivery("busy", seq))
    _on(path, body)
    trim = [s for s in _plans(path, _trim_deliveries("busy", 10, 4)) if "hg_notify_" in s]
    assert len(trim) == 3 and all(s.startswith("SEARCH") for s in trim), trim
    assert all("hg_notify_deliveries_by_webhook" in s for s in trim), trim
    events = [s for s in _plans(path, _prune_events(20, 4)) if "hg_notify_" in s]
    assert len(events) == 2 and all(s.startswith("SEARCH") for s in events), events


class Asked(TypedDict, total=False):
    answer: str


def _ask(state: Asked) -> Asked:
    return {"answer": str(interrupt("ok?"))}


@asynccontextmanager
async def _saver(database: str) -> AsyncIterator[BaseCheckpointSaver]:
    if database.startswith("postgresql"):
        from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        async with AsyncPostgresSaver.from_conn_string(database) as saver:
            yield saver
    else:
        from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
        async with AsyncSqliteSaver.from_conn_string(database) as saver:
            yield saver


@BOTH
def test_the_review_outbox_is_pruned_past_the_grace_time_below_cursor_and_feed(
        database: str) -> None:
    async def body(tables: NotifyTables) -> None:
        builder = StateGraph(Asked)
        builder.add_node("ask", _ask)
        builder.add_edge(START, "ask")
        builder.add_edge("ask", END)
        async with _saver(database) as saver:
            graph = builder.compile(checkpointer=saver)
            for thread in ("t1", "t2", "t3"):
                await graph.ainvoke({}, {"configurable": {"thread_id": thread}})
            outbox: Any = saver
            seqs = [e.seq for e in await outbox.alist_review_events()]
            assert len(seqs) == 3
            await tables.place("desk", "review", 0)
            await _move(tables, "desk", "review", seqs[1])
            fresh = prune.Pruner(tables, outbox, ())
            assert (await fresh.prune(None)).review_events == 0  # all within the hour
            old = prune.Pruner(tables, outbox, (), grace=0)
            assert (await old.prune(seqs[0])).review_events == 1  # the feed read one
            assert (await old.prune(None)).review_events == 1  # the cursor passed two
            assert [e.seq for e in await outbox.alist_review_events()] == seqs[2:]
    _on(database, body)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifyReceiver]:
    monkeypatch.setenv(ALLOW_HOSTS_ENV, "127.0.0.1")
    with notify_receiver() as got:
        yield got


def _events_of(db: str) -> list[int]:
    async def read() -> list[int]:
        async with _tables(db) as tables:
            return [e.seq for e in await tables.events(0, 100)]
    return asyncio.run(read())


def _run(server: RunningServer) -> str:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        run = http.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "steps", "input": {"log": []}})
        assert run.status_code == 200, run.text
        return str(thread)


@BOTH
def test_a_server_prunes_sent_run_events_and_forgets_removed_webhooks(
        start_server: Callable[..., RunningServer], receiver: NotifyReceiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prune, "PRUNE_SECONDS", 0.0)
    hook = {"url": receiver.url, "secret": SECRET, "name": "runs", "events": ["run.finished"]}
    first = start_server(webhooks=[hook], notify_seconds=0.1)
    _run(first)
    receiver.wait_for("run.finished")
    db = str(first.db)
    for _ in range(300):  # bounded: 15 s, until a prune after the delivery
        if not _events_of(db):
            break
        time.sleep(0.05)
    assert _events_of(db) == []
    second = start_server(db=first.db)  # no webhook: the trigger stops writing
    _run(second)
    time.sleep(0.5)
    assert _events_of(db) == []
    assert [g.kind for g in receiver.delivered()] == ["run.finished"]
