"""The superstep machine: a generator of effects (load, save, run tasks, emit) with no I/O of its
own. The sync and async drivers in _drive.py carry the effects out."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitlgraph._ids import interrupt_id, is_interrupt_id
from hitlgraph.checkpoint.base import EXPECTED_LATEST, CheckpointMetadata, CheckpointTuple
from hitlgraph.constants import END, ERROR, INTERRUPT, NO_WRITES, PUSH, RESUME, START, TASKS
from hitlgraph.errors import (
    EmptyInputError,
    GraphRecursionError,
    InvalidUpdateError,
    ResumeError,
)
from hitlgraph.pregel._algo import (
    _MISSING,
    Pending,
    RunState,
    Task,
    apply_writes,
    command_writes,
    output_values,
    plan_tasks,
    task_sort_key,
)
from hitlgraph.pregel._spec import GraphSpec, NodeSpec, Write
from hitlgraph.pregel._stream import (
    checkpoint_payload,
    debug,
    messages_in,
    task_result,
    task_start,
)
from hitlgraph.types import Command, Interrupt

# -- effects ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    """Read a checkpoint tuple (the latest without checkpoint_id). Reply: CheckpointTuple|None."""

    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SaveWrites:
    """Write one task's pending writes."""

    config: dict[str, Any]
    writes: Sequence[Write]
    task_id: str
    task_path: str


@dataclass(frozen=True, slots=True)
class Save:
    """Write `before` (pending writes of the step that made it), then a checkpoint.
    Reply: its config."""

    config: dict[str, Any]
    checkpoint: Any
    metadata: CheckpointMetadata
    new_versions: dict[str, int]
    before: tuple[SaveWrites, ...] = ()


@dataclass(frozen=True, slots=True)
class Start:
    """Start running tasks; `values` is the state they read."""

    tasks: Sequence[Task]
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Next:
    """Wait for the next started task to finish. Reply: that Task."""


@dataclass(frozen=True, slots=True)
class RunOne:
    """Run a lone task to its end. Reply: the Task."""

    task: Task
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Emit:
    """A stream chunk for `mode`; `ns` is the namespace of the subgraph that made it."""

    mode: str
    chunk: Any
    ns: tuple[str, ...] = ()


Effect = Load | Save | SaveWrites | Start | Next | RunOne | Emit
NEXT = Next()


@dataclass(slots=True, kw_only=True)
class RunParams:
    """One invocation's settings, parsed from the caller's arguments and config."""

    spec: GraphSpec
    input: Any
    config: dict[str, Any]
    checkpointed: bool
    modes: frozenset[str]
    interrupt_before: tuple[str, ...]
    interrupt_after: tuple[str, ...]
    durability: str
    recursion_limit: int
    stream_keys: tuple[str, ...] = ()
    """The keys of "values" chunks; empty: the output schema's (what invoke returns)."""
    saver: Any = None
    """The checkpointer (None when the run is not checkpointed)."""
    parent: Any = None
    """The task of the enclosing graph when this run is a subgraph's (a TaskContext)."""
    subgraphs: bool = False
    """Stream the chunks of subgraphs too (with their namespaces)."""
    segment: str = ""
    """A subgraph run's part of stream namespaces ("node:task_id")."""
    parents: dict[str, str] = field(default_factory=dict)
    """Checkpoint ids of the enclosing graphs' runs, by namespace (checkpoint metadata)."""
    thread_id: str = field(init=False, default="")
    ns: str = field(init=False, default="")

    def __post_init__(self) -> None:
        conf = self.config.get("configurable", {})
        self.thread_id = str(conf.get("thread_id", ""))
        self.ns = str(conf.get("checkpoint_ns", ""))


@dataclass(slots=True)
class RunResult:
    """How a run ended: its output values and the interrupts it stopped at."""

    values: dict[str, Any] = field(default_factory=dict)
    interrupts: tuple[Interrupt, ...] = ()
    paused: bool = False


def _hits(tasks: Sequence[Task], names: tuple[str, ...]) -> bool:
    if not names:
        return False
    every = "*" in names
    return any(t.name != START and (every or t.name in names) for t in tasks)


def _meta(p: RunParams, source: str, step: int) -> CheckpointMetadata:
    return {"source": source, "step": step, "parents": dict(p.parents)}


def _thread_config(p: RunParams, checkpoint_id: str | None = None) -> dict[str, Any]:
    if checkpoint_id is None:
        return {"configurable": {"thread_id": p.thread_id, "checkpoint_ns": p.ns}}
    return {"configurable": {"thread_id": p.thread_id, "checkpoint_ns": p.ns,
                             "checkpoint_id": checkpoint_id}}


def _task_path(task: Task) -> str:
    return task.name if len(task.path) == 2 else f"{PUSH}~{task.path[1]}"


class _Saver:
    """Checkpoint bookkeeping of one run: parent links, compare-and-set, durability."""

    def __init__(self, p: RunParams, latest: str) -> None:
        self.p = p
        self.latest = latest
        self.parent: str | None = None
        self.unsaved: tuple[Any, CheckpointMetadata, dict[str, int]] | None = None
        self.buffered: list[SaveWrites] = []
        self.parent_of: dict[str, str | None] = {}
        self.source_of: dict[str, str] = {}
        self.track = bool({"checkpoints", "debug"} & p.modes)

    def save(self, st: RunState, metadata: CheckpointMetadata, new_versions: dict[str, int],
             before: tuple[SaveWrites, ...] = ()) -> Save | None:
        """The effect saving `st` now (after `before`), or None when nothing is to be written
        yet."""
        if not self.p.checkpointed:
            return None
        if self.p.durability == "exit":
            if self.unsaved is not None:
                new_versions = {**self.unsaved[2], **new_versions}
            self.unsaved = (st.checkpoint(), metadata, new_versions)
            self.buffered.clear()
            return None
        return self.put(st.checkpoint(), metadata, new_versions, before)

    def put(self, checkpoint: Any, metadata: CheckpointMetadata, new_versions: dict[str, int],
            before: tuple[SaveWrites, ...] = ()) -> Save:
        """The effect writing `checkpoint` as the child of the last one this run wrote."""
        if self.track:
            self.parent_of[checkpoint["id"]] = self.parent
            self.source_of[checkpoint["id"]] = str(metadata.get("source", "loop"))
        config = _thread_config(self.p, self.parent)
        config["configurable"][EXPECTED_LATEST] = self.latest
        self.latest = self.parent = checkpoint["id"]
        return Save(config, checkpoint, metadata, new_versions, before)

    def save_writes(self, st: RunState, task: Task, writes: Sequence[Write], *,
                    claim: bool = False) -> SaveWrites | None:
        """The effect saving one task's writes now, or None (not checkpointed, or buffered).

        With `claim`, the writes are saved only while st is the thread's latest checkpoint
        (compare-and-set), right away whatever the durability: an answer to interrupt() is
        claimed before anything runs, so of two racing resumes only one proceeds.
        """
        if not self.p.checkpointed:
            return None
        config = _thread_config(self.p, st.id)
        if claim:
            config["configurable"][EXPECTED_LATEST] = st.id
            return SaveWrites(config, writes, task.id, _task_path(task))
        effect = SaveWrites(config, writes, task.id, _task_path(task))
        if self.unsaved is not None or self.p.durability == "exit":
            self.buffered.append(effect)
            return None
        return effect

    def flush(self) -> Generator[Effect, Any, None]:
        """Write what "exit" durability held back (a generator: the driver's replies to these
        effects are dropped here, which `yield from` a list could not do)."""
        if self.unsaved is not None:
            checkpoint, metadata, versions = self.unsaved
            self.unsaved = None
            yield self.put(checkpoint, metadata, versions)
        buffered, self.buffered = self.buffered, []
        for effect in buffered:  # noqa: UP028 - replies must not reach a list iterator
            yield effect


def _resume_writes(
    p: RunParams, resume: Any, pending: Pending, tasks: Sequence[Task]
) -> dict[str, dict[str, Any]]:
    """Answers per task (all of them, by interrupt id) for Command(resume=...), checked against
    the open interrupts."""
    open_ = pending.open_interrupts(t.id for t in tasks)
    answers: dict[str, dict[str, Any]] = {}
    if isinstance(resume, dict) and resume and all(is_interrupt_id(k) for k in resume):
        for iid, value in resume.items():
            if iid not in open_:
                known = ", ".join(f"'{i}'" for i in open_) or "none"
                raise ResumeError(
                    f"Command(resume=...) answers interrupt '{iid}', which thread "
                    f"'{p.thread_id}' is not waiting for (unknown, or already answered). "
                    f"Open interrupts: {known}. Read them with get_state(config).interrupts."
                )
            tid = open_[iid][0]
            answers.setdefault(tid, dict(pending.resumes.get(tid, {})))[iid] = value
        return answers
    if not open_:
        raise ResumeError(
            f"Command(resume=...) was given, but thread '{p.thread_id}' has no interrupt waiting "
            "for an answer (if one was waiting, it was answered already, maybe by another "
            "resume: the thread moved on). To continue from a breakpoint, invoke the graph with "
            "None as input; to start again, pass a new input."
        )
    if len(open_) > 1:
        ids = ", ".join(f"'{i}'" for i in open_)
        raise ResumeError(
            f"Thread '{p.thread_id}' has {len(open_)} interrupts waiting ({ids}); a single "
            "resume value cannot say which it answers. Pass Command(resume={interrupt_id: "
            "value, ...}) with the ids from get_state(config).interrupts."
        )
    iid, (tid, _) = next(iter(open_.items()))
    return {tid: {**pending.resumes.get(tid, {}), iid: resume}}


def run_loop(p: RunParams) -> Generator[Effect, Any, RunResult]:
    """Run supersteps until the graph ends, pauses or fails."""
    spec = p.spec
    start: CheckpointTuple | None = None
    latest_id = ""
    replay = False
    if p.checkpointed:
        requested = p.config["configurable"].get("checkpoint_id")
        start = yield Load(_thread_config(p, requested))
        if requested is not None:
            if start is None:
                raise ValueError(
                    f"Thread '{p.thread_id}' has no checkpoint '{requested}'. Pick one from "
                    "get_state_history(config)."
                )
            latest = yield Load(_thread_config(p))
            latest_id = latest.checkpoint["id"] if latest else ""
            replay = requested != latest_id
        elif start is not None:
            latest_id = start.checkpoint["id"]
    saver = _Saver(p, latest_id)
    if start is not None:
        st = RunState.from_checkpoint(spec, start.checkpoint)
        saver.parent = st.id
        saver.source_of[st.id] = str(start.metadata.get("source", "loop"))
        saver.parent_of[st.id] = (
            start.parent_config["configurable"]["checkpoint_id"] if start.parent_config else None
        )
        prev_step = int(start.metadata.get("step", -1))
        pending = Pending.of(start.pending_writes)
    else:
        st = RunState.fresh(spec)
        prev_step = -2
        pending = Pending()
    extra: list[Write] = []
    inp = p.input
    limit = p.recursion_limit
    if p.parent is not None and p.parent.rerun and start is not None and (
        st.triggers or st.sends
    ):
        # A subgraph whose parent task runs again after a pause: continue where it stopped,
        # with the answers the parent was given for this subgraph's interrupts.
        probe = plan_tasks(spec, st, ns=p.ns, config=p.config, checkpointed=True,
                           with_inputs=False)
        open_ = pending.open_interrupts(t.id for t in probe)
        answers = {iid: p.parent.resume[iid] for iid in open_ if iid in p.parent.resume}
        inp = Command(resume=answers) if answers else None
        if (not open_ and len(p.parent.resume) == 1 and start.metadata.get("source") == "update"):
            # The subgraph's state was edited while it waited: the answer goes to the node
            # that waited, as for an edited top-level thread.
            inp = Command(resume=next(iter(p.parent.resume.values())))

    if inp is not None and not isinstance(inp, Command):
        # New input: abandon whatever was pending and start from START.
        st.triggers, st.sends, st.start_input = [START], [], inp
        st.step, st.writers, st.updated = prev_step + 1, [], None
        st.renew()
        new = st.bump([*st.values, START] if start is None else [START])
        saving = saver.save(st, _meta(p, "input", st.step), new)
        if saving is not None:
            yield saving
        pending = Pending()
        stop = st.step + limit
        skip_before = False
    else:
        if start is None:
            if isinstance(inp, Command):
                raise EmptyInputError(
                    f"Command(...) was given for thread '{p.thread_id}', which has no checkpoint "
                    "to resume. Start the thread with an input dict first."
                    if p.checkpointed else
                    "Command(...) needs a checkpointer: compile the graph with checkpointer=..."
                )
            raise EmptyInputError(
                "Received no input for __start__: "
                + (f"thread '{p.thread_id}' has no checkpoint to continue. "
                   if p.checkpointed else "")
                + "Pass an input dict to start the graph."
            )
        st.step = prev_step
        if replay and not isinstance(inp, Command):
            # Replaying from an earlier checkpoint: fork a copy and run its tasks anew.
            st.step += 1
            st.renew()
            saving = saver.save(st, _meta(p, "fork", st.step), {})
            if saving is not None:
                yield saving
            pending = Pending()
        if isinstance(inp, Command):
            probe = plan_tasks(spec, st, ns=p.ns, config=p.config, checkpointed=True,
                               with_inputs=False)
            edited: Pending | None = None
            if (inp.resume is not None and start is not None and not pending.interrupts
                    and start.metadata.get("source") == "update" and start.parent_config):
                # The state was edited while a node waited at interrupt(): the answer goes to
                # that node's first interrupt() when it runs again (as LangGraph does).
                before = yield Load(start.parent_config)
                if before is not None:
                    asked = Pending.of(before.pending_writes)
                    prior = RunState.from_checkpoint(spec, before.checkpoint)
                    waiting = {
                        t.name for t in plan_tasks(spec, prior, ns=p.ns, config=p.config,
                                                   checkpointed=True, with_inputs=False)
                        if t.id in asked.interrupts and t.id not in asked.writes
                    }
                    again = [t for t in probe if t.name in waiting]
                    if len(again) == 1 and not isinstance(inp.resume, dict):
                        edited = Pending(interrupts={again[0].id: (Interrupt(
                            value=None, id=interrupt_id(again[0].id, 0)),)})
            if inp.resume is not None:
                for tid, given in _resume_writes(p, inp.resume, edited or pending,
                                                 probe).items():
                    pending.resumes[tid] = given
                    task = next(t for t in probe if t.id == tid)
                    effect = saver.save_writes(st, task, [(RESUME, given)], claim=True)
                    if effect is not None:
                        yield effect
            if inp.update is not None or inp.goto:
                extra = command_writes(spec, START, Command(update=inp.update, goto=inp.goto))
        stop = st.step + limit + 1
        skip_before = True
        if "values" in p.modes:
            yield Emit("values", _pick(st.values, p.stream_keys or spec.output_keys))

    want_updates = "updates" in p.modes
    want_values = "values" in p.modes
    want_tasks = "tasks" in p.modes
    want_debug = "debug" in p.modes
    want_checkpoints = "checkpoints" in p.modes
    want_messages = "messages" in p.modes
    stream_keys = p.stream_keys or spec.output_keys
    reported = ""  # the checkpoint last shown in "checkpoints"/"debug"
    while True:
        if st.step > stop:
            raise GraphRecursionError(
                f"Recursion limit of {limit} reached without hitting a stop condition. You can "
                "increase the limit by setting the `recursion_limit` config key, e.g. "
                "graph.invoke(inputs, {'recursion_limit': 100}), or check the graph for a loop "
                "that never reaches END."
            )
        tasks = plan_tasks(spec, st, ns=p.ns, config=p.config, checkpointed=p.checkpointed,
                           saver=p.saver)
        if (want_checkpoints or want_debug) and reported != st.id:
            reported = st.id
            for task in tasks:
                task.interrupts = pending.interrupts.get(task.id, ())
            for event in _checkpoint_events(p, st, saver, tasks):
                yield event
            for task in tasks:
                task.interrupts = ()
        if not tasks and not extra:
            break
        if not skip_before and p.interrupt_before and _hits(tasks, p.interrupt_before):
            return (yield from _pause(p, saver, st, ()))
        skip_before = False

        todo: list[Task] = tasks
        if pending.task_results:
            for task in tasks:
                task.ctx.task_results = pending.task_results
        if pending.writes or pending.resumes or pending.interrupts:
            todo = []
            for task in tasks:
                cached = pending.writes.get(task.id)
                if cached is not None:
                    task.writes, task.done = cached, True
                    if want_updates and task.name != START:
                        yield Emit("updates", {task.name: _update_of(spec, cached)})
                    continue
                answered = pending.resumes.get(task.id)
                if answered is not None:
                    task.ctx.resume = dict(answered)
                    task.ctx.rerun = True
                elif task.id in pending.interrupts:
                    # Still unanswered: it would only ask again.
                    task.interrupts = pending.interrupts[task.id]
                    continue
                if task.id in pending.errors:
                    task.ctx.rerun = True
                todo.append(task)
            pending = Pending()

        if want_tasks or want_debug:
            for task in todo:
                if task.name != START:
                    for event in _task_events(p, st, "task", task_start(task)):
                        yield event
        stopped = False
        deferred: tuple[SaveWrites, ...] = ()
        if len(todo) == 1 and len(tasks) == 1:
            # A lone task: its writes are saved with the checkpoint that follows.
            task = yield RunOne(todo[0], st.values)
            if want_updates and task.ctx.task_log:
                for name, value in task.ctx.task_log:
                    yield Emit("updates", {name: value})
            if task.interrupts or task.error is not None:
                stopped = True
                for effect in _outcome_writes(saver, st, task):
                    yield effect
            elif task.name != START:
                effect = saver.save_writes(st, task, task.writes or [(NO_WRITES, None)])
                if effect is not None:
                    deferred = (effect,)
                if want_updates:
                    yield Emit("updates", {task.name: task.update})
                if want_messages:
                    for event in _message_events(task):
                        yield event
            if (want_tasks or want_debug) and task.name != START:
                for event in _task_events(p, st, "task_result", task_result(spec, task)):
                    yield event
        elif todo:
            yield Start(todo, st.values)
            for _ in range(len(todo)):
                task = yield NEXT
                if want_updates and task.ctx.task_log:
                    for name, value in task.ctx.task_log:
                        yield Emit("updates", {name: value})
                if (want_tasks or want_debug) and task.name != START:
                    for event in _task_events(p, st, "task_result", task_result(spec, task)):
                        yield event
                if task.interrupts or task.error is not None:
                    stopped = True
                    for effect in _outcome_writes(saver, st, task):
                        yield effect
                    continue
                if task.name == START:
                    continue
                writes_effect = saver.save_writes(st, task, task.writes or [(NO_WRITES, None)])
                if writes_effect is not None:
                    yield writes_effect
                if want_updates:
                    yield Emit("updates", {task.name: task.update})
                if want_messages:
                    for event in _message_events(task):
                        yield event

        if stopped or any(t.interrupts for t in tasks):
            failed = [t for t in tasks if t.error is not None]
            if failed:
                yield from saver.flush()
                first = min(failed, key=task_sort_key)
                error = first.error
                assert error is not None
                if hasattr(error, "add_note"):
                    error.add_note(f"During task with name '{first.name}' and id '{first.id}'")
                raise error
            interrupted = sorted((t for t in tasks if t.interrupts), key=task_sort_key)
            interrupts = tuple(i for t in interrupted for i in t.interrupts)
            finished = [t for t in tasks if not t.interrupts]
            return (yield from _pause(p, saver, st, interrupts, finished))

        updated, triggered, sends = apply_writes(spec, st, tasks, extra, step=st.step + 1)
        extra = []
        st.writers = [tasks[0].name] if len(tasks) == 1 else sorted({t.name for t in tasks})
        changed = list(updated)
        if st.start_input is not _MISSING:
            st.start_input = _MISSING
            changed.append(START)
        if st.sends or sends:
            changed.append(TASKS)
        st.triggers, st.sends = triggered, sends
        st.step += 1
        st.updated = updated
        if p.checkpointed:
            st.renew()
            saving = saver.save(st, _meta(p, "loop", st.step),
                                st.bump(changed), deferred)
            if saving is not None:
                yield saving
        else:
            st.id = f"step-{st.step}"
        if want_values and any(k in stream_keys for k in updated):
            yield Emit("values", _pick(st.values, stream_keys))
        if p.interrupt_after and _hits(tasks, p.interrupt_after):
            return (yield from _pause(p, saver, st, ()))

    yield from saver.flush()
    return RunResult(values=output_values(spec, st.values))


def _checkpoint_events(p: RunParams, st: RunState, saver: _Saver, tasks: Sequence[Task]
                       ) -> list[Emit]:
    """The "checkpoints" and "debug" chunks for the checkpoint the run is at."""
    metadata = _meta(p, "loop", st.step)
    parent = saver.parent_of.get(st.id)
    source = saver.source_of.get(st.id)
    if source is not None:
        metadata["source"] = source
    payload = checkpoint_payload(p.spec, p.config, parent, st, dict(metadata), tasks)
    out = []
    if "checkpoints" in p.modes:
        out.append(Emit("checkpoints", payload))
    if "debug" in p.modes:
        out.append(Emit("debug", debug("checkpoint", st.step, payload)))
    return out


def _task_events(p: RunParams, st: RunState, kind: str, payload: dict[str, Any]) -> list[Emit]:
    """The "tasks" and "debug" chunks for a task that starts ("task") or ends ("task_result")."""
    out = []
    if "tasks" in p.modes:
        out.append(Emit("tasks", payload))
    if "debug" in p.modes:
        out.append(Emit("debug", debug(kind, st.step + 1, payload)))
    return out


def _message_events(task: Task) -> list[Emit]:
    """"messages" chunks for the messages a node returned that were not streamed already."""
    out = []
    for message in messages_in(task.writes):
        msg_id = getattr(message, "id", None)
        if msg_id and msg_id in task.ctx.streamed:
            continue
        out.append(Emit("messages", (message, task.ctx.message_metadata())))
    return out


def _outcome_writes(saver: _Saver, st: RunState, task: Task) -> list[SaveWrites]:
    """The writes recording a task that interrupted or failed."""
    if task.interrupts:  # (its answers so far were saved when they were given)
        writes: list[Write] = [(INTERRUPT, list(task.interrupts))]
    else:
        writes = [(ERROR, repr(task.error))]
    effect = saver.save_writes(st, task, writes)
    return [effect] if effect is not None else []


def _pause(
    p: RunParams, saver: _Saver, st: RunState, interrupts: tuple[Interrupt, ...],
    finished: Sequence[Task] = (),
) -> Generator[Effect, Any, RunResult]:
    """End the run at a breakpoint or interrupt; everything needed to resume is saved."""
    yield from saver.flush()
    values = st.values
    if finished:
        scratch = RunState(values=dict(values), versions={}, barriers=dict(st.barriers),
                           triggers=[], sends=[])
        apply_writes(p.spec, scratch, finished, step=st.step + 1)
        values = scratch.values
    out = output_values(p.spec, values)
    if "updates" in p.modes:
        yield Emit("updates", {INTERRUPT: interrupts})
    if interrupts and "values" in p.modes:
        shown = _pick(values, p.stream_keys or p.spec.output_keys)
        yield Emit("values", {**shown, INTERRUPT: interrupts})
    return RunResult(values=out, interrupts=interrupts, paused=True)


def _pick(values: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: values[k] for k in keys if k in values}


def _update_of(spec: GraphSpec, writes: Sequence[Write]) -> Any:
    update = {k: v for k, v in writes if k in spec.channels}
    return update or None


# -- update_state ------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class UpdateParams:
    """An update_state call."""

    run: RunParams
    values: Any
    as_node: str | None


def _infer_as_node(spec: GraphSpec, st: RunState, thread_id: str) -> str:
    writers = [w for w in st.writers if w in spec.nodes]
    if not st.id or not writers:
        return START
    if len(writers) == 1:
        return writers[0]
    raise InvalidUpdateError(
        f"Ambiguous update: the last step of thread '{thread_id}' ran {writers}. Say which node "
        "the update comes from: update_state(config, values, as_node='...')."
    )


def update_loop(u: UpdateParams) -> Generator[Effect, Any, dict[str, Any]]:
    """Apply `u.values` as if node `u.as_node` had returned them; save a new checkpoint."""
    p = u.run
    spec = p.spec
    requested = p.config["configurable"].get("checkpoint_id")
    start = yield Load(_thread_config(p, requested))
    if requested is not None and start is None:
        raise ValueError(f"Thread '{p.thread_id}' has no checkpoint '{requested}'.")
    latest = start
    if requested is not None:
        latest = yield Load(_thread_config(p))
    saver = _Saver(p, latest.checkpoint["id"] if latest else "")
    if start is not None:
        st = RunState.from_checkpoint(spec, start.checkpoint)
        saver.parent = st.id
        st.step = int(start.metadata.get("step", -1))
    else:
        st = RunState.fresh(spec)
        st.step = -2
    as_node = u.as_node if u.as_node is not None else _infer_as_node(spec, st, p.thread_id)
    if as_node != END and as_node not in spec.nodes and as_node != "__copy__":
        raise InvalidUpdateError(
            f"Node '{as_node}' does not exist; as_node must be one of "
            f"{sorted(n for n in spec.nodes if n != START)} or END."
        )
    new_versions: dict[str, int] = {}
    source = "update"
    base_id = st.id
    if as_node == "__copy__":
        source = "fork"
    elif as_node == END:
        if u.values is not None:
            raise InvalidUpdateError(
                "update_state(config, values, as_node=END) takes no values: pass None to drop the "
                "pending tasks, or name the node the values come from."
            )
        changed = ["__pregel_tasks"] if st.sends else []
        st.triggers, st.sends = [], []
        st.renew()
        new_versions = st.bump(changed) if changed else {}
        st.writers = []
    else:
        node: NodeSpec = spec.nodes[as_node]
        task = plan_tasks_for_update(spec, st, p, node, u.values)
        done = yield RunOne(task, st.values)
        if done.error is not None:
            raise done.error
        if done.interrupts:
            raise InvalidUpdateError("update_state values cannot call interrupt().")
        updated, triggered, sends = apply_writes(spec, st, [done], step=st.step + 1)
        st.renew()
        # As in LangGraph, the update is a step of its own in which only as_node ran: next are
        # the nodes its writes trigger; tasks the checkpoint had pending are dropped.
        had_sends = bool(st.sends)
        st.triggers, st.sends = triggered, sends
        changed = list(updated) + (["__pregel_tasks"] if sends or had_sends else [])
        new_versions = st.bump(changed) if changed else {}
        st.updated = list(updated)
        st.writers = [as_node]
    st.step += 1
    if st.id == base_id:
        st.renew()
    if start is None:  # a thread's first checkpoint stores every value it has
        new_versions = {**st.bump(st.values), **new_versions}
    yield saver.put(st.checkpoint(), _meta(p, source, st.step),
                    new_versions)
    return _thread_config(p, st.id)


def plan_tasks_for_update(spec: GraphSpec, st: RunState, p: RunParams, node: NodeSpec,
                          values: Any) -> Task:
    """A task that "runs" `node` by returning `values`: its edges fire as if it had run."""
    from hitlgraph.pregel._algo import _task

    fake = NodeSpec(name=node.name, fn=lambda _input: values, is_async=False, wants_config=False,
                    coerce=node.coerce, edges=node.edges, joins=node.joins,
                    branches=node.branches)
    if isinstance(values, dict):
        unknown = [k for k in values if k not in spec.channels]
        if unknown:
            raise InvalidUpdateError(
                f"update_state() got key '{unknown[0]}', which is not in the state schema; "
                f"expected some of {sorted(spec.channels)}."
            )
    return _task(f"update:{node.name}", node.name, ("__pregel_pull", node.name), fake, None, st,
                 p.config, p.checkpointed)
