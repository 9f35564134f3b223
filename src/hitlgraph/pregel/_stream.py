"""The chunks of the "tasks", "checkpoints", "debug" and "messages" stream modes, with the
shapes LangGraph gives them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from hitlgraph.constants import PULL, PUSH, START, TRIGGER_PREFIX
from hitlgraph.pregel._algo import RunState, Task, now_iso, state_values
from hitlgraph.pregel._spec import GraphSpec

STREAM_MODES_FROM_TASKS = frozenset({"custom", "messages"})
"""Modes whose chunks a running task makes (so the driver must listen while tasks run)."""


def task_start(task: Task) -> dict[str, Any]:
    """A "tasks" chunk for a task that starts."""
    triggers = (TRIGGER_PREFIX + task.name,) if task.path[0] == PULL else (PUSH,)
    return {"id": task.id, "name": task.name, "input": task.input, "triggers": triggers}


def task_result(spec: GraphSpec, task: Task) -> dict[str, Any]:
    """A "tasks" chunk for a task that finished, paused or failed."""
    if task.interrupts or task.error is not None:
        result: dict[str, Any] = {}
    else:
        result = {k: v for k, v in task.writes if k in spec.channels}
    return {
        "id": task.id,
        "name": task.name,
        "error": None if task.error is None else repr(task.error),
        "result": result,
        "interrupts": [dataclasses.asdict(i) for i in task.interrupts],
    }


def checkpoint_payload(
    spec: GraphSpec, config: dict[str, Any], parent: str | None, st: RunState,
    metadata: dict[str, Any], tasks: Iterable[Task],
) -> dict[str, Any]:
    """A "checkpoints" chunk: the checkpoint a run just reached and the tasks it plans next."""
    conf = config["configurable"]
    base = {"checkpoint_ns": conf.get("checkpoint_ns", ""), "thread_id": conf.get("thread_id")}
    tasks = list(tasks)
    listed = []
    for task in tasks:
        item: dict[str, Any] = {
            "id": task.id, "name": task.name,
            "interrupts": tuple(dataclasses.asdict(i) for i in task.interrupts),
            "state": None,
        }
        if task.error is not None:
            item["error"] = repr(task.error)
        listed.append(item)
    return {
        "config": {"configurable": {**base, "checkpoint_id": st.id}},
        "parent_config": {"configurable": {**base, "checkpoint_id": parent}} if parent else None,
        "values": state_values(spec, st.values),
        "metadata": metadata,
        "next": [t.name for t in tasks],
        "tasks": listed,
    }


def debug(kind: str, step: int, payload: Any) -> dict[str, Any]:
    """A "debug" chunk wrapping a task, task result or checkpoint payload."""
    return {"step": step, "timestamp": now_iso(), "type": kind, "payload": payload}


def is_message(value: Any) -> bool:
    """Whether `value` looks like a chat message (hitlgraph's or langchain-core's)."""
    return (
        hasattr(value, "content") and isinstance(getattr(value, "type", None), str)
        and not isinstance(value, type)
    )


def messages_in(writes: Iterable[tuple[str, Any]]) -> Iterator[Any]:
    """The messages a task wrote (alone or in lists), in order."""
    for chan, value in writes:
        if chan == START:
            continue
        if is_message(value):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if is_message(item):
                    yield item
