"""A claim's first transaction: advance the run's fence, read the thread's latest
checkpoint, and (on a run's first claim) record where the run starts.

The three are one transaction where the checkpointer can: the fence and the read always go
together when the checkpointer has that call (`fence_reads`); the start point joins them
when the store's writes share the checkpointer's SQLite connection (the server's
`LoopSqliteSaver` on its store's loop connection), a commit fewer per run. Otherwise the
start is recorded by the store in a transaction of its own, after the read, as before. In
either order the start is recorded before the run writes anything, and a stale token
records nothing.

A run this process claims as it creates it (server/_worker_inline.py) does all of that in
the creating transaction itself (`create_run_here`): the run's INSERT (claimed), then the
fence, the read and the start point, one commit, on SQLite's shared loop connection or, on
PostgreSQL, in one `Pipe` of a store connection (store/_postgres_shared.py); the worker
takes them from there (`HereRuns.started`) instead of a transaction of its own. A resume's
open interrupts (for the approvers' check) are read in that transaction too. A claim from
the queue, or a takeover after a lost lease, goes the way above.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from hitlgraph.checkpoint._store.calls import StoreSaver
from hitlgraph.checkpoint._store.ops import Ops
from hitlgraph.checkpoint.base import CheckpointTuple, Fence, traits_of
from hitlgraph.review._pending import PendingInterrupt
from hitlgraph.server._give_back import answer_counts
from hitlgraph.server._loop_saver import LoopSqliteSaver, store_steps
from hitlgraph.server._runtime import Runtime
from hitlgraph.server._typed_answers import PAGES
from hitlgraph.server.store import _leases as leases
from hitlgraph.server.store import _runs as runs
from hitlgraph.server.store.base import Claim, NewRun, RunRow
from hitlgraph.server.store.sqlite import SqliteStore, unavailable

__all__ = ["Started", "create_run_here", "fence", "fence_read_and_start", "shared_saver",
           "start_point"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Started:
    """What a claim's first transaction gives its worker: the fence, the thread's latest
    checkpoint read after it, and whether the start point was recorded (False: the token
    was stale, nothing recorded)."""

    fence: Fence | None
    latest: CheckpointTuple | None
    recorded: bool


def start_point(latest: CheckpointTuple | None) -> dict[str, Any]:
    """Where a run claimed now starts: the latest checkpoint, its pending writes' count and
    the answers among them."""
    if latest is None:
        return {"checkpoint_id": None, "writes": 0, "answers": answer_counts(None)}
    return {"checkpoint_id": latest.checkpoint["id"],
            "writes": len(latest.pending_writes or ()),
            "answers": answer_counts(latest.pending_writes)}


async def fence(rt: Runtime, run_id: str) -> Fence | None:
    """A new fence token of the run for this claim (None: the checkpointer has no fences,
    and checkpoint writes go unguarded)."""
    if not traits_of(rt.saver).fences:
        return None
    return Fence(run_id, await rt.saver.aadvance_fence(run_id))


async def fence_read_and_start(rt: Runtime, claim: Claim, config: dict[str, Any]
                               ) -> tuple[Fence | None, CheckpointTuple | None, bool | None]:
    """The claim's fence, the tuple `config` reads (after the fence advanced), and whether
    the start point was recorded with them: True, False (the token is stale: nothing
    recorded), None (not attempted: the caller records it when the run has none). A claim
    whose creating transaction did all three (`create_run_here`) takes them from there."""
    started = rt.here.started(claim) if rt.here is not None else None
    if started is not None:
        return started.fence, started.latest, started.recorded
    saver, store, run = rt.saver, rt.store, claim.run
    traits = traits_of(saver)
    if not traits.fence_reads:
        return await fence(rt, run.run_id), await saver.aget_tuple(config), None
    shared = shared_saver(rt)
    if run.start_point is None and traits.fences and shared is not None:
        assert isinstance(store, SqliteStore)
        token, latest, recorded = await shared.afence_read_then(
            run.run_id, config, store, lambda latest: leases.record_start(
                store.dialect, run.run_id, claim.fencing, start_point(latest)))
        return Fence(run.run_id, token), latest, recorded
    token, latest = await saver.aadvance_fence_and_get_tuple(  # type: ignore[attr-defined]
        run.run_id, config)
    return Fence(run.run_id, token), latest, None


def shared_saver(rt: Runtime) -> LoopSqliteSaver | None:
    """The server's checkpointer when it shares its store's SQLite connection (a
    transaction can hold writes of both), else None."""
    saver, store = rt.saver, rt.store
    if isinstance(saver, LoopSqliteSaver) and isinstance(store, SqliteStore) and (
            saver.shares(store)):
        return saver
    return None


async def create_run_here(rt: Runtime, new: NewRun, *, create_thread: bool,
                          thread_metadata: Mapping[str, Any], lease: tuple[str, float] | None,
                          waiting: Callable[[list[PendingInterrupt]], None] | None = None
                          ) -> tuple[RunRow | None, Started | None] | None:
    """`Store.create_run(new, ...)` in one transaction that also holds the checkpointer's
    part, where the backend can (None elsewhere: the caller creates the run as before):

    - `waiting` is first given the thread's open interrupts (read there: what the run's
      `check` judges the approvers by);
    - a run claimed as it is made (`lease`, and it was free to start) then gets its fence
      advanced, its thread's latest checkpoint read after that, and its start point
      recorded, as `fence_read_and_start` does for a claim from the queue: the `Started`
      its worker takes (None when the run was not claimed).

    SQLite: on the loop connection the store and the checkpointer share; PostgreSQL: on a
    store connection, when the checkpointer is in the same database (a `Pipe`)."""
    shared = shared_saver(rt)
    if shared is not None:
        return await _on_loop_connection(rt, shared, new, create_thread, thread_metadata,
                                         lease, waiting)
    if rt.store.shares_database(rt.saver):
        return await _piped(rt, new, create_thread, thread_metadata, lease, waiting)
    return None


async def _on_loop_connection(rt: Runtime, saver: LoopSqliteSaver, new: NewRun,
                              create_thread: bool, thread_metadata: Mapping[str, Any],
                              lease: tuple[str, float] | None,
                              waiting: Callable[[list[PendingInterrupt]], None] | None
                              ) -> tuple[RunRow | None, Started | None]:
    store = rt.store
    assert isinstance(store, SqliteStore)
    thread_key = rt.checkpoint_thread(new.tenant, new.thread_id)
    fences = traits_of(saver).fences

    def operation() -> Ops[tuple[RunRow | None, Started | None]]:
        if waiting is not None:
            waiting((yield from _pending_steps(saver, thread_key)))
        row = yield from store_steps(store, runs.create(
            store.dialect, new, create_thread, thread_metadata, lease))
        if row is None or row.status != "running" or not fences:
            return row, None
        # The fence first: a worker that held the run before can write nothing after this read.
        token, latest = yield from _fence_get_steps(saver, row.run_id, thread_key)
        recorded = yield from store_steps(store, leases.record_start(
            store.dialect, row.run_id, row.fencing, start_point(latest)))
        return row, Started(Fence(row.run_id, token), latest, recorded)

    try:
        return await saver.awrite_with(store, operation())
    except sqlite3.OperationalError as exc:  # (as the store's own writes answer it)
        found = unavailable(exc)
        if found is exc:
            raise
        raise found from exc


async def _piped(rt: Runtime, new: NewRun, create_thread: bool,
                 thread_metadata: Mapping[str, Any], lease: tuple[str, float] | None,
                 waiting: Callable[[list[PendingInterrupt]], None] | None
                 ) -> tuple[RunRow | None, Started | None]:
    """`create_run_here` on PostgreSQL: round trips (1) the thread locked and read, with
    its open interrupts; (2) the run inserted, claimed, with its fence and the thread's
    latest checkpoint; (3) its start point, with the COMMIT."""
    store, saver = rt.store, rt.saver
    assert isinstance(saver, StoreSaver)
    thread_key = rt.checkpoint_thread(new.tenant, new.thread_id)
    async with store.pipe() as pipe:
        # (the open interrupts may take a round trip a page: all read before the COMMIT)
        reading = None if waiting is None else pipe.saver(
            _given(_pending_steps(saver, thread_key), waiting))
        made = pipe.store(runs.create(store.dialect, new, create_thread, thread_metadata,
                                      lease))
        await pipe.trip()
        while not made.done and not pipe.waits_on(made).startswith("INSERT INTO hg_runs"):
            await pipe.trip()
        if made.done or not runs.claims(pipe.waits_on(made)) or not traits_of(saver).fences:
            await pipe.until(reading)
            await pipe.trip(commit=True)
            return made.result, None
        # The fence first: a worker that held the run before can write nothing after this read.
        fenced = pipe.saver(_fence_get_steps(saver, new.run_id, thread_key))
        row: RunRow = await pipe.until(made)
        token, latest = await pipe.until(fenced)
        await pipe.until(reading)
        recording = pipe.store(leases.record_start(store.dialect, row.run_id, row.fencing,
                                                   start_point(latest)))
        await pipe.trip(commit=True)
        return row, Started(Fence(row.run_id, token), latest, recording.result)


def _pending_steps(saver: StoreSaver, thread_key: str) -> Ops[list[PendingInterrupt]]:
    """The thread's open interrupts as the approvers' check reads them (PAGES pages of 100
    at most), as the checkpointer's steps."""
    found: list[PendingInterrupt] = []
    after = None
    for _ in range(PAGES):
        page = yield from saver._pending_call(
            graph_id=None, thread_id=thread_key, node=None, metadata=None, limit=100,
            after=after).ops
        found += page
        if len(page) < 100:
            break
        after = page[-1].cursor
    return found


def _given(steps: Ops[_T], to: Callable[[_T], None]) -> Ops[_T]:
    """`steps`, whose result is also given `to` as they end."""
    result = yield from steps
    to(result)
    return result


def _fence_get_steps(saver: StoreSaver, run_id: str, thread_key: str
                     ) -> Ops[tuple[int, CheckpointTuple | None]]:
    """The run's fence advanced, then the thread's latest checkpoint read (the config
    `state_config` makes), as the checkpointer's steps."""
    return saver._fence_get_call(run_id, {"configurable": {"thread_id": thread_key}}).ops
