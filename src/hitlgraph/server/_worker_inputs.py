"""What a worker makes of a run row before and after its graph runs: the graph's stream modes,
the Command a resume body stands for, the config the graph runs with, and the error event a
failure becomes. Plain functions of the row, kept apart from the worker's loop (worker.py)."""

from __future__ import annotations

from typing import Any

from hitlgraph.errors import (
    CheckpointConflictError,
    EmptyInputError,
    FencedWriteError,
    InvalidAnswerError,
    ResumeError,
)
from hitlgraph.server._chunks import SDK_TO_GRAPH, mode_names
from hitlgraph.server._events import EVENT_MODES
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.store.base import RunRow
from hitlgraph.types import Command, Send

__all__ = ["build_command", "conflict_error", "error_json", "graph_modes", "latest_config",
           "run_config", "state_config"]

_CONFLICTS = (ResumeError, CheckpointConflictError, EmptyInputError)


def graph_modes(stream_mode: Any) -> list[str]:
    """The hitlgraph stream modes a run's `stream_mode` (one name or a list) asks for;
    "events" asks for those its events are made from (EVENT_MODES)."""
    out: list[str] = []
    for name in mode_names(stream_mode):
        for mode in EVENT_MODES if name == "events" else (SDK_TO_GRAPH.get(name, name),):
            if mode not in out:
                out.append(mode)
    return out


def build_command(data: dict[str, Any], *, by: str | None = None) -> Command[Any]:
    """A Command from its JSON body ({resume, update, goto}; Send as {node, input}); `by` is
    who answers, for the decision log: the authenticated caller, never a name from the body."""
    fields: dict[str, Any] = {"by": by}
    if "resume" in data:
        fields["resume"] = data["resume"]
    if data.get("update") is not None:
        fields["update"] = data["update"]
    goto = data.get("goto")
    if goto is not None:
        def one(item: Any) -> Any:
            return Send(item["node"], item.get("input")) if isinstance(item, dict) else item
        fields["goto"] = [one(g) for g in goto] if isinstance(goto, list) else one(goto)
    return Command(**fields)


def conflict_error(exc: BaseException) -> bool:
    """Whether `exc` means the run could not take the thread as it is (HTTP 409): a resume
    nothing waits for, or another run that moved the thread on first. (A FencedWriteError
    is not one: its worker lost the run, and says nothing.)"""
    return isinstance(exc, _CONFLICTS) and not isinstance(exc, FencedWriteError)


def error_json(exc: BaseException) -> dict[str, Any]:
    """The `error` event's data. An answer its interrupt's response_schema refuses (met here
    when the resume was queued behind a busy thread, so the route could not check it) is a
    422, as the route answers it; like a conflict, it leaves the thread waiting."""
    status = 422 if isinstance(exc, InvalidAnswerError) else (
        409 if conflict_error(exc) else 500)
    return {"error": type(exc).__name__, "message": str(exc), "status_code": status}


def run_config(rt: Runtime, run: RunRow) -> dict[str, Any]:
    """The config the graph runs with: the request's, on the tenant's checkpoint thread.
    (Its configurable holds the run's context already: the route mirrored it there.)"""
    kwargs = run.kwargs
    config: dict[str, Any] = dict(kwargs.get("config") or {})
    configurable = dict(config.get("configurable") or {})
    configurable.update({"thread_id": rt.checkpoint_thread(run.tenant, run.thread_id),
                         "run_id": run.run_id, "assistant_id": run.assistant_id,
                         "graph_id": run.graph_id, "user_id": run.tenant,
                         "langgraph_auth_user_id": run.tenant, "langgraph_auth_user": None,
                         "langgraph_auth_permissions": []})
    checkpoint = kwargs.get("checkpoint") or {}
    checkpoint_id = kwargs.get("checkpoint_id") or checkpoint.get("checkpoint_id")
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
        configurable["checkpoint_ns"] = checkpoint.get("checkpoint_ns", "")
    config["configurable"] = configurable
    config["metadata"] = {**(config.get("metadata") or {}), **run.metadata,
                          "graph_id": run.graph_id, "assistant_id": run.assistant_id,
                          "run_attempt": max(run.attempt, 1), "run_id": run.run_id,
                          "thread_id": run.thread_id}
    return config


def state_config(rt: Runtime, run: RunRow) -> dict[str, Any]:
    """The config that reads the run's thread as it stands now (its latest checkpoint)."""
    return latest_config(rt.checkpoint_thread(run.tenant, run.thread_id))


def latest_config(thread_key: str) -> dict[str, Any]:
    """The config that reads the checkpointer's thread `thread_key` as it stands now."""
    return {"configurable": {"thread_id": thread_key}}
