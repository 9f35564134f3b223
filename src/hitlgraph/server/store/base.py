"""The store: threads, runs (a queue with leases and fencing tokens), run events,
assistants and crons, per tenant; a backend supplies only the connection (`SqliteStore`,
`PostgresStore`).

Every row belongs to a tenant, and every method that reads or changes a thread or run takes
the tenant: a row of another tenant is invisible, exactly like a missing one.

Run lifecycle::

    pending --claim_run--> running --finish_run--> success | error | interrupted | timeout
       \\--cancel (before a worker claims it)--> interrupted

A claim sets `lease_until` and increments the run's `fencing` token. The worker renews the
lease with `heartbeat`, and every write it makes for the run (`append_events`, `heartbeat`,
`finish_run`) names the token: once another worker has claimed the run again (the lease ran
out), the old worker's writes are refused and it stops.

A worker records where a run started (`record_start`: the thread's latest checkpoint and how
many pending writes it had) before running its graph. A worker that claims the run again
after the first one died compares that with the thread's checkpoint now: unchanged, the run
is started over; moved on, the graph continues from its latest checkpoint.

A store shared by several processes may also push wake-ups (`Notifier`): then a run queued,
written to or cancelled in one process wakes the waiters of every other at once, instead of
at their next poll.

Each method is one operation of `_threads.py`, `_runs.py`, `_leases.py`, `_events.py`,
`_gc.py`, `_assistant_ops.py` or `_crons_ops.py`, written once over the backend's SQL
dialect; the backend runs it in one transaction (`_write`) or, for a read, in none (`_read`).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Literal,
    Protocol,
    TypeVar,
    runtime_checkable,
)

import hitlgraph.server.store._assistant_ops as assistants
import hitlgraph.server.store._crons_ops as crons
import hitlgraph.server.store._events as run_events
import hitlgraph.server.store._gc as gc
import hitlgraph.server.store._leases as leases
import hitlgraph.server.store._runs as runs
import hitlgraph.server.store._schema as schema
import hitlgraph.server.store._threads as threads
from hitlgraph.server.store._assistants import (
    AssistantChange,
    AssistantFields,
    AssistantRow,
    UnknownVersionError,
)
from hitlgraph.server.store._crons import CronChange, CronFields, CronRow
from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._records import (
    TERMINAL,
    CancelAction,
    Claim,
    Heartbeat,
    NewRun,
    RunEvent,
    RunRow,
    RunStatus,
    StoreUnavailable,
    ThreadBusyError,
    ThreadRow,
    ThreadStatus,
)

if TYPE_CHECKING:  # (needs psycopg)
    from hitlgraph.server.store._postgres_shared import Pipe

__all__ = [
    "TERMINAL",
    "AssistantChange",
    "AssistantFields",
    "AssistantRow",
    "Claim",
    "CronChange",
    "CronFields",
    "CronRow",
    "Heartbeat",
    "NewRun",
    "Notifier",
    "RunEvent",
    "RunRow",
    "RunStatus",
    "Store",
    "StoreUnavailable",
    "ThreadBusyError",
    "ThreadRow",
    "ThreadStatus",
    "UnknownVersionError",
]

_T = TypeVar("_T")


class Store(abc.ABC):
    """Threads, runs, run events and assistants of the server, per tenant. Methods are
    coroutines."""

    dialect: ClassVar[Dialect]
    """The backend's SQL."""
    _claiming: asyncio.Lock | None = None
    """Serializes this store's claims (made on first use, on the running loop)."""

    @abc.abstractmethod
    async def _read(self, op: Op[_T]) -> _T:
        """Run an operation that only reads, outside any write transaction."""

    async def _point_read(self, make: Callable[[], Op[_T]]) -> _T:
        """Run the read `make()` returns, of a few rows found by key (a run, a thread,
        whether anything is claimable): as `_read`, unless a backend has a cheaper way for
        such reads (and may make the operation again to fall back)."""
        return await self._read(make())

    @abc.abstractmethod
    async def _write(self, op: Op[_T]) -> _T:
        """Run an operation in one write transaction (rolled back when it raises)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""

    def shares_database(self, saver: object) -> bool:
        """Whether the checkpointer `saver` keeps its tables in this store's database, so
        that one transaction of `pipe` can hold the writes of both (PostgreSQL's)."""
        return False

    def pipe(self) -> AbstractAsyncContextManager[Pipe]:
        """One transaction that the store's operations and the checkpointer's join (see
        `_postgres_shared`): only where `shares_database`."""
        raise NotImplementedError(f"{type(self).__name__} has no pipe")

    async def setup(self) -> None:
        """Create or migrate the tables; safe from several processes at once."""
        if not await self._read(schema.is_current(self.dialect)):
            await self._write(schema.migrate(self.dialect))

    # -- threads -------------------------------------------------------------------------------

    async def create_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any],
                            *, if_exists: Literal["raise", "do_nothing"]) -> ThreadRow | None:
        """Insert a thread; when it exists, return it ("do_nothing") or None ("raise")."""
        return await self._write(threads.create(self.dialect, tenant, thread_id, metadata,
                                                if_exists))

    async def get_thread(self, tenant: str, thread_id: str) -> ThreadRow | None:
        """The thread, or None when missing (or another tenant's)."""
        return await self._point_read(lambda: threads.get(self.dialect, tenant, thread_id))

    async def patch_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any]
                           ) -> ThreadRow | None:
        """Merge `metadata` into the thread's; None when missing."""
        return await self._write(threads.patch(self.dialect, tenant, thread_id, metadata))

    async def delete_thread(self, tenant: str, thread_id: str, *, keep_runs: bool = False
                            ) -> bool:
        """Delete the thread, its runs and their events (`keep_runs`: only the thread row,
        for a stateless run whose client may still read its events); False when missing."""
        return await self._write(threads.delete(self.dialect, tenant, thread_id, keep_runs))

    async def list_threads(self, tenant: str, *, status: str | None = None,
                           ids: Sequence[str] | None = None, sort_by: str = "created_at",
                           sort_order: str = "desc", limit: int, offset: int = 0
                           ) -> list[ThreadRow]:
        """A page of the tenant's threads, filtered by status and ids, sorted."""
        return await self._read(threads.search(self.dialect, tenant, status, ids, sort_by,
                                                sort_order, limit, offset))

    async def save_thread_state(self, tenant: str, thread_id: str, *, values: Any,
                                interrupts: dict[str, list[dict[str, Any]]],
                                status: ThreadStatus | None, graph_id: str | None) -> None:
        """Store what the thread's latest checkpoint shows (after an update or a copy).
        `status` None keeps "busy" while runs are active, else sets it from the state."""
        await self._write(threads.save_state(self.dialect, tenant, thread_id, values=values,
                                             interrupts=interrupts, status=status,
                                             graph_id=graph_id))

    # -- runs -------------------------------------------------------------------------------

    async def create_run(self, run: NewRun, *, create_thread: bool,
                         thread_metadata: Mapping[str, Any],
                         lease: tuple[str, float] | None = None) -> RunRow | None:
        """Queue a run (status pending) on its thread, applying its multitask strategy to
        the thread's active runs, and mark the thread busy. None when the thread is missing
        and `create_thread` is False. With `lease` (worker id, seconds), a run free to
        start is claimed in the same transaction (status running, fencing token 1).

        Raises:
            ThreadBusyError: the strategy is 'reject' and the thread has an active run.
        """
        return await self._write(runs.create(self.dialect, run, create_thread,
                                             thread_metadata, lease))

    async def get_run(self, tenant: str, run_id: str, thread_id: str | None = None
                      ) -> RunRow | None:
        """The run (on `thread_id` when given), or None."""
        return await self._point_read(
            lambda: runs.get(self.dialect, tenant, run_id, thread_id))

    async def list_runs(self, tenant: str, thread_id: str, *, limit: int, offset: int,
                        status: str | None) -> list[RunRow]:
        """The thread's runs, newest first."""
        return await self._read(runs.list_of_thread(self.dialect, tenant, thread_id,
                                                    limit=limit, offset=offset, status=status))

    async def delete_run(self, tenant: str, thread_id: str, run_id: str) -> bool:
        """Delete a run and its events; False when missing."""
        return await self._write(runs.delete(self.dialect, tenant, thread_id, run_id))

    async def cancel_run(self, tenant: str, thread_id: str, run_id: str,
                         action: CancelAction) -> RunRow | None:
        """Cancel: a pending run becomes 'interrupted' at once; a running one gets
        `cancel_action` for its worker to act on. None when missing."""
        return await self._write(runs.cancel(self.dialect, tenant, thread_id, run_id, action))

    async def active_runs_of_assistant(self, tenant: str, assistant_id: str) -> list[RunRow]:
        """The pending and running runs of an assistant, oldest first."""
        return await self._read(runs.active_of_assistant(self.dialect, tenant, assistant_id))

    async def claim_run(self, worker_id: str, lease_seconds: float) -> Claim | None:
        """Take the oldest runnable run (pending, or running with an expired lease) of a
        thread that has no other running run: set it running, renew its lease, increment
        its fencing token. None when there is nothing to do (found by a read, without
        taking a write transaction)."""
        # One claim at a time per store: a worker that waited for another's claim then reads
        # that nothing is left, instead of taking a write transaction to find out.
        if self._claiming is None:
            self._claiming = asyncio.Lock()
        async with self._claiming:
            if not await self._point_read(lambda: leases.anything_claimable(self.dialect)):
                return None
            return await self._write(leases.claim(self.dialect, worker_id, lease_seconds))

    async def heartbeat(self, run_id: str, fencing: int, lease_seconds: float) -> Heartbeat:
        """Renew the lease of a run this worker holds (once a third of it has passed; before
        that, only read whether it is still held and whether a cancel was asked)."""
        beat = await self._point_read(lambda: leases.lease_check(
            self.dialect, run_id, fencing, lease_seconds))
        if beat is not None:
            return beat
        return await self._write(leases.heartbeat(self.dialect, run_id, fencing,
                                                  lease_seconds))

    async def finish_run(self, run_id: str, fencing: int, *, status: RunStatus, output: Any,
                         error: dict[str, Any] | None, thread_values: Any,
                         thread_interrupts: dict[str, list[dict[str, Any]]],
                         thread_status: ThreadStatus, delete_run: bool = False,
                         events: Sequence[tuple[str, str]] = (),
                         drop_thread: bool = False) -> ThreadStatus | None:
        """Record the run's end and its thread's new state in one transaction, after the
        run's last `events` (appended as `append_events` would); the thread stays 'busy'
        while other runs are active; `drop_thread` deletes the thread row in that commit.
        Returns the thread's status as the commit left it ('busy': its next run may be
        claimed now), or None (nothing written) when the token is stale."""
        return await self._write(leases.finish(
            self.dialect, run_id, fencing, status=status, output=output, error=error,
            thread_values=thread_values, thread_interrupts=thread_interrupts,
            thread_status=thread_status, delete_run=delete_run, events=events,
            drop_thread=drop_thread))

    async def record_start(self, run_id: str, fencing: int, start_point: dict[str, Any]
                           ) -> bool:
        """Record the run's start point unless one is recorded already (a reclaimed run
        keeps its first). False (nothing written) when the token is stale."""
        return await self._write(leases.record_start(self.dialect, run_id, fencing,
                                                     start_point))

    async def sweep_runs(self, older_than_seconds: float) -> int:
        """Delete the finished runs of stateless requests made with on_completion "delete"
        (their thread is gone already), and their events, once they ended more than
        `older_than_seconds` ago (time for a waiting client to read the result). Returns how
        many went."""
        return await self._write(gc.sweep_runs(self.dialect, older_than_seconds))

    # -- run events -------------------------------------------------------------------------

    async def append_events(self, run_id: str, fencing: int,
                            events: Sequence[tuple[str, str]]) -> bool:
        """Append (event, JSON data) pairs after the run's last seq; False when the token
        is stale."""
        return await self._write(run_events.append(self.dialect, run_id, fencing, events))

    async def read_events(self, run_id: str, after_seq: int, limit: int = 500
                          ) -> list[RunEvent]:
        """Events with seq > after_seq, in order."""
        return await self._read(run_events.read(self.dialect, run_id, after_seq, limit))

    # -- assistants ---------------------------------------------------------------------------

    async def create_assistant(self, tenant: str, assistant_id: str, fields: AssistantFields,
                               *, if_exists: Literal["raise", "do_nothing"]
                               ) -> AssistantRow | None:
        """Insert an assistant (version 1); when the id is taken, return the assistant there
        ("do_nothing") or None ("raise")."""
        return await self._write(assistants.create(self.dialect, tenant, assistant_id, fields,
                                                   if_exists))

    async def get_assistant(self, tenant: str, assistant_id: str) -> AssistantRow | None:
        """The assistant, or None when missing (or another tenant's)."""
        return await self._write(assistants.get(self.dialect, tenant, assistant_id))

    async def list_assistants(self, tenant: str) -> list[AssistantRow]:
        """The tenant's assistants, oldest first."""
        return await self._write(assistants.list_all(self.dialect, tenant))

    async def patch_assistant(self, tenant: str, assistant_id: str, change: AssistantChange
                              ) -> AssistantRow | None:
        """Apply `change` as the assistant's next version; None when missing."""
        return await self._write(assistants.patch(self.dialect, tenant, assistant_id, change))

    async def set_latest_assistant(self, tenant: str, assistant_id: str, version: int
                                   ) -> AssistantRow | None:
        """Make an earlier version the assistant again; None when missing.

        Raises:
            UnknownVersionError: the assistant has no such version.
        """
        return await self._write(assistants.set_latest(self.dialect, tenant, assistant_id,
                                                       version))

    async def list_assistant_versions(self, tenant: str, assistant_id: str
                                      ) -> list[AssistantRow] | None:
        """Every version of the assistant, newest first; None when missing."""
        return await self._write(assistants.versions(self.dialect, tenant, assistant_id))

    async def delete_assistant(self, tenant: str, assistant_id: str) -> bool:
        """Delete the assistant and its versions; False when missing."""
        return await self._write(assistants.delete(self.dialect, tenant, assistant_id))

    # -- crons --------------------------------------------------------------------------------

    async def create_cron(self, tenant: str, cron_id: str, fields: CronFields, now: datetime
                          ) -> CronRow:
        """Insert a cron, first due at its schedule's next time after `now`."""
        return await self._write(crons.create(self.dialect, tenant, cron_id, fields, now))

    async def get_cron(self, tenant: str, cron_id: str) -> CronRow | None:
        """The cron, or None when missing (or another tenant's)."""
        return await self._read(crons.get(self.dialect, tenant, cron_id))

    async def list_crons(self, tenant: str, *, assistant_id: str | None = None,
                         thread_id: str | None = None, enabled: bool | None = None
                         ) -> list[CronRow]:
        """The tenant's crons matching the filters given, newest first."""
        return await self._read(crons.list_all(self.dialect, tenant, assistant_id=assistant_id,
                                               thread_id=thread_id, enabled=enabled))

    async def patch_cron(self, tenant: str, cron_id: str, change: CronChange, now: datetime
                         ) -> CronRow | None:
        """Apply `change` (a new schedule or timezone counts from `now`); None when
        missing."""
        return await self._write(crons.patch(self.dialect, tenant, cron_id, change, now))

    async def delete_cron(self, tenant: str, cron_id: str) -> bool:
        """Delete the cron; False when missing."""
        return await self._write(crons.delete(self.dialect, tenant, cron_id))

    async def any_due_crons(self, now: datetime) -> bool:
        """Whether any tenant's cron is due at `now` (a read: no lock taken)."""
        return await self._read(crons.any_due(self.dialect, now))

    async def claim_due_crons(self, now: datetime, limit: int) -> list[CronRow]:
        """Claim up to `limit` crons of any tenant due at `now`, moving each one's
        next_run_date on: one scheduler of all the processes sharing the database gets
        each firing."""
        return await self._write(crons.claim_due(self.dialect, now, limit))



@runtime_checkable
class Notifier(Protocol):
    """A store that pushes wake-ups from other processes (PostgreSQL's LISTEN/NOTIFY)."""

    async def listen(self, wake: Callable[[str], None]) -> None:
        """Call `wake(key)` for each change any process makes, until cancelled. Keys are
        those of `Signals`: "queue" (a run was queued, or a thread's run ended), "run:<id>"
        (events appended, or the run finished), "cancel:<id>" (a cancel was requested), and
        "*" (anything may have changed: the connection was lost and is back)."""
        ...
