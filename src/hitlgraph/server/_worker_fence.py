"""A claim's first transaction: advance the run's fence, read the thread's latest
checkpoint, and (on a run's first claim) record where the run starts.

The three are one transaction where the checkpointer can: the fence and the read always go
together when the checkpointer has that call (`fence_reads`); the start point joins them
when the store's writes share the checkpointer's SQLite connection (the server's
`LoopSqliteSaver` on its store's loop connection), a commit fewer per run. Otherwise the
start is recorded by the store in a transaction of its own, after the read, as before. In
either order the start is recorded before the run writes anything, and a stale token
records nothing.

A run this process claims as it creates it does all of that in the creating transaction
itself (server/_create_here.py); the worker takes the result from there (`HereRuns.started`)
instead of a transaction of its own. A claim from the queue, or a takeover after a lost
lease, goes the way above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hitlgraph.checkpoint.base import CheckpointTuple, Fence, traits_of
from hitlgraph.server._give_back import answer_counts
from hitlgraph.server._loop_saver import LoopSqliteSaver
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.store import _leases as leases
from hitlgraph.server.store.base import Claim
from hitlgraph.server.store.sqlite import SqliteStore

__all__ = ["Started", "fence", "fence_read_and_start", "shared_saver", "start_point"]

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
    whose creating transaction did all three (_create_here.py) takes them from there."""
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
