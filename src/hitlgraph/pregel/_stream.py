"""The chunks of the "tasks", "checkpoints", "debug" and "messages" stream modes, with the
shapes LangGraph gives them."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from hitlgraph._control import Interrupt
from hitlgraph._jsonable import is_message
from hitlgraph.checkpoint.base import WRITE_RULES
from hitlgraph.constants import PULL, PUSH, START, TRIGGER_PREFIX
from hitlgraph.pregel._algo import Pending, RunState, Task, state_values
from hitlgraph.pregel._spec import GraphSpec

STREAM_MODES_FROM_TASKS = frozenset({"custom", "messages"})
"""Modes whose chunks a running task makes (so the driver must listen while tasks run)."""


_second: list[Any] = [-1, ""]  # the last whole second formatted, and its text


def now_iso() -> str:
    """The current UTC time in ISO 8601 (as datetime.isoformat() writes it), as checkpoints
    record it; the date and time of day are formatted once a second."""
    now = time.time()
    whole = int(now)
    if whole != _second[0]:
        _second[1] = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _second[0] = whole
    return f"{_second[1]}.{int((now - whole) * 1_000_000):06d}+00:00"


_FRAMEWORK_METADATA = frozenset({
    "thread_id", "checkpoint_id", "checkpoint_ns", "checkpoint_map", "langgraph_step",
    "langgraph_node", "langgraph_triggers", "langgraph_path", "langgraph_checkpoint_ns"})


def _task_metadata(config: Mapping[str, Any]) -> dict[str, Any]:
    """What LangGraph shows of a starting task's config: the run's metadata (without the
    engine's keys), its run id, and its tags (without the `seq:step` bookkeeping ones)."""
    metadata = {k: v for k, v in (config.get("metadata") or {}).items()
                if k not in _FRAMEWORK_METADATA}
    run_id = (config.get("configurable") or {}).get("run_id")
    if run_id is not None:
        metadata.setdefault("run_id", run_id)
    tags = [t for t in config.get("tags") or () if not str(t).startswith("seq:step")]
    if tags:
        metadata["tags"] = tags
    return metadata


def task_start(task: Task, config: Mapping[str, Any]) -> dict[str, Any]:
    """A "tasks" chunk for a task that starts (with "metadata" when the run has any)."""
    triggers = (TRIGGER_PREFIX + task.name,) if task.path[0] == PULL else (PUSH,)
    chunk = {"id": task.id, "name": task.name, "input": task.input, "triggers": triggers}
    metadata = _task_metadata(config)
    if metadata:
        chunk["metadata"] = metadata
    return chunk


def task_result(spec: GraphSpec, task: Task) -> dict[str, Any]:
    """A "tasks" chunk for a task that finished, paused or failed."""
    if task.paused or task.interrupts or task.error is not None:
        result: dict[str, Any] = {}
    else:
        result = {k: v for k, v in task.writes if k in spec.channels}
    return {
        "id": task.id,
        "name": task.name,
        "error": task.error,
        "result": result,
        "interrupts": [interrupt_fields(i) for i in task.interrupts],
    }


def interrupt_fields(item: Interrupt) -> dict[str, Any]:
    """An interrupt in a "tasks" or "checkpoints" chunk: its fields as LangGraph 1.2 has them
    (value, id, response_schema), and hitlgraph's policy only when the node asked for one."""
    out = {"value": item.value, "id": item.id, "response_schema": item.response_schema}
    if item.policy is not None:
        out["policy"] = dataclasses.asdict(item.policy)
    return out


_ENGINE_KEYS = frozenset({WRITE_RULES, "checkpoint_map"})


def _run_configurable(conf: Mapping[str, Any]) -> dict[str, Any]:
    """The run's configurable values as LangGraph shows them in a checkpoint chunk's config:
    the caller's, without the engine's own keys."""
    return {k: v for k, v in conf.items()
            if k not in _ENGINE_KEYS and not k.startswith("__pregel_")}


def checkpoint_payload(
    spec: GraphSpec, config: dict[str, Any], parent: str | None, st: RunState,
    metadata: dict[str, Any], tasks: Iterable[Task], pending: Pending | None = None,
) -> dict[str, Any]:
    """A "checkpoints" chunk: the checkpoint a run just reached and the tasks it plans next,
    with what `pending` (the checkpoint's writes) says of them: their interrupts, and the
    result or error of those that already ran."""
    pending = pending if pending is not None else Pending()
    conf = config["configurable"]
    ns = conf.get("checkpoint_ns", "")
    base = {"checkpoint_ns": ns, "thread_id": conf.get("thread_id")}
    tasks = list(tasks)
    listed = []
    for task in tasks:
        node = spec.nodes.get(task.name)
        state = None
        if node is not None and node.subgraph is not None:
            state = subgraph_config(conf.get("thread_id"), ns, task.name, task.id)
        interrupts = tuple(interrupt_fields(i)
                           for i in pending.interrupts.get(task.id, task.interrupts))
        writes = pending.writes.get(task.id)
        result = {k: v for k, v in writes if k in spec.channels} if writes else None
        error = pending.errors.get(task.id, task.error)
        if error is not None:
            item: dict[str, Any] = {"id": task.id, "name": task.name, "error": error,
                                    "state": state}
        elif result:
            item = {"id": task.id, "name": task.name, "result": result,
                    "interrupts": interrupts, "state": state}
        else:
            item = {"id": task.id, "name": task.name, "interrupts": interrupts, "state": state}
        listed.append(item)
    run = {**_run_configurable(conf), **base}
    own = {"configurable": {**run, "checkpoint_id": st.id}}
    before = {"configurable": {**run, "checkpoint_id": parent}} if parent else None
    return {
        "config": patch_checkpoint_map(own, metadata),
        "parent_config": patch_checkpoint_map(before, metadata),
        "values": state_values(spec, st.values),
        "metadata": metadata,
        "next": [t.name for t in tasks],
        "tasks": listed,
    }


def subgraph_config(thread_id: Any, ns: str, name: str, tid: str) -> dict[str, Any]:
    """What LangGraph shows as the state of a task that runs a subgraph (when the subgraph's own
    state is not asked for): a config naming the subgraph's checkpoints."""
    child = f"{ns}|{name}:{tid}" if ns else f"{name}:{tid}"
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": child}}


def patch_checkpoint_map(config: dict[str, Any] | None, metadata: Any, *, last: bool = False
                         ) -> dict[str, Any] | None:
    """A subgraph checkpoint's config with LangGraph's "checkpoint_map": the checkpoint ids of
    the enclosing graphs' runs and its own, by namespace (`last`: as the config's last key, as
    snapshots have it; otherwise before checkpoint_id, as stream chunks have it)."""
    parents = metadata.get("parents") if metadata else None
    if config is None or not parents:
        return config
    conf = config["configurable"]
    cmap = {**parents, conf.get("checkpoint_ns", ""): conf.get("checkpoint_id")}
    if last:
        return {**config, "configurable": {**conf, "checkpoint_map": cmap}}
    patched = {k: v for k, v in conf.items() if k != "checkpoint_id"}
    patched["checkpoint_map"] = cmap
    patched["checkpoint_id"] = conf.get("checkpoint_id")
    return {**config, "configurable": patched}


def debug(kind: str, step: int, payload: Any) -> dict[str, Any]:
    """A "debug" chunk wrapping a task, task result or checkpoint payload."""
    return {"step": step, "timestamp": now_iso(), "type": kind, "payload": payload}


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


def message_ids(value: Any) -> set[str]:
    """Ids of the messages in a node's input (its state's values, and lists in them)."""
    if isinstance(value, dict):
        values: Iterable[Any] = value.values()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        values = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif hasattr(value, "__dict__") and not is_message(value):
        values = vars(value).values()
    else:
        values = [value]
    out: set[str] = set()
    for item in values:
        if is_message(item):
            items: Iterable[Any] = (item,)
        elif isinstance(item, (list, tuple)):
            items = item
        else:
            continue
        for msg in items:
            msg_id = getattr(msg, "id", None) if is_message(msg) else None
            if isinstance(msg_id, str) and msg_id:
                out.add(msg_id)
    return out
