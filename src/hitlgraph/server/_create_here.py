"""A run this process claims as it creates it (runs/wait, runs/stream): its claim's first
transaction (_worker_fence.py: the fence advanced, the thread's latest checkpoint read after
it, the start point recorded) made in the creating transaction itself.

`create_run_here` runs the route's create-run with them in one transaction: on SQLite on the
loop connection the store and the checkpointer share; on PostgreSQL in one `Pipe` of a store
connection (store/_postgres_shared.py), three round trips. A resume's open interrupts (for
the approvers' check) are read in that transaction too. The worker takes the `Started` it
makes (server/_worker_inline.py) instead of a transaction of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hitlgraph.checkpoint._store.calls import StoreSaver
from hitlgraph.checkpoint._store.ops import Ops
from hitlgraph.checkpoint.base import CheckpointTuple, Fence, traits_of
from hitlgraph.review._pending import PendingInterrupt
from hitlgraph.server._loop_saver import LoopSqliteSaver, store_steps
from hitlgraph.server._runtime import Runtime
from hitlgraph.server._typed_answers import PAGES
from hitlgraph.server._worker_fence import Started, shared_saver, start_point
from hitlgraph.server._worker_inputs import latest_config
from hitlgraph.server.store import _leases as leases
from hitlgraph.server.store import _runs as runs
from hitlgraph.server.store.base import NewRun, RunRow
from hitlgraph.server.store.sqlite import SqliteStore, unavailable

__all__ = ["create_run_here"]

_T = TypeVar("_T")


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
    return saver._fence_get_call(run_id, latest_config(thread_key)).ops
