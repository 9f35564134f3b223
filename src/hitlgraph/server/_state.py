"""Threads, runs and state snapshots as the LangGraph server's JSON shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hitlgraph.server._json import interrupt_json, to_jsonable
from hitlgraph.server.store.base import RunRow, ThreadRow
from hitlgraph.types import StateSnapshot

__all__ = [
    "checkpoint_json",
    "debug_chunk",
    "interrupts_by_task",
    "run_json",
    "snapshot_json",
    "thread_json",
    "values_with_interrupts",
]

_UNSET: Any = object()


def checkpoint_json(config: Mapping[str, Any] | None, thread_id: str) -> dict[str, Any] | None:
    """A checkpoint config as {thread_id, checkpoint_ns, checkpoint_id}, with the public
    thread id (the checkpointer's may carry the tenant)."""
    if not config:
        return None
    conf = config.get("configurable", {})
    return {"thread_id": thread_id, "checkpoint_ns": conf.get("checkpoint_ns", ""),
            "checkpoint_id": conf.get("checkpoint_id")}


def debug_chunk(chunk: Any, thread_id: str) -> Any:
    """A "debug" chunk as LangGraph's server streams it: a checkpoint's payload also names
    its checkpoint and parent as {thread_id, checkpoint_ns, checkpoint_id}."""
    if not isinstance(chunk, Mapping) or chunk.get("type") != "checkpoint":
        return chunk
    payload = dict(chunk["payload"])
    payload["checkpoint"] = checkpoint_json(payload.get("config"), thread_id)
    payload["parent_checkpoint"] = checkpoint_json(payload.get("parent_config"), thread_id)
    return {**chunk, "payload": payload}


def _task_json(task: Any, thread_id: str) -> dict[str, Any]:
    state = task.state
    nested: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    if isinstance(state, StateSnapshot):
        nested = snapshot_json(state, thread_id)
    elif isinstance(state, Mapping):
        checkpoint = checkpoint_json(state, thread_id)
    error = task.error
    return {
        "id": task.id, "name": task.name, "path": to_jsonable(task.path),
        "error": None if error is None else (error if isinstance(error, str) else repr(error)),
        "interrupts": [interrupt_json(i) for i in task.interrupts],
        "checkpoint": checkpoint, "state": nested, "result": to_jsonable(task.result),
    }


def _metadata_json(metadata: Mapping[str, Any] | None, thread_id: str) -> Any:
    """Checkpoint metadata with the public thread id, as LangGraph's server stores it."""
    if metadata is None:
        return None
    return {**to_jsonable(metadata), "thread_id": thread_id}


def snapshot_json(snap: StateSnapshot, thread_id: str) -> dict[str, Any]:
    """A StateSnapshot as the SDK's ThreadState (with LangGraph's top-level checkpoint_id and
    parent_checkpoint_id)."""
    checkpoint = checkpoint_json(snap.config, thread_id) or {
        "thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": None}
    parent = checkpoint_json(snap.parent_config, thread_id)
    return {
        "values": to_jsonable(snap.values),
        "next": list(snap.next),
        "checkpoint": checkpoint,
        "metadata": _metadata_json(snap.metadata, thread_id),
        "created_at": snap.created_at,
        "parent_checkpoint": parent,
        "tasks": [_task_json(t, thread_id) for t in snap.tasks],
        "interrupts": [interrupt_json(i) for i in snap.interrupts],
        "checkpoint_id": checkpoint["checkpoint_id"],
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def interrupts_by_task(snap: StateSnapshot) -> dict[str, list[dict[str, Any]]]:
    """The snapshot's open interrupts as {task_id: [interrupt, ...]} (Thread.interrupts).

    Open means listed in `snap.interrupts`: a task that has not finished still lists the
    interrupts already answered (an answer a cancelled run applied in a subgraph, say), and a
    thread row showing those would invite a resume the server refuses.
    """
    waiting = {i.id for i in snap.interrupts}
    out: dict[str, list[dict[str, Any]]] = {}
    for task in snap.tasks:
        if listed := [interrupt_json(i) for i in task.interrupts if i.id in waiting]:
            out[task.id] = listed
    if not out and snap.interrupts:
        out[""] = [interrupt_json(i) for i in snap.interrupts]
    return out


def values_with_interrupts(snap: StateSnapshot, values: Any = _UNSET) -> Any:
    """What runs/wait and join answer: the values, plus "__interrupt__" when paused
    (`values`: the snapshot's values as to_jsonable made them already)."""
    if values is _UNSET:
        values = to_jsonable(snap.values)
    if snap.interrupts:
        base = values if isinstance(values, dict) else {}
        return {**base, "__interrupt__": to_jsonable(list(snap.interrupts))}
    return values


def thread_json(row: ThreadRow) -> dict[str, Any]:
    """A thread row as the SDK's Thread. As on LangGraph's server, a thread that no run or
    state update has touched yet has no `interrupts` and an empty `config`."""
    touched = row.values is not None or bool(row.interrupts)
    out: dict[str, Any] = {
        "thread_id": row.thread_id, "created_at": row.created_at,
        "updated_at": row.updated_at, "state_updated_at": row.state_updated_at,
        "metadata": row.metadata, "status": row.status,
        "config": {"configurable": {}} if touched else {}, "values": row.values}
    if touched:
        out["error"] = row.error
        out["interrupts"] = row.interrupts
    return out


def run_json(row: RunRow) -> dict[str, Any]:
    """A run row as the SDK's Run."""
    return {"run_id": row.run_id, "thread_id": row.thread_id,
            "assistant_id": row.assistant_id, "created_at": row.created_at,
            "updated_at": row.updated_at, "status": row.status, "metadata": row.metadata,
            "kwargs": row.kwargs, "multitask_strategy": row.multitask_strategy,
            "langsmith_session_name": None}
