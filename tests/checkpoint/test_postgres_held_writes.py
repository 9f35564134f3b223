"""AsyncPostgresSaver's held statements (ops.Batch.unread), on the real server: statements whose
replies an operation does not read wait for the next statement that answers, or for the COMMIT,
and go in its round trip.

What must hold: they are in place before the read that follows them, they commit with the
operation, one that fails rolls the whole operation back, a long run of them goes early
(QUEUE_MAX), and a decision's put_writes takes three round trips (its locks and guards, its
writes, the held index, log and outbox rows with the COMMIT).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hitlgraph.checkpoint._decisions import DecisionNote
from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.ops import Ops, Statement, queue
from hitlgraph.checkpoint.conformance import conf, make_checkpoint
from hitlgraph.types import Interrupt

pytestmark = pytest.mark.usefixtures("postgres_dsn")


@pytest.fixture
def conninfo(pg_conninfo: str) -> Iterator[str]:
    """The fresh schema, with a table `held_t` for the operations below."""
    import psycopg

    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE held_t (n integer PRIMARY KEY)")
    yield pg_conninfo


def _stored(conninfo: str) -> list[int]:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT n FROM held_t ORDER BY n").fetchall()]


def _insert(*numbers: int) -> list[Statement]:
    return [Statement("INSERT INTO held_t (n) VALUES (%s)", (n,)) for n in numbers]


def _run(conninfo: str, ops: Ops[Any], watch: Callable[[], None] | None = None) -> Any:
    """`ops` as one write of an AsyncPostgresSaver on a pool (autocommit connections);
    `watch` is called once the saver is set up, before the write."""
    from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async def main() -> Any:
        async with AsyncPostgresSaver.from_conn_string(conninfo, max_size=1) as saver:
            if watch is not None:
                watch()
            return await saver._arun(Call(ops, write=True))

    return asyncio.run(main())


def test_held_statements_are_in_place_before_the_next_read_and_commit(conninfo: str) -> None:
    def ops() -> Ops[int]:
        yield from queue(_insert(1, 2))
        rows = yield Statement("SELECT count(*) FROM held_t")
        yield from queue(_insert(3))
        return int(rows[0][0])

    assert _run(conninfo, ops()) == 2
    assert _stored(conninfo) == [1, 2, 3]


def test_a_failing_held_statement_rolls_the_operation_back(conninfo: str) -> None:
    import psycopg

    def ops() -> Ops[None]:
        yield from queue(_insert(1))
        yield Statement("SELECT 1")
        yield from queue(_insert(2, 2))  # the second fails, at the COMMIT's round trip

    with pytest.raises(psycopg.errors.UniqueViolation):
        _run(conninfo, ops())
    assert _stored(conninfo) == []


def test_a_long_run_of_held_statements_goes_early(conninfo: str, monkeypatch: Any) -> None:
    from hitlgraph.checkpoint.postgres import aio

    sent: list[int] = []
    pipeline = aio._pipeline

    async def counting(conn: Any, batch: Any, **kwargs: Any) -> Any:
        sent.append(len(batch.statements))
        return await pipeline(conn, batch, **kwargs)

    monkeypatch.setattr(aio, "QUEUE_MAX", 5)

    def ops() -> Ops[None]:
        for n in range(12):
            yield from queue(_insert(n))

    _run(conninfo, ops(), lambda: monkeypatch.setattr(aio, "_pipeline", counting))
    assert _stored(conninfo) == list(range(12))
    assert sent == [6, 6, 2]  # BEGIN and 5 held, 6 held, the last one and the COMMIT


def _round_trips(monkeypatch: Any) -> list[int]:
    """A list that counts round trips from now on: each `_wire.round_trip` (the async
    saver's), each statement sent outside a pipeline, and each outermost pipeline block (the
    drivers read a pipeline's replies after it ends). Counted from what is sent, not from
    waits, which depend on the machine's load."""
    from contextlib import asynccontextmanager

    from psycopg import AsyncConnection, AsyncCursor

    from hitlgraph.checkpoint.postgres import _wire

    count = [0]
    pipeline, execute, trip = AsyncConnection.pipeline, AsyncCursor.execute, _wire.round_trip

    @asynccontextmanager
    async def counted_pipeline(self: Any) -> Any:
        count[0] += self._pipeline is None
        async with pipeline(self) as inner:
            yield inner

    async def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += self.connection._pipeline is None
        return await execute(self, *args, **kwargs)

    async def counted_trip(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await trip(*args, **kwargs)

    monkeypatch.setattr(AsyncConnection, "pipeline", counted_pipeline)
    monkeypatch.setattr(AsyncCursor, "execute", counted_execute)
    monkeypatch.setattr(_wire, "round_trip", counted_trip)
    return count


def test_a_decision_takes_three_round_trips(pg_conninfo: str, monkeypatch: Any) -> None:
    from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async def main() -> tuple[int, list[Any], list[Any]]:
        async with AsyncPostgresSaver.from_conn_string(pg_conninfo, max_size=1) as saver:
            at = await saver.aput(conf("t"), make_checkpoint({"x": 1}, {"x": 1}),
                                  {"source": "loop", "step": 0}, {"x": 1})
            await saver.aput_writes(at, [("__interrupt__", [Interrupt("q", id="i1")])], "task",
                                    "n")
            note = DecisionNote("answered", (("i1", "yes"),), by="carol")
            trips = _round_trips(monkeypatch)
            await saver.aput_writes(note.on(at), [("__resume__", [["i1", "yes", True]])],
                                    "task", "n")
            made = trips[0]
            monkeypatch.undo()
            decisions = [d async for d in saver.alist_decisions(thread_id="t")]
            return made, decisions, await saver.alist_review_events()

    trips, decisions, events = asyncio.run(main())
    assert trips == 3
    assert [(d.seq, d.interrupt_id, d.answer, d.by) for d in decisions] == [
        (1, "i1", "yes", "carol")]
    assert [(e.seq, e.kind) for e in events] == [(1, "interrupt.created"), (2, "interrupt.decided")]
