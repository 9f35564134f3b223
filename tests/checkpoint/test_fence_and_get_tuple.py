"""aadvance_fence_and_get_tuple(key, config): the fence advanced, then the thread's tuple read,
in one transaction (SQLite: one BEGIN IMMEDIATE .. COMMIT; PostgreSQL: one round trip, one
fewer than aadvance_fence then aget_tuple), giving the token and the tuple the two calls give;
and ops.together, which composes the two operations."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.checkpoint._store.ops import Batch, Ops, Statement, run, together
from hitlgraph.checkpoint.base import (
    CheckpointTuple,
    Fence,
    WriteRules,
    empty_checkpoint,
    traits_of,
)
from hitlgraph.errors import FencedWriteError

_CONFIG: dict[str, Any] = {"configurable": {"thread_id": "t1"}}


async def _fill(saver: Any) -> None:
    """Two checkpoints and a pending write on thread t1 (the read must find the second)."""
    config: Any = {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}}
    for n in (1, 2):
        checkpoint = empty_checkpoint(f"1ef0000-000{n}", "2026-12-07T00:00:00+00:00")
        checkpoint["channel_values"] = {"x": n}
        checkpoint["channel_versions"] = {"x": n}
        config = await saver.aput(config, checkpoint, {"source": "loop", "step": n}, {"x": n})
    await saver.aput_writes(config, [("x", 3)], "task-1")


def _same(one: CheckpointTuple | None, other: CheckpointTuple | None) -> None:
    assert one is not None and other is not None
    assert one.checkpoint == other.checkpoint
    assert one.config == other.config and one.parent_config == other.parent_config
    assert one.metadata == other.metadata
    assert list(one.pending_writes or ()) == list(other.pending_writes or ())


async def _compare(saver: Any) -> None:
    """The combined call against the two calls, on a saver with thread t1 filled."""
    assert traits_of(saver).fence_reads
    token = await saver.aadvance_fence("run-1")
    before = await saver.aget_tuple(_CONFIG)
    both, latest = await saver.aadvance_fence_and_get_tuple("run-1", _CONFIG)
    assert both == token + 1
    _same(latest, before)
    assert latest is not None and latest.checkpoint["channel_values"] == {"x": 2}
    assert (await saver.aadvance_fence_and_get_tuple("run-1", {"configurable": {
        "thread_id": "none"}}))[1] is None
    # the fence moved: a writer holding the older token is refused
    stale = WriteRules(fence=Fence("run-1", token)).on(dict(latest.config))
    with pytest.raises(FencedWriteError):
        await saver.aput_writes(stale, [("x", 4)], "task-2")


def test_sqlite_one_transaction_same_token_and_tuple(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from hitlgraph.server._loop_saver import LoopSqliteSaver

    async def main() -> list[str]:
        path = str(tmp_path / "cp.sqlite")
        async with LoopSqliteSaver.from_conn_string(path) as saver:
            await _fill(saver)
            await _compare(saver)
            seen: list[str] = []
            saver.conn.set_trace_callback(seen.append)
            try:
                await saver.aadvance_fence_and_get_tuple("run-2", _CONFIG)
            finally:
                saver.conn.set_trace_callback(None)
            return seen

    seen = asyncio.run(main())
    words = [line.split()[0].upper() for line in seen]
    assert words.count("BEGIN") == 1 and words.count("COMMIT") == 1, seen
    assert words[0] == "BEGIN" and seen[0].upper().startswith("BEGIN IMMEDIATE"), seen
    assert words[-1] == "COMMIT", seen
    assert "INSERT" in words[1], seen  # the fence first, then the reads


def test_the_async_sqlite_saver_has_the_call_too(tmp_path: Path) -> None:
    """The call lives on the shared async shell: AsyncSqliteSaver (its own connection, off the
    loop) gives the same token and tuple as its two calls."""
    from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async def main() -> None:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "a.sqlite")) as saver:
            await _fill(saver)
            await _compare(saver)

    asyncio.run(main())


def test_postgres_one_round_trip_fewer(pg_conninfo: str, monkeypatch: Any) -> None:
    from hitlgraph.checkpoint.postgres import _wire
    from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    trips: list[list[str]] = []
    trip = _wire.round_trip

    async def counted(conn: Any, statements: Any, **kwargs: Any) -> Any:
        trips.append([sql for sql, _ in statements])
        return await trip(conn, statements, **kwargs)

    async def main() -> tuple[int, int]:
        async with AsyncPostgresSaver.from_conn_string(pg_conninfo, max_size=1) as saver:
            await _fill(saver)
            await _compare(saver)
            monkeypatch.setattr(_wire, "round_trip", counted)
            await saver.aadvance_fence("run-2")
            await saver.aget_tuple(_CONFIG)
            two = len(trips)
            del trips[:]
            await saver.aadvance_fence_and_get_tuple("run-2", _CONFIG)
            return two, len(trips)

    two, one = asyncio.run(main())
    assert (two, one) == (2, 1)
    sent = [sql.split()[0].upper() for sql in trips[0]]
    assert sent[0] == "BEGIN" and sent[-1] == "COMMIT" and sent[1] == "INSERT", trips[0]


def _one_batch(replies: list[Any]) -> Ops[int]:
    got = yield Batch((Statement("a"),), transaction=True)
    replies.append(got)
    return 7


def _reader(steps: list[Any]) -> Ops[str]:
    first = yield Statement("r1")
    second = yield Statement("r2")
    steps.append((first, second))
    return "done"


def test_together_sends_the_first_read_in_the_batch() -> None:
    sent: list[Any] = []
    replies: list[Any] = []
    steps: list[Any] = []

    def execute(step: Any) -> Any:
        sent.append(step)
        if isinstance(step, Batch):
            return [f"{one.sql}!" for one in step.statements]
        return f"{step.sql}!"

    result = run(together(_one_batch(replies), _reader(steps)), execute)
    assert result == (7, "done")
    assert sent == [Batch((Statement("a"), Statement("r1")), transaction=True), Statement("r2")]
    assert replies == [["a!"]] and steps == [("r1!", "r2!")]


def test_together_keeps_other_steps_apart() -> None:
    def batch_reader() -> Ops[Any]:
        return (yield Batch((Statement("b1"), Statement("b2"))))

    def empty() -> Ops[None]:
        yield from ()

    def execute(step: Any) -> Any:
        return [one.sql for one in step.statements]

    assert run(together(_one_batch([]), batch_reader()), execute) == (7, ["b1", "b2"])
    assert run(together(_one_batch([]), empty()), execute) == (7, None)


def test_together_refuses_an_operation_of_more_steps() -> None:
    def two_steps() -> Ops[None]:
        yield Batch((Statement("a"),))
        yield Statement("b")

    with pytest.raises(TypeError):
        run(together(two_steps(), _reader([])), lambda step: [None, None])
    with pytest.raises(TypeError):
        run(together(_reader([]), _reader([])), lambda step: None)


def test_savers_without_the_call_keep_two(tmp_path: Path) -> None:
    from hitlgraph.checkpoint.memory import InMemorySaver
    from hitlgraph.checkpoint.sqlite import SqliteSaver

    assert not traits_of(InMemorySaver()).fence_reads
    conn = sqlite3.connect(tmp_path / "s.sqlite", check_same_thread=False)
    try:
        assert not traits_of(SqliteSaver(conn)).fence_reads
    finally:
        conn.close()
