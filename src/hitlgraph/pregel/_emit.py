"""The stream chunks a run emits as it goes, in LangGraph's order and shapes (the payloads
themselves are built in _stream.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hitlgraph.constants import INTERRUPT, PUSH, START
from hitlgraph.pregel._algo import Pending, RunState, Task
from hitlgraph.pregel._effects import Emit
from hitlgraph.pregel._params import RunParams
from hitlgraph.pregel._saving import RunSaver
from hitlgraph.pregel._spec import GraphSpec, Write
from hitlgraph.pregel._stream import (
    checkpoint_payload,
    debug,
    message_ids,
    messages_in,
    task_result,
)

CACHED_KEY = "__metadata__"
"""The key of an "updates" chunk that marks writes reused instead of run again."""


def checkpoint_events(p: RunParams, st: RunState, saver: RunSaver, tasks: Sequence[Task],
                       pending: Pending) -> list[Emit]:
    """The "checkpoints" and "debug" chunks for the checkpoint the run is at. As in LangGraph,
    their metadata is the engine's own (source, step, parents), without what the config adds
    to the stored checkpoint's."""
    metadata: dict[str, Any] = {"source": "loop", "step": st.step, "parents": p.parents}
    parent = saver.parent_of.get(st.id)
    source = saver.source_of.get(st.id)
    if source is not None:
        metadata["source"] = source
    payload = checkpoint_payload(p.spec, p.config, parent, st, metadata, tasks, pending)
    out = []
    if "checkpoints" in p.modes:
        out.append(Emit("checkpoints", payload))
    if "debug" in p.modes:
        out.append(Emit("debug", debug("checkpoint", st.step, payload)))
    return out


def task_events(p: RunParams, st: RunState, kind: str, payload: dict[str, Any]) -> list[Emit]:
    """The "tasks" and "debug" chunks for a task that starts ("task") or ends ("task_result")."""
    out = []
    if "tasks" in p.modes:
        out.append(Emit("tasks", payload))
    if "debug" in p.modes:
        out.append(Emit("debug", debug(kind, st.step + 1, payload)))
    return out


def message_events(task: Task, seen: set[str]) -> list[Emit]:
    """"messages" chunks for the messages a node returned that were not streamed already:
    neither token by token, nor by an earlier node of the run, nor given to it in its input
    (LangGraph's dedupe by message id)."""
    out = []
    known = message_ids(task.input)
    for message in messages_in(task.writes):
        msg_id = getattr(message, "id", None)
        if msg_id and (msg_id in task.ctx.streamed or msg_id in seen or msg_id in known):
            continue
        if msg_id:
            seen.add(msg_id)
        out.append(Emit("messages", (message, task.ctx.message_metadata())))
    return out


def task_log_events(p: RunParams, st: RunState, task: Task) -> list[Emit]:
    """The chunks of the @task calls a node made that finished: each call's "tasks" start,
    its {task_name: result} update and its "tasks" result, as LangGraph shows them."""
    out: list[Emit] = []
    if not task.ctx.calls_made is not None:
        return out
    shows_tasks = "tasks" in p.modes or "debug" in p.modes
    for name, call_id, call_input, value, cached in task.ctx.task_calls.done:
        if shows_tasks:
            out.extend(task_events(p, st, "task", {
                "id": call_id, "name": name, "input": call_input, "triggers": (PUSH,)}))
        if "updates" in p.modes:
            out.append(Emit("updates", {name: value, CACHED_KEY: {"cached": True}} if cached
                            else {name: value}))
        if shows_tasks and not cached:
            out.extend(task_events(p, st, "task_result", {
                "id": call_id, "name": name, "error": None, "result": {"__return__": value},
                "interrupts": []}))
    return out


def finish_events(p: RunParams, st: RunState, task: Task, seen: set[str]) -> list[Emit]:
    """The chunks for a task that just finished, paused or failed, in LangGraph's order: its
    messages and update (or its interrupts, in "updates" and in "values" with the state as the
    step began), then its result in "tasks"/"debug"."""
    modes = p.modes
    out: list[Emit] = []
    if task.paused and not task.interrupts:  # a subgraph's breakpoint: nothing to show
        pass
    elif task.interrupts:
        if "updates" in modes:
            out.append(Emit("updates", {INTERRUPT: task.interrupts}))
        if "values" in modes:
            keys = p.stream_keys or p.spec.output_keys
            out.append(Emit("values", {**pick(st.values, keys),
                                       INTERRUPT: task.interrupts}))
    elif task.error is None and task.name != START:
        if "messages" in modes:
            out.extend(message_events(task, seen))
        if "updates" in modes:  # (a node that returned {} updated nothing: None, as LangGraph)
            update = task.update
            out.append(Emit("updates", {task.name: None if update == {} else update}))
    if ("tasks" in modes or "debug" in modes) and task.name != START:
        out.extend(task_events(p, st, "task_result", task_result(p.spec, task)))
    return out


def pick(values: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: values[k] for k in keys if k in values}


def update_of(spec: GraphSpec, writes: Sequence[Write]) -> Any:
    update = {k: v for k, v in writes if k in spec.channels}
    return update or None
