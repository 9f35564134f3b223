"""Pure functions of the superstep: the run's state, planning tasks, turning node returns into
writes, applying a step's writes, and building snapshots. No I/O, no awaiting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitlgraph._ids import pull_task_id, stamp, task_id, version_of
from hitlgraph.channels._live import Live, open_channels, stored_values, view_with
from hitlgraph.channels._overwrite import NOT_OVERWRITE, overwritten
from hitlgraph.channels.base import MISSING
from hitlgraph.channels.binop import fold
from hitlgraph.checkpoint.base import Checkpoint, PendingWrite
from hitlgraph.constants import (
    END,
    ERROR,
    INTERRUPT,
    NO_WRITES,
    PULL,
    PUSH,
    RESUME,
    START,
    TASK_RESULT,
    TASKS,
    TRIGGER_PREFIX,
)
from hitlgraph.errors import InvalidUpdateError
from hitlgraph.graph._schema import update_pairs
from hitlgraph.managed.base import Scratchpad
from hitlgraph.pregel._context import TaskContext, TaskScope
from hitlgraph.pregel._spec import GraphSpec, NodeSpec, Write
from hitlgraph.types import Command, Interrupt, PregelTask, Send

_MISSING: Any = object()
_TRIGGER_LEN = len(TRIGGER_PREFIX)


@dataclass(slots=True, kw_only=True)
class RunState:
    """The channels of a run between supersteps; becomes a checkpoint after each step."""

    values: dict[str, Any]
    versions: dict[str, int]
    """Each channel's version: the time part of the id of the checkpoint that last wrote it
    (unique per thread, also across forks, so a saver can key stored values by it)."""
    barriers: dict[str, frozenset[str]]
    triggers: list[str]
    sends: list[Send]
    start_input: Any = _MISSING
    id: str = ""
    ts: str = ""
    step: int = -1
    writers: list[str] = field(default_factory=list)
    updated: list[str] | None = None
    live: Live | None = None
    """The channels of the keys whose annotation names a channel object (their readable
    values are in `values` too); None for a state of plain and reducer keys."""
    _version: int = 0
    _version_of: str = ""

    @classmethod
    def fresh(cls, spec: GraphSpec) -> RunState:
        """The state of a thread with no checkpoint: reducer keys hold their empty value."""
        values = {k: c.initial() for k, c in spec.channels.items() if c.initial is not None}
        protos = spec.channel_objects
        return cls(values=values, versions={}, barriers={}, triggers=[], sends=[],
                   live=Live(open_channels(protos, None, values)) if protos else None)

    @classmethod
    def from_checkpoint(cls, spec: GraphSpec, cp: Checkpoint) -> RunState:
        """The state a checkpoint holds; a reducer key it lacks (the thread was started by
        another graph, or the key is new in this one) holds its empty value, as in LangGraph."""
        raw = cp["channel_values"]
        values = {k: v for k, v in raw.items() if k in spec.channels}
        if len(values) < len(spec.channels):
            for k, c in spec.channels.items():
                if c.initial is not None and k not in values:
                    values[k] = c.initial()
        barriers = ({k: frozenset(v) for k, v in raw.items() if k in spec.barriers}
                    if spec.barriers else {})
        versions = dict(cp["channel_versions"])
        protos = spec.channel_objects
        return cls(
            values=values, versions=versions, barriers=barriers,
            live=Live(open_channels(protos, raw, values)) if protos else None,
            triggers=list(cp["triggers"]), sends=list(raw.get(TASKS, ())),
            start_input=raw.get(START, _MISSING), id=cp["id"], ts=cp["ts"],
            writers=list(cp.get("writers", ())), updated=cp.get("updated_channels"),
        )

    def checkpoint(self) -> Checkpoint:
        """This state as a checkpoint dict (values are shared, not copied)."""
        live = self.live
        values = dict(self.values) if live is None else stored_values(live.chans, self.values)
        for chan, seen in self.barriers.items():
            if seen:
                values[chan] = sorted(seen)
        if self.sends:
            values[TASKS] = self.sends
        if self.start_input is not _MISSING:
            values[START] = self.start_input
        # triggers, sends and writers are replaced, never changed in place: no copies needed
        return Checkpoint(
            v=1, id=self.id, ts=self.ts, channel_values=values,
            channel_versions=dict(self.versions), triggers=self.triggers,
            updated_channels=self.updated, writers=self.writers,
        )

    def scratch(self) -> RunState:
        """A copy whose values and channels can take writes without changing this state."""
        return RunState(values=dict(self.values), versions={}, barriers=dict(self.barriers),
                        triggers=[], sends=[], live=self.live and self.live.copy())

    def renew(self) -> None:
        """Give the state a new checkpoint id and time (it is about to be saved as new)."""
        self.id, self.ts, self._version = stamp()
        self._version_of = self.id

    def bump(self, channels: Iterable[str]) -> dict[str, int]:
        """Mark `channels` as written by this (renewed) checkpoint; return their new versions."""
        if self._version_of != self.id:
            self._version, self._version_of = version_of(self.id), self.id
        new = dict.fromkeys(channels, self._version)
        self.versions.update(new)
        return new


@dataclass(slots=True, kw_only=True, init=False)
class Task:
    """One node run in one superstep."""

    id: str
    name: str
    path: tuple[Any, ...]
    node: NodeSpec
    input: Any
    ctx: TaskContext
    writes: list[Write] = field(default_factory=list)
    update: Any = None
    """What the node returned as its update, for the "updates" stream."""
    error: Exception | None = None
    interrupts: tuple[Interrupt, ...] = ()
    paused: bool = False
    """The task stopped at a pause: its interrupts, or a breakpoint of a subgraph it runs
    (then with no interrupts)."""
    done: bool = False

    def __init__(self, id: str, name: str, path: tuple[Any, ...], node: NodeSpec, input: Any,
                 ctx: TaskContext, writes: list[Write] | None = None, update: Any = None,
                 error: Exception | None = None, interrupts: tuple[Interrupt, ...] = (),
                 paused: bool = False, done: bool = False) -> None:
        # (written out: the generated __init__ calls a factory for `writes`; one per task)
        self.id = id
        self.name = name
        self.path = path
        self.node = node
        self.input = input
        self.ctx = ctx
        self.writes = [] if writes is None else writes
        self.update = update
        self.error = error
        self.interrupts = interrupts
        self.paused = paused
        self.done = done


def plan_tasks(spec: GraphSpec, st: RunState, scope: TaskScope, *, with_inputs: bool = True
               ) -> list[Task]:
    """The tasks of the next superstep: triggered nodes (by name), then Sends (in order)."""
    tasks: list[Task] = []
    ns = scope.ns
    for name in st.triggers:
        node = spec.nodes[name]
        tid = pull_task_id(st.id, ns, name)
        if not with_inputs:
            value = None
        elif name == START:
            value = st.start_input
        else:
            value = node.coerce(st.values)
        tasks.append(make_task(tid, name, (PULL, name), node, value, st, scope))
    for index, send in enumerate(st.sends):
        tid = task_id(st.id, ns, PUSH, index, send.node)
        tasks.append(make_task(tid, send.node, (PUSH, index, False), spec.nodes[send.node],
                               send.arg, st, scope))
    return tasks


def managed_values(spec: GraphSpec, step: int, stop: int) -> dict[str, Any]:
    """The managed values of the tasks of step `step` of a run allowed to go to `stop`."""
    pad = Scratchpad(step, stop)
    return {key: manager.get(pad) for key, manager in spec.managed.items()}


def with_managed(tasks: Iterable[Task], view: dict[str, Any]) -> None:
    """Give the triggered tasks their input again from `view`, the state with the managed
    values (as in LangGraph, a Send's argument is left as it is)."""
    for task in tasks:
        if task.path[0] == PULL and task.name != START:
            task.input = task.node.coerce(view)


def make_task(tid: str, name: str, path: tuple[Any, ...], node: NodeSpec, value: Any,
              st: RunState, scope: TaskScope) -> Task:
    return Task(tid, name, path, node, value, TaskContext(tid, name, path, st.step + 1, scope,
                                                        st.id))


def task_sort_key(task: Task) -> tuple[Any, ...]:
    """Tasks' writes are applied in path order: triggered nodes by name, then Sends in order."""
    return task.path


def node_writes(spec: GraphSpec, name: str, result: Any) -> tuple[list[Write], Any]:
    """The writes for what node `name` returned, and the update to show in "updates"."""
    if result is None:
        return [], None
    if isinstance(result, dict):
        try:
            return _update_writes(spec, name, result), result
        except _ManagedWrite as dropped:  # (not shown either)
            return dropped.writes, dropped.kept
    if isinstance(result, Command):
        return command_writes(spec, name, result), result.update
    if isinstance(result, (list, tuple)) and result and all(
        isinstance(r, Command) for r in result
    ):
        writes: list[Write] = []
        for cmd in result:
            writes.extend(command_writes(spec, name, cmd))
        return writes, [c.update for c in result]
    pairs = update_pairs(None, result)
    if pairs is not None:
        try:
            return _update_writes(spec, name, dict(pairs)), dict(pairs)
        except _ManagedWrite as dropped:  # (a model's fields include its managed values)
            return dropped.writes, dropped.kept
    raise InvalidUpdateError(
        f"Expected dict, got {result!r}: node '{name}' must return a dict of state updates, "
        "a Command, or None."
    )


class _ManagedWrite(Exception):
    """An update wrote a managed value: `writes` are its other writes, `kept` the update
    without the managed keys. (Raised rather than checked for, so the common update pays
    nothing: a try costs nothing until something is raised.)"""

    def __init__(self, kept: dict[str, Any], writes: list[Write]) -> None:
        super().__init__()
        self.kept, self.writes = kept, writes


def _update_writes(spec: GraphSpec, name: str, update: dict[str, Any]) -> list[Write]:
    channels = spec.channels
    for key in update:
        if key not in channels:
            if key in spec.managed:  # (LangGraph drops writes to a managed value)
                kept = {k: v for k, v in update.items() if k not in spec.managed}
                raise _ManagedWrite(kept, _update_writes(spec, name, kept))
            if name == START:
                raise InvalidUpdateError(
                    f"Input key '{key}' is not in the state schema; expected some of "
                    f"{sorted(spec.input_keys)}."
                )
            raise InvalidUpdateError(
                f"Node '{name}' wrote key '{key}', which is not in the state schema; expected "
                f"some of {sorted(channels)}. Add '{key}' to the state schema or drop it."
            )
    if name == START and len(spec.input_keys) != len(channels):
        return [(k, v) for k, v in update.items() if k in spec.input_keys]
    return list(update.items())


def command_writes(spec: GraphSpec, name: str, cmd: Command[Any]) -> list[Write]:
    """The writes of a Command: its update, then triggers for its goto."""
    if cmd.graph == Command.PARENT:
        raise InvalidUpdateError(
            f"Node '{name}' returned Command(graph=Command.PARENT), but this graph has no parent."
        )
    writes: list[Write] = []
    update = cmd.update
    if update is not None:
        if isinstance(update, dict):
            writes.extend(_kept_writes(spec, name, update))
        elif isinstance(update, (list, tuple)) and all(
            isinstance(p, tuple) and len(p) == 2 for p in update
        ):
            writes.extend(_update_writes_pairs(spec, name, update))
        else:
            pairs = update_pairs(None, update)
            if pairs is None:
                raise InvalidUpdateError(
                    f"Command(update=...) from node '{name}' must be a dict, got {update!r}."
                )
            writes.extend(_kept_writes(spec, name, dict(pairs)))
    gotos = cmd.goto if isinstance(cmd.goto, (list, tuple)) else [cmd.goto]
    for dest in gotos:
        if isinstance(dest, Send):
            if dest.node not in spec.nodes:
                raise InvalidUpdateError(f"Command from '{name}' sent to unknown node "
                                         f"'{dest.node}'.")
            writes.append((TASKS, dest))
        elif dest == END:
            continue
        elif isinstance(dest, str) and dest in spec.nodes and dest != START:
            writes.append((TRIGGER_PREFIX + dest, None))
        else:
            raise InvalidUpdateError(
                f"Command(goto={dest!r}) from node '{name}' names no node; known nodes: "
                f"{sorted(n for n in spec.nodes if n != START)}."
            )
    return writes


def _update_writes_pairs(spec: GraphSpec, name: str, pairs: Sequence[tuple[str, Any]]
                         ) -> list[Write]:
    return [(key, value) for key, value in pairs if _kept_writes(spec, name, {key: None})]


def _kept_writes(spec: GraphSpec, name: str, update: dict[str, Any]) -> list[Write]:
    """The writes of `update`, those to managed values dropped."""
    try:
        return _update_writes(spec, name, update)
    except _ManagedWrite as dropped:
        return dropped.writes


def edge_writes(node: NodeSpec) -> tuple[Write, ...]:
    """The writes a node's static edges and join edges make when it finishes."""
    return node.static_writes


def fresh_values(spec: GraphSpec, values: dict[str, Any], writes: Sequence[Write]
                 ) -> dict[str, Any]:
    """`values` with one task's own writes applied (what its conditional edges see)."""
    view = dict(values)
    channels = spec.channels
    objects: dict[str, list[Any]] | None = None
    for chan, value in writes:
        ch = channels.get(chan)
        if ch is None:
            continue
        if ch.channel is not None:
            objects = objects if objects is not None else {}
            objects.setdefault(chan, []).append(value)
        else:
            _write(view, chan, ch.reducer, value)
    if spec.channel_objects:
        view_with(spec.channel_objects, view, objects or {})
    return view


def _write(values: dict[str, Any], chan: str, reducer: Any, value: Any) -> None:
    """Write `value` to state key `chan` (through its reducer, once the key has a value,
    unless the write is an Overwrite)."""
    if reducer is None:
        values[chan] = value
        return
    replaced = overwritten(value)
    if replaced is not NOT_OVERWRITE:
        values[chan] = replaced
    elif chan in values:
        values[chan] = reducer(values[chan], value)
    else:
        values[chan] = value


def _apply_lone(spec: GraphSpec, st: RunState, task: Task
                ) -> tuple[list[str], list[str], list[Send]] | None:
    """apply_writes' path for one task that writes each state key once and triggers plain
    nodes (the common step): the same writes through `_write`, without grouping them by
    key; None when the task does more (barriers, Sends, a key twice)."""
    channels = spec.channels
    updated: list[str] = []
    triggered: list[str] = []
    for chan, _ in task.writes:
        if chan in channels:
            if chan in updated:
                return None
            updated.append(chan)
        elif chan[:_TRIGGER_LEN] == TRIGGER_PREFIX:
            triggered.append(chan[_TRIGGER_LEN:])
        elif chan != NO_WRITES:
            return None
    for chan, value in task.writes:
        if chan in channels:
            _write(st.values, chan, channels[chan].reducer, value)
    if len(triggered) > 1:
        triggered = sorted(set(triggered), key=spec.node_order.__getitem__)
    return updated, triggered, []


def apply_writes(
    spec: GraphSpec, st: RunState, tasks: Sequence[Task], extra: Sequence[Write] = (), *,
    step: int,
) -> tuple[list[str], list[str], list[Send]]:
    """Apply a step's writes to `st.values` through the reducers, in task path order.

    Returns the updated state keys and barriers, the nodes the step triggered and the Sends it
    made. Raises InvalidUpdateError for two writes to a key that has no reducer.
    """
    if len(tasks) == 1 and not extra and st.live is None:
        fast = _apply_lone(spec, st, tasks[0])
        if fast is not None:
            return fast
    grouped: dict[str, list[tuple[Any, str]]] = {}
    triggered: list[str] = []
    sends: list[Send] = []
    barrier_hits: dict[str, set[str]] = {}
    ordered = sorted(tasks, key=task_sort_key) if len(tasks) > 1 else tasks
    batches: list[tuple[str, Sequence[Write]]] = [(t.name, t.writes) for t in ordered]
    if extra:
        batches.append((START, extra))
    for name, writes in batches:
        for chan, value in writes:
            if chan[:_TRIGGER_LEN] == TRIGGER_PREFIX:
                node = chan[_TRIGGER_LEN:]
                if node not in triggered:
                    triggered.append(node)
            elif chan == TASKS:
                sends.append(value)
            elif chan in spec.channels:
                grouped.setdefault(chan, []).append((value, name))
            elif chan in spec.barriers:
                barrier_hits.setdefault(chan, set()).add(value)
            elif chan == NO_WRITES:
                continue
            else:
                raise InvalidUpdateError(f"Node '{name}' wrote to unknown channel '{chan}'.")
    updated: list[str] = []
    values = st.values
    for chan, items in grouped.items():
        ch = spec.channels[chan]
        if ch.channel is not None:
            continue
        if ch.reducer is not None:
            folded = fold(ch.reducer, values.get(chan, MISSING), [v for v, _ in items], chan)
            values[chan] = folded
        elif len(items) > 1:
            writers = " and ".join(f"'{n}'" for _, n in items)
            raise InvalidUpdateError(
                f"Key '{chan}' got {len(items)} writes in step {step} (from {writers}) but "
                f"has no reducer, so it can take only one value per step. Give it one in the "
                f"schema, e.g. {chan}: Annotated[list, operator.add]."
            )
        else:
            values[chan] = items[0][0]
        updated.append(chan)
    for chan, names in barrier_hits.items():
        waits_for, target = spec.barriers[chan]
        seen = st.barriers.get(chan, frozenset()) | names
        if seen >= waits_for:
            seen = frozenset()
            if target not in triggered:
                triggered.append(target)
        st.barriers[chan] = seen
        updated.append(chan)
    if st.live is not None:
        updated.extend(st.live.step(values, grouped, new_step=bool(tasks),
                                    last_step=not (triggered or sends)))
    order = spec.node_order
    return updated, sorted(triggered, key=order.__getitem__), sends


def output_values(spec: GraphSpec, values: dict[str, Any]) -> dict[str, Any]:
    """The values a run returns: the output schema's keys that are set."""
    return {k: values[k] for k in spec.output_keys if k in values}


def state_values(spec: GraphSpec, values: dict[str, Any]) -> dict[str, Any]:
    """The state's keys that are set, as snapshots show them."""
    return {k: values[k] for k in spec.state_keys if k in values}


def answers_to_retry(log: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The answers of a resume log withdrawn because the node failed with them ([id, answer,
    False] as the last word; a give-back, [id, None, False], leaves none): as in LangGraph,
    invoke(None) runs the node again with them, while a new answer replaces them."""
    latest: dict[str, tuple[Any, bool]] = {}
    for iid, answer, accepted in log:
        latest[iid] = (answer, accepted)
    return {iid: answer for iid, (answer, accepted) in latest.items()
            if not accepted and answer is not None}


def answers_in_force(log: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The answers of a resume log that still hold (the last word on each interrupt)."""
    latest: dict[str, tuple[Any, bool]] = {}
    for iid, answer, accepted in log:
        latest[iid] = (answer, accepted)
    return {iid: answer for iid, (answer, accepted) in latest.items() if accepted}


@dataclass(slots=True, init=False)
class Pending:
    """A checkpoint's pending writes, grouped by task."""

    writes: dict[str, list[Write]] = field(default_factory=dict)
    interrupts: dict[str, tuple[Interrupt, ...]] = field(default_factory=dict)
    resumes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Answers in force per task, by interrupt id."""
    resume_log: dict[str, list[list[Any]]] = field(default_factory=dict)
    """Every answer given per task, in order, as [interrupt id, answer, accepted]; an answer
    whose run of the node failed is followed by [id, answer, False] (no longer in force, kept
    for invoke(None)), one a server gave back by [id, None, False]."""
    retries: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Answers whose run of the node failed, per task: invoke(None) gives them again."""
    errors: dict[str, Any] = field(default_factory=dict)
    task_results: dict[str, Any] = field(default_factory=dict)
    """Results of @task calls made inside the step's nodes, by call id."""

    def __init__(self, interrupts: dict[str, tuple[Interrupt, ...]] | None = None) -> None:
        # (written out: the generated __init__ calls a default factory per field, and a run
        # makes a Pending at each step it opens or resumes)
        self.writes, self.resumes, self.resume_log = {}, {}, {}
        self.retries, self.errors, self.task_results = {}, {}, {}
        self.interrupts = {} if interrupts is None else interrupts

    @classmethod
    def of(cls, pending: Iterable[PendingWrite] | None) -> Pending:
        out = cls()
        for tid, chan, value in pending or ():
            if chan == INTERRUPT:
                out.interrupts[tid] = tuple(value)
            elif chan == RESUME:
                if len(value) >= len(out.resume_log.get(tid, ())):
                    out.resume_log[tid] = [list(entry) for entry in value]
                    out.resumes[tid] = answers_in_force(value)
                    out.retries[tid] = answers_to_retry(value)
            elif chan == ERROR:
                out.errors[tid] = value
            elif chan == TASK_RESULT:
                out.task_results[tid] = value
            else:
                out.writes.setdefault(tid, []).append((chan, value))
        return out

    def open_interrupts(self, task_ids: Iterable[str]) -> dict[str, tuple[str, Interrupt]]:
        """Unanswered interrupts of these tasks: interrupt id -> (task id, interrupt)."""
        out: dict[str, tuple[str, Interrupt]] = {}
        for tid in task_ids:
            if tid in self.writes:
                continue
            answered = self.resumes.get(tid, {})
            for intr in self.interrupts.get(tid, ()):
                if intr.id not in answered:
                    out[intr.id] = (tid, intr)
        return out


def snapshot_tasks(
    spec: GraphSpec, st: RunState, pending: Pending, *, ns: str, config: dict[str, Any],
) -> tuple[tuple[PregelTask, ...], tuple[str, ...], dict[str, Any], tuple[Interrupt, ...]]:
    """The next tasks of a thread's latest checkpoint as PregelTasks (as LangGraph's get_state
    shows them), the names of those still to run, the values and the interrupts: the values
    include the writes of the tasks that finished while their step is unfinished, `next` leaves
    those tasks out, and only the interrupts still waiting for an answer are shown. (History,
    or a checkpoint asked for by id, shows a record of the step: pregel/_state._record_tasks.)"""
    tasks = plan_tasks(spec, st, TaskScope(config, True, ns), with_inputs=False)
    out: list[PregelTask] = []
    done: list[Task] = []
    open_ = pending.open_interrupts(t.id for t in tasks)
    for task in tasks:
        writes = pending.writes.get(task.id)
        result = None
        intrs = pending.interrupts.get(task.id, ())
        if writes is not None:
            result = {k: v for k, v in writes if k in spec.channels}
            task.writes = writes
            done.append(task)
            intrs = ()  # a finished task waits for no answer
        elif task.name == START and isinstance(st.start_input, dict):
            result = st.start_input
        error = pending.errors.get(task.id)
        out.append(PregelTask(id=task.id, name=task.name, path=task.path, error=error,
                              interrupts=intrs, result=result))
    values = st.values
    names = tuple(t.name for t in tasks)
    if done and len(done) < len(tasks):
        scratch = st.scratch()
        apply_writes(spec, scratch, done, step=st.step + 1)
        if scratch.live is not None:
            scratch.live.settle(scratch.values)
        values = scratch.values
        names = tuple(t.name for t in tasks if t not in done)
    return tuple(out), names, values, tuple(i for _, i in open_.values())
