"""The store interface: threads, runs (a queue with leases and fencing tokens) and run events.

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

Assistants made through the API are a tenant's rows too, each with every version it had;
`_assistants.py` holds their rules and operations, which every backend runs unchanged.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from hitlgraph.server.store import _assistants as assistants
from hitlgraph.server.store._assistants import (
    AssistantChange,
    AssistantFields,
    AssistantRow,
    UnknownVersionError,
)

__all__ = [
    "AssistantChange",
    "AssistantFields",
    "AssistantRow",
    "Claim",
    "Heartbeat",
    "NewRun",
    "Notifier",
    "RunEvent",
    "RunRow",
    "RunStatus",
    "Store",
    "ThreadBusyError",
    "ThreadRow",
    "ThreadStatus",
    "UnknownVersionError",
    "queued_metadata",
    "thread_error",
]

_T = TypeVar("_T")

RunStatus = Literal["pending", "running", "success", "error", "interrupted", "timeout"]
"""A run's status:
- "pending": queued, no worker has it yet.
- "running": a worker holds its lease.
- "success": the graph returned, or paused at an interrupt or breakpoint.
- "error": the graph (or the resume it was given) failed.
- "interrupted": cancelled (POST .../cancel, or a later run's multitask strategy).
- "timeout": reserved; not set yet.
"""

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
"""A thread's status:
- "idle": nothing runs and nothing waits.
- "busy": a run is pending or running.
- "interrupted": paused at an interrupt() or a breakpoint, waiting to be resumed.
- "error": its last run failed.
"""

MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
CancelAction = Literal["interrupt", "rollback"]

TERMINAL: frozenset[str] = frozenset({"success", "error", "interrupted", "timeout"})
ACTIVE: frozenset[str] = frozenset({"pending", "running"})


class ThreadBusyError(Exception):
    """A run was refused because the thread has an active run (multitask_strategy 'reject')."""

    def __init__(self, thread_id: str, run_id: str) -> None:
        self.thread_id = thread_id
        self.run_id = run_id
        super().__init__(
            f"Thread '{thread_id}' is busy with run '{run_id}' and the request's "
            "multitask_strategy is 'reject'. Wait for it (GET .../runs/{run_id}/join), or send "
            "multitask_strategy 'enqueue' (queue after it), 'interrupt' or 'rollback'.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadRow:
    """A thread as stored. `values` and `interrupts` are JSON data saved when a run ends."""

    tenant: str
    thread_id: str
    created_at: str
    updated_at: str
    metadata: dict[str, Any]
    status: ThreadStatus
    values: Any
    interrupts: dict[str, list[dict[str, Any]]]
    graph_id: str | None
    state_updated_at: str
    """When a run or update_state last changed the thread's state (created_at before)."""
    error: dict[str, Any] | None = None
    """{"error": class name, "message": ...} of the run that ended the thread in error."""


def queued_metadata(thread: ThreadRow, run: NewRun) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the run's metadata, the thread's new metadata) once `run` is queued on `thread`, as on
    LangGraph's server: the thread records the graph and assistant it last ran; the run's
    metadata is its assistant's (created_by "system" for a served graph's own), then the
    thread's, then the client's own, and names the run's assistant whatever those say. A
    stateless run's new thread takes the run's own metadata instead of giving it its own."""
    thread_metadata = {**thread.metadata, "graph_id": run.graph_id,
                       "assistant_id": run.assistant_id}
    if run.temporary:
        return ({**run.assistant_metadata, **run.metadata, "assistant_id": run.assistant_id},
                {**thread_metadata, **run.metadata})
    return ({**run.assistant_metadata, **thread_metadata, **run.metadata,
             "assistant_id": run.assistant_id}, thread_metadata)


def thread_error(status: str, run_error: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A thread's `error` once a run ended it in `status`: the run's error class and message,
    as LangGraph's server shows them, when the thread is in error; None otherwise."""
    if status != "error" or run_error is None:
        return None
    return {"error": run_error.get("error"), "message": run_error.get("message")}


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRun:
    """What creating a run needs."""

    tenant: str
    run_id: str
    thread_id: str
    assistant_id: str
    graph_id: str
    metadata: dict[str, Any]
    kwargs: dict[str, Any]
    """JSON data: input, command, config, stream_mode, stream_subgraphs, breakpoints, ..."""
    multitask_strategy: MultitaskStrategy
    temporary: bool = False
    """A stateless run's thread: deleted once the run ends when on_completion is 'delete'."""
    on_completion: Literal["delete", "keep"] = "keep"
    assistant_metadata: dict[str, Any] = field(
        default_factory=lambda: {"created_by": "system"})
    """The metadata of the run's assistant, under the run's own (by default, that of a
    served graph's own assistant)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRow:
    """A run as stored."""

    tenant: str
    run_id: str
    thread_id: str
    assistant_id: str
    graph_id: str
    created_at: str
    updated_at: str
    status: RunStatus
    metadata: dict[str, Any]
    kwargs: dict[str, Any]
    multitask_strategy: str
    fencing: int
    attempt: int
    cancel_action: str | None
    output: Any
    """The run's result (the thread's values, with "__interrupt__" when paused)."""
    error: dict[str, Any] | None
    """{"error": type name, "message": text, "status_code": HTTP status} when it failed."""
    temporary: bool
    on_completion: str
    start_point: dict[str, Any] | None = None
    """Where the run's first worker found the thread ({"checkpoint_id": id or None,
    "writes": pending writes there}), recorded before it ran the graph; None until then."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A run a worker holds: it may write for the run only with this `fencing` token."""

    run: RunRow
    fencing: int
    worker_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEvent:
    """One stream chunk of a run: `seq` counts from 1 per run; `data` is JSON text."""

    run_id: str
    seq: int
    event: str
    data: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """What renewing a lease learned."""

    held: bool
    """False: the run was claimed again by someone else (or deleted); stop working on it."""
    cancel_action: str | None
    """Set when a cancel was requested ("interrupt" or "rollback")."""


class Store(abc.ABC):
    """Threads, runs and run events of the server, per tenant. Methods are coroutines."""

    @abc.abstractmethod
    async def setup(self) -> None:
        """Create or migrate the tables."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""

    # -- threads -----------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any],
                            *, if_exists: Literal["raise", "do_nothing"]) -> ThreadRow | None:
        """Insert a thread; when it exists, return it ("do_nothing") or None ("raise")."""

    @abc.abstractmethod
    async def get_thread(self, tenant: str, thread_id: str) -> ThreadRow | None:
        """The thread, or None when missing (or another tenant's)."""

    @abc.abstractmethod
    async def patch_thread(self, tenant: str, thread_id: str, metadata: dict[str, Any]
                           ) -> ThreadRow | None:
        """Merge `metadata` into the thread's; None when missing."""

    @abc.abstractmethod
    async def delete_thread(self, tenant: str, thread_id: str, *, keep_runs: bool = False
                            ) -> bool:
        """Delete the thread, its runs and their events (`keep_runs`: only the thread row,
        for a stateless run whose client may still read its events); False when missing."""

    @abc.abstractmethod
    async def list_threads(self, tenant: str, *, status: str | None = None,
                           ids: Sequence[str] | None = None, sort_by: str = "created_at",
                           sort_order: str = "desc") -> list[ThreadRow]:
        """The tenant's threads, filtered by status and ids, sorted."""

    @abc.abstractmethod
    async def save_thread_state(self, tenant: str, thread_id: str, *, values: Any,
                                interrupts: dict[str, list[dict[str, Any]]],
                                status: ThreadStatus | None, graph_id: str | None) -> None:
        """Store what the thread's latest checkpoint shows (after an update or a copy).
        `status` None keeps "busy" while runs are active, else sets it from the state."""

    # -- runs -------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_run(self, run: NewRun, *, create_thread: bool,
                         thread_metadata: Mapping[str, Any]) -> RunRow | None:
        """Queue a run (status pending) on its thread, applying its multitask strategy to
        the thread's active runs, and mark the thread busy. None when the thread is missing
        and `create_thread` is False.

        Raises:
            ThreadBusyError: the strategy is 'reject' and the thread has an active run.
        """

    @abc.abstractmethod
    async def get_run(self, tenant: str, run_id: str, thread_id: str | None = None
                      ) -> RunRow | None:
        """The run (on `thread_id` when given), or None."""

    @abc.abstractmethod
    async def list_runs(self, tenant: str, thread_id: str, *, limit: int, offset: int,
                        status: str | None) -> list[RunRow]:
        """The thread's runs, newest first."""

    @abc.abstractmethod
    async def delete_run(self, tenant: str, thread_id: str, run_id: str) -> bool:
        """Delete a run and its events; False when missing."""

    @abc.abstractmethod
    async def cancel_run(self, tenant: str, thread_id: str, run_id: str,
                         action: CancelAction) -> RunRow | None:
        """Cancel: a pending run becomes 'interrupted' at once; a running one gets
        `cancel_action` for its worker to act on. None when missing."""

    @abc.abstractmethod
    async def claim_run(self, worker_id: str, lease_seconds: float) -> Claim | None:
        """Take the oldest runnable run (pending, or running with an expired lease) of a
        thread that has no other running run: set it running, renew its lease, increment
        its fencing token. None when there is nothing to do."""

    @abc.abstractmethod
    async def heartbeat(self, run_id: str, fencing: int, lease_seconds: float) -> Heartbeat:
        """Renew the lease of a run this worker holds."""

    @abc.abstractmethod
    async def finish_run(self, run_id: str, fencing: int, *, status: RunStatus, output: Any,
                         error: dict[str, Any] | None, thread_values: Any,
                         thread_interrupts: dict[str, list[dict[str, Any]]],
                         thread_status: ThreadStatus, delete_run: bool = False) -> bool:
        """Record the run's end and its thread's new state in one transaction; the thread
        stays 'busy' while other runs are active. False (nothing written) when the token is
        stale."""

    @abc.abstractmethod
    async def record_start(self, run_id: str, fencing: int, start_point: dict[str, Any]
                           ) -> bool:
        """Record the run's start point unless one is recorded already (a reclaimed run
        keeps its first). False (nothing written) when the token is stale."""

    @abc.abstractmethod
    async def active_runs_of_assistant(self, tenant: str, assistant_id: str) -> list[RunRow]:
        """The pending and running runs of an assistant, oldest first."""

    # -- assistants ---------------------------------------------------------------------------

    # Written once here over `_assistant_op`, which each backend supplies.

    @abc.abstractmethod
    async def _assistant_op(self, op: assistants.Op[_T]) -> _T:
        """Run an operation of `_assistants.py` in one transaction."""

    async def create_assistant(self, tenant: str, assistant_id: str, fields: AssistantFields,
                               *, if_exists: Literal["raise", "do_nothing"]
                               ) -> AssistantRow | None:
        """Insert an assistant (version 1); when the id is taken, return the assistant there
        ("do_nothing") or None ("raise")."""
        return await self._assistant_op(assistants.create(tenant, assistant_id, fields,
                                                          if_exists))

    async def get_assistant(self, tenant: str, assistant_id: str) -> AssistantRow | None:
        """The assistant, or None when missing (or another tenant's)."""
        return await self._assistant_op(assistants.get(tenant, assistant_id))

    async def list_assistants(self, tenant: str) -> list[AssistantRow]:
        """The tenant's assistants, oldest first."""
        return await self._assistant_op(assistants.list_all(tenant))

    async def patch_assistant(self, tenant: str, assistant_id: str, change: AssistantChange
                              ) -> AssistantRow | None:
        """Apply `change` as the assistant's next version; None when missing."""
        return await self._assistant_op(assistants.patch(tenant, assistant_id, change))

    async def set_latest_assistant(self, tenant: str, assistant_id: str, version: int
                                   ) -> AssistantRow | None:
        """Make an earlier version the assistant again; None when missing.

        Raises:
            UnknownVersionError: the assistant has no such version.
        """
        return await self._assistant_op(assistants.set_latest(tenant, assistant_id, version))

    async def list_assistant_versions(self, tenant: str, assistant_id: str
                                      ) -> list[AssistantRow] | None:
        """Every version of the assistant, newest first; None when missing."""
        return await self._assistant_op(assistants.versions(tenant, assistant_id))

    async def delete_assistant(self, tenant: str, assistant_id: str) -> bool:
        """Delete the assistant and its versions; False when missing."""
        return await self._assistant_op(assistants.delete(tenant, assistant_id))

    # -- run events -------------------------------------------------------------------------

    @abc.abstractmethod
    async def append_events(self, run_id: str, fencing: int,
                            events: Sequence[tuple[str, str]]) -> bool:
        """Append (event, JSON data) pairs after the run's last seq; False when the token
        is stale."""

    @abc.abstractmethod
    async def read_events(self, run_id: str, after_seq: int, limit: int = 500
                          ) -> list[RunEvent]:
        """Events with seq > after_seq, in order."""

    @abc.abstractmethod
    async def sweep_runs(self, older_than_seconds: float) -> int:
        """Delete the finished runs of stateless requests made with on_completion "delete"
        (their thread is gone already), and their events, once they ended more than
        `older_than_seconds` ago (time for a waiting client to read the result). Returns how
        many went."""


@runtime_checkable
class Notifier(Protocol):
    """A store that pushes wake-ups from other processes (PostgreSQL's LISTEN/NOTIFY)."""

    async def listen(self, wake: Callable[[str], None]) -> None:
        """Call `wake(key)` for each change any process makes, until cancelled. Keys are
        those of `Signals`: "queue" (a run was queued, or a thread's run ended), "run:<id>"
        (events appended, or the run finished), "cancel:<id>" (a cancel was requested), and
        "*" (anything may have changed: the connection was lost and is back)."""
        ...
