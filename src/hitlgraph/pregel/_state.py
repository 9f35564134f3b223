"""The state API's logic, written once for get_state/aget_state, get_state_history/
aget_state_history and update_state/aupdate_state; the compiled graph's methods only fetch.

A snapshot is built from checkpoint tuples by a generator that yields the config of each
further tuple it needs (a subgraph's, for get_state(subgraphs=True)) and receives it, so the
sync shell reads them with get_tuple and the async one with aget_tuple. update_state is
_update.py's machine, under either driver."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final, TypeVar

from hitlgraph._ids import pull_task_id, task_id
from hitlgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from hitlgraph.constants import NULL_TASK_ID, PULL, PUSH, START, TASKS
from hitlgraph.errors import CheckpointerRequiredError
from hitlgraph.pregel._algo import Pending, snapshot_tasks, state_values
from hitlgraph.pregel._drive import Outcome, drive_async, drive_sync
from hitlgraph.pregel._invocation import run_config, run_params, saver_of
from hitlgraph.pregel._open import pending_at, state_of
from hitlgraph.pregel._spec import GraphSpec
from hitlgraph.pregel._stream import patch_checkpoint_map, subgraph_config
from hitlgraph.pregel._update import UpdateParams, update_loop
from hitlgraph.types import PregelTask, Send, StateSnapshot

if TYPE_CHECKING:
    from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = [
    "Reads", "history_config", "read_async", "read_sync", "require_saver", "state_at",
    "state_reads", "state_snapshot", "update_async", "update_params", "update_sync",
]

T = TypeVar("T")

Reads = Generator[dict[str, Any], "CheckpointTuple | None", T]
"""Yields the config of a checkpoint tuple to read, receives the tuple (None: not found)."""


def read_sync(saver: BaseCheckpointSaver, reads: Reads[T]) -> T:
    """Carry `reads` out with the saver's get_tuple."""
    reply: CheckpointTuple | None = None
    while True:
        try:
            config = reads.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        reply = saver.get_tuple(config)


async def read_async(saver: BaseCheckpointSaver, reads: Reads[T]) -> T:
    """Carry `reads` out with the saver's aget_tuple."""
    reply: CheckpointTuple | None = None
    while True:
        try:
            config = reads.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        reply = await saver.aget_tuple(config)


def require_saver(graph: CompiledStateGraph, what: str) -> BaseCheckpointSaver:
    """The graph's saver, which `what` (a method's name) needs."""
    saver = saver_of(graph)
    if saver is None:
        raise CheckpointerRequiredError(
            f"{what} reads saved checkpoints, but this graph has no checkpointer. Compile it "
            "with one: builder.compile(checkpointer=InMemorySaver())."
        )
    return saver


def _empty(config: dict[str, Any]) -> StateSnapshot:
    return StateSnapshot(values={}, next=(), config=config, metadata=None, created_at=None,
                         parent_config=None, tasks=(), interrupts=())


def _base_snapshot(graph: CompiledStateGraph, tup: CheckpointTuple, live: bool
                   ) -> tuple[StateSnapshot, str]:
    """The snapshot of `tup` with its tasks as planned (no subgraph state), and its ns.
    `live`: the thread's current state (get_state without checkpoint_id); otherwise a
    record of the checkpoint's step (history)."""
    ns = tup.config["configurable"].get("checkpoint_ns", "")
    spec = graph.spec
    if live or spec.channel_objects or _saved_update(tup):
        st = state_of(spec, tup)
        st.step = int(tup.metadata.get("step", -1))
        if live:
            tasks, names, values, interrupts = snapshot_tasks(
                spec, st, pending_at(tup), ns=ns, config=tup.config)
        else:
            values = st.values
            tasks, names, interrupts = _record_tasks(
                spec, st.id, st.triggers, st.sends, st.start_input, pending_at(tup), ns)
        shown = state_values(spec, values)
    else:  # a record of plain and reducer keys: no RunState to make (see _record_values)
        raw = tup.checkpoint["channel_values"]
        tasks, names, interrupts = _record_tasks(
            spec, tup.checkpoint["id"], tup.checkpoint["triggers"], raw.get(TASKS, ()),
            raw.get(START), pending_at(tup) if tup.pending_writes else _NO_WRITES, ns)
        shown = _record_values(spec, raw)
    metadata = tup.metadata
    snapshot = StateSnapshot(
        values=shown,
        next=names,
        config=patch_checkpoint_map(tup.config, metadata, last=True) or tup.config,
        metadata=dict(metadata),
        created_at=tup.checkpoint["ts"],
        parent_config=patch_checkpoint_map(tup.parent_config, metadata, last=True),
        tasks=tasks,
        interrupts=interrupts,
    )
    return snapshot, ns


_NO_WRITES: Final = Pending()
"""The pending writes of a checkpoint that has none (_record_tasks only reads them)."""


def _saved_update(tup: CheckpointTuple) -> bool:
    """Whether a resume saved an update on `tup` (state_of applies it to the values)."""
    for write in tup.pending_writes or ():
        if write[0] == NULL_TASK_ID:
            return True
    return False


def _record_values(spec: GraphSpec, raw: dict[str, Any]) -> dict[str, Any]:
    """state_values(RunState.from_checkpoint(spec, checkpoint).values), for a spec without
    channel objects, made straight: the state keys the checkpoint holds, and a reducer key
    it lacks as its empty value, in state_keys' order."""
    channels = spec.channels
    values: dict[str, Any] = {}
    for key in spec.state_keys:
        chan = channels.get(key)
        if chan is None:
            continue
        if key in raw:
            values[key] = raw[key]
        elif chan.initial is not None:
            values[key] = chan.initial()
    return values


def _record_tasks(spec: GraphSpec, checkpoint_id: str, triggers: Sequence[str],
                  sends: Sequence[Send], start_input: Any, pending: Pending, ns: str
                  ) -> tuple[tuple[PregelTask, ...], tuple[str, ...], tuple[Any, ...]]:
    """The record of a checkpoint's step that history shows (snapshot_tasks is the live view):
    the same tasks in plan_tasks' order (triggered nodes, then Sends) with the same ids, made
    straight as PregelTasks. A record applies no writes, so the Task and TaskContext objects
    plan_tasks builds for a run would be made and dropped for each checkpoint of a page."""
    planned: list[tuple[str, str, tuple[Any, ...]]] = []
    for name in triggers:
        spec.nodes[name]  # an unknown node raises KeyError, as in plan_tasks
        planned.append((pull_task_id(checkpoint_id, ns, name), name, (PULL, name)))
    for index, send in enumerate(sends):
        planned.append((task_id(checkpoint_id, ns, PUSH, index, send.node), send.node,
                        (PUSH, index, False)))
        spec.nodes[send.node]  # (likewise)
    out: list[PregelTask] = []
    interrupts: list[Any] = []
    for tid, name, path in planned:
        writes = pending.writes.get(tid)
        result = None
        if writes is not None:
            result = {k: v for k, v in writes if k in spec.channels}
        elif name == START and isinstance(start_input, dict):
            result = start_input
        asked = pending.interrupts.get(tid, ())
        interrupts.extend(asked)
        out.append(PregelTask(id=tid, name=name, path=path, error=pending.errors.get(tid),
                              interrupts=asked, result=result))
    return tuple(out), tuple(name for _, name, _ in planned), tuple(interrupts)


def _subgraph_of(graph: CompiledStateGraph, node_name: str) -> CompiledStateGraph | None:
    node = graph.spec.nodes.get(node_name)
    return node.subgraph if node is not None else None


def state_snapshot(graph: CompiledStateGraph, tup: CheckpointTuple, *, live: bool = False
                   ) -> StateSnapshot:
    """The snapshot of `tup`; a task that runs a subgraph carries the config of its state."""
    snapshot, ns = _base_snapshot(graph, tup, live)
    nodes = graph.spec.nodes
    for task in snapshot.tasks:  # (a loop: no generator to make for each snapshot of a page)
        node = nodes.get(task.name)
        if node is not None and node.subgraph is not None:
            break
    else:
        return snapshot
    thread = tup.config["configurable"].get("thread_id")
    return snapshot._replace(tasks=tuple(
        replace(task, state=subgraph_config(thread, ns, task.name, task.id))
        if _subgraph_of(graph, task.name) is not None else task
        for task in snapshot.tasks
    ))


def _nested_snapshot(graph: CompiledStateGraph, tup: CheckpointTuple, *, live: bool
                     ) -> Reads[StateSnapshot]:
    """The snapshot of `tup`; a task that runs a subgraph carries that subgraph's state."""
    snapshot, ns = _base_snapshot(graph, tup, live)
    tasks: list[PregelTask] = []
    for task in snapshot.tasks:
        tasks.append((yield from _with_subgraph_state(graph, tup, ns, task)))
    return snapshot._replace(tasks=tuple(tasks))


def _with_subgraph_state(graph: CompiledStateGraph, tup: CheckpointTuple, ns: str,
                         task: PregelTask) -> Reads[PregelTask]:
    inner = _subgraph_of(graph, task.name)
    if inner is None:
        return task
    child = f"{ns}|{task.name}:{task.id}" if ns else f"{task.name}:{task.id}"
    found = yield {"configurable": {"thread_id": tup.config["configurable"]["thread_id"],
                                    "checkpoint_ns": child}}
    if found is None:
        return task
    return replace(task, state=(yield from _nested_snapshot(inner, found, live=True)))


def state_reads(graph: CompiledStateGraph, config: dict[str, Any], subgraphs: bool
                ) -> Reads[StateSnapshot]:
    """get_state(): the thread's state at its latest checkpoint (or at config's
    checkpoint_id); with `subgraphs`, the state of the subgraphs its tasks run."""
    merged = run_config(graph, config, need_thread=True)
    tup = yield merged
    if tup is None or not subgraphs:
        return state_at(graph, config, merged, tup)
    return (yield from _nested_snapshot(graph, tup, live="checkpoint_id" not in
                                        merged["configurable"]))


def state_at(graph: CompiledStateGraph, config: dict[str, Any], merged: dict[str, Any],
             tup: CheckpointTuple | None) -> StateSnapshot:
    """get_state() without subgraphs: the snapshot of `tup`, read with `merged` (the
    run_config of the caller's `config`)."""
    if tup is None:
        return _empty(config)
    return state_snapshot(graph, tup, live="checkpoint_id" not in merged["configurable"])


def history_config(graph: CompiledStateGraph, config: dict[str, Any]) -> dict[str, Any]:
    """The config get_state_history() lists checkpoints of."""
    merged = run_config(graph, config, need_thread=True)
    merged["configurable"].setdefault("checkpoint_ns", "")
    return merged


def update_params(graph: CompiledStateGraph, config: dict[str, Any], values: Any,
                  as_node: str | None) -> UpdateParams:
    """An update_state() call, checked."""
    require_saver(graph, "update_state()")
    run = run_params(graph, None, config, frozenset(), (), (), None)
    return UpdateParams(run=run, values=values, as_node=as_node)


def update_sync(graph: CompiledStateGraph, u: UpdateParams) -> dict[str, Any]:
    """Carry update_state() out under the sync driver; the new checkpoint's config."""
    outcome: Outcome[dict[str, Any]] = Outcome()
    for _ in drive_sync(update_loop(u), graph.spec, saver_of(graph), outcome):
        pass
    assert outcome.value is not None
    return outcome.value


async def update_async(graph: CompiledStateGraph, u: UpdateParams) -> dict[str, Any]:
    """Carry update_state() out under the async driver."""
    outcome: Outcome[dict[str, Any]] = Outcome()
    async for _ in drive_async(update_loop(u), graph.spec, saver_of(graph), outcome):
        pass
    assert outcome.value is not None
    return outcome.value
