"""One PostgreSQL transaction holding the store's operations and the checkpointer's.

A run a server process claims as it creates it (server/_create_here.create_run_here) makes
three writes in a row: the store's (the run, claimed), the checkpointer's (the run's fence,
then the thread's latest checkpoint read after it) and the store's again (the run's start
point). Each in its own transaction, on its own pooled connection, they took four round
trips (five with a resume's read of the thread's open interrupts). In one `Pipe` they are
one transaction on one store connection, and whatever does not need another's rows travels
in the same round trip: the open interrupts with the thread's lock and read, the run's
INSERT with the fence and the read, the start point with the COMMIT (three in all).

Every round trip goes through `checkpoint.postgres._wire` in binary format (the
checkpointer's rows are bytea; the store's columns load to the same Python values either
way). As in `_postgres_pipeline`, a store statement whose rows nobody reads waits in the
pipe for the next one that answers; an error in it shows at that round trip, inside the
transaction, which then rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from psycopg import AsyncConnection

from hitlgraph.checkpoint._store import ops
from hitlgraph.checkpoint.postgres import _wire
from hitlgraph.server._timeouts import within
from hitlgraph.server.store._last import Last
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._postgres_pipeline import answers_nothing
from hitlgraph.server.store._postgres_sql import POSTGRES

__all__ = ["Part", "Pipe"]

_TRIPS_MAX = 64
"""Round trips one part may take (its reads are bounded: this only stops a runaway loop)."""

_Reply = list[Any]
"""The replies of one part's statements in a round trip, in order."""


class Part:
    """One operation in a `Pipe`: `done` once it returned its `result`."""

    __slots__ = ("asks", "done", "fold", "gen", "result", "store", "waits")

    def __init__(self, gen: Generator[Any, Any, Any], *, store: bool) -> None:
        self.gen = gen
        self.store = store
        self.done = False
        self.result: Any = None
        self.waits: list[int] | None = None
        """Where its statements that answer are in the round trip being queued."""
        self.fold: Callable[[_Reply], Any] = _first
        """What it is sent, of those statements' replies."""
        self.asks = ""
        """The store statement it waits on (its text with `:name` parameters)."""


class Pipe:
    """One transaction on `conn` (an idle autocommit connection) that operations join
    (`store`, `saver`) and round trips drive (`trip`); BEGIN goes with the first."""

    def __init__(self, conn: AsyncConnection[Any], limit: float | None) -> None:
        self.conn = conn
        self.limit = limit
        """Seconds the first round trip may take (None: no bound)."""
        self.queued: list[tuple[str, Any]] = [("BEGIN", None)]
        self.parts: list[Part] = []

    def store(self, op: Op[Any]) -> Part:
        """Join the store's operation `op` (its statements queued up to the first whose
        rows it reads; its `Last` is one like any other: the COMMIT is the pipe's)."""
        return self._join(Part(op, store=True))

    def saver(self, operation: ops.Ops[Any]) -> Part:
        """Join the checkpointer's `operation` (as `checkpoint.postgres.aio.drive` runs it
        inside a transaction)."""
        return self._join(Part(operation, store=False))

    def _join(self, part: Part) -> Part:
        self.parts.append(part)
        self._advance(part, None, first=True)
        return part

    def _advance(self, part: Part, reply: Any, *, first: bool = False) -> None:
        """Drive `part` on with `reply` until it waits for a round trip, or ends."""
        try:
            step = next(part.gen) if first else part.gen.send(reply)
            while True:
                answered = self._queue_store(part, step) if part.store else (
                    self._queue_saver(part, step))
                if not answered:
                    return
                step = part.gen.send(answered[0])
        except StopIteration as stop:
            part.done, part.result, part.waits = True, stop.value, None

    def _queue_store(self, part: Part, step: Any) -> tuple[Any] | None:
        """Queue a store statement; its reply now when nobody reads its rows."""
        sql, params = step
        self.queued.append((POSTGRES.render(sql), params))
        if answers_nothing(sql) and not isinstance(step, Last):
            return ([],)
        part.waits, part.fold, part.asks = [len(self.queued) - 1], _rows, sql
        return None

    def _queue_saver(self, part: Part, step: ops.Step) -> tuple[Any] | None:
        """Queue a checkpointer step; its reply now when it reads none (an unread batch)."""
        if isinstance(step, ops.Statement):
            statements: tuple[ops.Statement, ...] = (step,)
            part.fold = _first
        elif isinstance(step, ops.Batch):
            statements = step.statements
            part.fold = list
        else:
            statements = tuple(ops.Statement(step.sql, row) for row in step.rows)
            part.fold = _count
        at = len(self.queued)
        self.queued.extend((one.sql, one.params or None) for one in statements)
        if isinstance(step, ops.Batch) and step.unread:
            return (None,)
        part.waits = list(range(at, len(self.queued)))
        return None

    async def trip(self, *, commit: bool = False) -> None:
        """Send what is queued (and the COMMIT) in one round trip, and drive each part
        that waited for it on, in the order they joined."""
        sent = [*self.queued, ("COMMIT", None)] if commit else self.queued
        self.queued = []
        waiting = [(part, part.waits) for part in self.parts if part.waits is not None]
        for part, _ in waiting:
            part.waits = None
        replies_of = _wire.round_trip(self.conn, sent, binary=True)
        limit, self.limit = self.limit, None
        replies = await (replies_of if limit is None else within(replies_of, limit))
        for part, waits in waiting:
            self._advance(part, part.fold([replies[i] for i in waits]))
        if commit and (self.queued or any(not part.done for part in self.parts)):
            raise RuntimeError("an operation went on after its transaction committed")

    async def until(self, part: Part | None) -> Any:
        """`part`'s result, after as many round trips as it needs (None: nothing)."""
        if part is None:
            return None
        for _ in range(_TRIPS_MAX):
            if part.done:
                return part.result
            await self.trip()
        raise RuntimeError(f"an operation in a pipe took more than {_TRIPS_MAX} round trips")

    def waits_on(self, part: Part) -> str:
        """The store statement `part` waits on now ('' for none)."""
        return part.asks if part.waits is not None and part.store else ""


def _first(replies: _Reply) -> Any:
    return replies[0]


def _rows(replies: _Reply) -> Any:
    return replies[0] if isinstance(replies[0], list) else []


def _count(replies: _Reply) -> int:
    return sum(max(count, 0) for count in replies if isinstance(count, int))
