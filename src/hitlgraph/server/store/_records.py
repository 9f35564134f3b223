"""The store's records and statuses: plain values, with no behaviour and no SQL, that every
other module of the store (and the server's routes and worker) read.

Run lifecycle::

    pending --claim_run--> running --finish_run--> success | error | interrupted | timeout
       \\--cancel (before a worker claims it)--> interrupted
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ACTIVE",
    "TERMINAL",
    "CancelAction",
    "Claim",
    "Heartbeat",
    "MultitaskStrategy",
    "NewRun",
    "RunEvent",
    "RunRow",
    "RunStatus",
    "StoreUnavailable",
    "ThreadBusyError",
    "ThreadRow",
    "ThreadStatus",
]

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
"""What a new run does to its thread's active runs (see `_rules.on_busy_thread`):
- "reject": nothing; the new run is refused (ThreadBusyError).
- "interrupt": cancels them, keeping their work; the new run queues after them.
- "rollback": cancels them, undoing their work; the new run queues after them.
- "enqueue": nothing; the new run queues after them.
"""

CancelAction = Literal["interrupt", "rollback"]
"""What a cancel asks of a run's worker: stop and keep its work, or stop and undo it."""

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


class StoreUnavailable(ConnectionError):
    """The server's database did not answer in time, dropped the connection, or stayed
    locked: nothing is known to be written, and the same request may be sent again (the
    server answers 503 with Retry-After)."""


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
    check: Callable[[ThreadRow], None] | None = None
    """Called with the thread's row inside the creating transaction, before anything is
    written: what it raises undoes the transaction and reaches the caller (a route's
    refusal judged on the row the run is queued on, without reading it first)."""


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
