"""The store's business rules, decided here once for every backend: what a new run does to
its thread's active runs (the multitask strategy), the metadata a queued run and its thread
get, and the status and error a thread takes once its state is saved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hitlgraph.server.store._records import (
    CancelAction,
    NewRun,
    ThreadBusyError,
    ThreadRow,
    ThreadStatus,
)

__all__ = ["on_busy_thread", "queued_metadata", "state_status", "thread_error"]


def on_busy_thread(run: NewRun, active: Sequence[tuple[str, str]]) -> CancelAction | None:
    """The cancel that queuing `run` applies to its thread's `active` runs ((run_id, status),
    oldest first): 'interrupt' or 'rollback' as its strategy says; None for 'enqueue', and
    when nothing is active.

    Raises:
        ThreadBusyError: the strategy is 'reject' and a run is active.
    """
    if not active:
        return None
    if run.multitask_strategy == "reject":
        raise ThreadBusyError(run.thread_id, active[0][0])
    if run.multitask_strategy in ("interrupt", "rollback"):
        return run.multitask_strategy
    return None


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


def state_status(interrupts: Mapping[str, Any]) -> ThreadStatus:
    """A thread's status from its saved state alone: waiting at interrupts, or idle. (While
    runs are active it stays 'busy': the statements that save a state check that.)"""
    return "interrupted" if interrupts else "idle"


def thread_error(status: str, run_error: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A thread's `error` once a run ended it in `status`: the run's error class and message,
    as LangGraph's server shows them, when the thread is in error; None otherwise."""
    if status != "error" or run_error is None:
        return None
    return {"error": run_error.get("error"), "message": run_error.get("message")}
