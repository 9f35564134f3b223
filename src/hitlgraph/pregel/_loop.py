"""The superstep machine: a generator of effects (load, save, run tasks, emit) with no I/O of its
own. The sync and async drivers in _drive.py carry the effects out."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitlgraph._ids import interrupt_id, is_interrupt_id
from hitlgraph.cache.base import WRITES_NS, cache_key, identifier
from hitlgraph.checkpoint.base import (
    WRITE_RULES,
    CheckpointMetadata,
    CheckpointTuple,
    Fence,
    WriteRules,
    rules_of,
)
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
    answers_in_force,
    apply_writes,
    command_writes,
    edge_writes,
    node_writes,
    output_values,
    plan_tasks,
    task_sort_key,
)
from hitlgraph.pregel._spec import GraphSpec, NodeSpec, Write
from hitlgraph.pregel._stream import (
    STREAM_MODES_FROM_TASKS,
    checkpoint_payload,
    debug,
    message_ids,
    messages_in,
    patch_checkpoint_map,
    task_result,
    task_start,
)
from hitlgraph.types import Command, Interrupt

CACHED_KEY = "__metadata__"
"""The key of an "updates" chunk that marks writes reused instead of run again."""

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
    background: bool = False
    """The run goes on while this is written ("async" durability); the driver writes it before
    anything it must read or claim, and before the run returns or raises."""


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


@dataclass(frozen=True, slots=True)
class CacheGet:
    """Look cached node writes up. Reply: {full key: writes} for the keys found."""

    cache: Any
    keys: Sequence[tuple[tuple[str, ...], str]]


@dataclass(frozen=True, slots=True)
class CacheSet:
    """Cache node writes: {full key: (writes, ttl)}."""

    cache: Any
    pairs: dict[tuple[tuple[str, ...], str], tuple[Any, int | None]]


Effect = Load | Save | SaveWrites | Start | Next | RunOne | Emit | CacheGet | CacheSet
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
    cache: Any = None
    """Where nodes with a cache_policy (and @task calls with one) keep their results."""
    thread_id: str = field(init=False, default="")
    ns: str = field(init=False, default="")
    fence: Fence | None = field(init=False, default=None)
    """The fence the run's saver calls carry (see checkpoint.base.WriteRules)."""
    meta_extra: dict[str, Any] = field(init=False, default_factory=dict)
    """What the config adds to every checkpoint's metadata (see `_config_metadata`)."""

    def __post_init__(self) -> None:
        conf = self.config.get("configurable", {})
        self.thread_id = str(conf.get("thread_id", ""))
        self.ns = str(conf.get("checkpoint_ns", ""))
        self.fence = rules_of(self.config).fence
        self.meta_extra = _config_metadata(self.config)

    @property
    def listens(self) -> bool:
        """Whether the consumer reads chunks that tasks make while they run (the drivers then
        run every task off the driving thread or as its own asyncio task)."""
        return bool(self.subgraphs or self.modes & STREAM_MODES_FROM_TASKS
                    or (self.parent is not None and self.parent.sink is not None))


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


_NOT_METADATA = frozenset({"source", "step", "parents", "thread_id", "checkpoint_id",
                           "checkpoint_ns", "checkpoint_map"})


def _config_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """What a run's config adds to its checkpoints' metadata, as LangGraph does: the plain
    values (str, int, float, bool) of config["metadata"], then those of config["configurable"]
    under other names, except private keys ("__..."), the thread's own keys and the keys the
    engine sets."""
    extra: dict[str, Any] = {}
    for source, private in ((config.get("metadata") or {}, False),
                            (config.get("configurable") or {}, True)):
        for key, value in source.items():
            if (isinstance(value, (str, int, float)) and isinstance(key, str)
                    and key not in _NOT_METADATA and key not in extra
                    and not (private and key.startswith("__"))):
                extra[key] = value
    return extra


def _meta(p: RunParams, source: str, step: int) -> CheckpointMetadata:
    meta: CheckpointMetadata = {"source": source, "step": step, "parents": p.parents}
    if p.meta_extra:
        meta.update(p.meta_extra)  # type: ignore[typeddict-item]
    return meta


def _thread_config(p: RunParams, checkpoint_id: str | None = None,
                   expected_latest: str | None = None) -> dict[str, Any]:
    """The config of a saver call of the run: its thread, namespace and checkpoint, and the
    rules the saver checks (the run's fence; the compare-and-set when `expected_latest`)."""
    conf: dict[str, Any] = {"thread_id": p.thread_id, "checkpoint_ns": p.ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    if p.fence is not None or expected_latest is not None:
        conf[WRITE_RULES] = WriteRules(expected_latest, p.fence)
    return {"configurable": conf}


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
        config = _thread_config(self.p, self.parent, expected_latest=self.latest)
        self.latest = self.parent = checkpoint["id"]
        return Save(config, checkpoint, metadata, new_versions, before,
                    self.p.durability == "async")

    def save_writes(self, st: RunState, task: Task, writes: Sequence[Write], *,
                    claim: bool = False) -> SaveWrites | None:
        """The effect saving one task's writes now, or None (not checkpointed, or buffered).

        With `claim`, the writes are saved only while st is the thread's latest checkpoint
        (compare-and-set), right away whatever the durability: an answer to interrupt() is
        claimed before anything runs, so of two racing resumes only one proceeds.
        """
        if not self.p.checkpointed:
            return None
        if claim:
            return SaveWrites(_thread_config(self.p, st.id, expected_latest=st.id), writes,
                              task.id, _task_path(task))
        effect = SaveWrites(_thread_config(self.p, st.id), writes, task.id, _task_path(task))
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


def _answers_by_id(resume: Any) -> bool:
    """Whether a resume value maps interrupt ids to answers (rather than being one answer)."""
    return isinstance(resume, dict) and bool(resume) and all(is_interrupt_id(k) for k in resume)


def _resume_writes(
    p: RunParams, resume: Any, pending: Pending, tasks: Sequence[Task]
) -> dict[str, dict[str, Any]]:
    """The new answers per task (by interrupt id) that Command(resume=...) gives, checked
    against the open interrupts."""
    open_ = pending.open_interrupts(t.id for t in tasks)
    answers: dict[str, dict[str, Any]] = {}
    if _answers_by_id(resume):
        for iid, value in resume.items():
            if iid not in open_:
                known = ", ".join(f"'{i}'" for i in open_) or "none"
                raise ResumeError(
                    f"Command(resume=...) answers interrupt '{iid}', which thread "
                    f"'{p.thread_id}' is not waiting for (unknown, or already answered). "
                    f"Open interrupts: {known}. Read them with get_state(config).interrupts."
                )
            tid = open_[iid][0]
            answers.setdefault(tid, {})[iid] = value
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
    return {tid: {iid: resume}}


class Abandoned(Exception):
    """Thrown into run_loop by a driver whose consumer stopped reading (closed the stream, or
    cancelled it): the run saves what its durability held back and ends."""


def run_loop(p: RunParams) -> Generator[Effect, Any, RunResult]:
    """Run supersteps until the graph ends, pauses or fails.

    When Abandoned is thrown in, the checkpoint and writes that "exit" durability held back are
    written (as LangGraph does when a stream is left early) and the run ends.
    """
    savers: list[_Saver] = []
    try:
        return (yield from _run_loop(p, savers))
    except Abandoned:
        if savers:
            yield from savers[0].flush()
        return RunResult()


def _run_loop(p: RunParams, savers: list[_Saver]) -> Generator[Effect, Any, RunResult]:
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
    savers.append(saver)
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
    planned: list[Task] | None = None  # the first step's tasks, when already planned
    # interrupts answered by this run's Command, per task: (the task's resume log, their ids)
    fresh: dict[str, tuple[list[list[Any]], list[str]]] = {}
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
        if spec.direct_input:  # the input's writes go in the input checkpoint itself
            writes, _ = node_writes(spec, START, inp)
            writes.extend(edge_writes(spec.nodes[START]))
            st.start_input = _MISSING
            updated, st.triggers, st.sends = apply_writes(spec, st, [], writes, step=st.step)
            new = st.bump([*st.values] if start is None else updated)
        else:
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
            # planned with inputs: the first step below runs these same tasks
            probe = planned = plan_tasks(spec, st, ns=p.ns, config=p.config,
                                         checkpointed=p.checkpointed, saver=p.saver)
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
                    if len(again) == 1 and not _answers_by_id(inp.resume):
                        edited = Pending(interrupts={again[0].id: (Interrupt(
                            value=None, id=interrupt_id(again[0].id, 0)),)})
            if inp.resume is not None:
                for tid, given in _resume_writes(p, inp.resume, edited or pending,
                                                 probe).items():
                    log = [*pending.resume_log.get(tid, ()),
                           *([iid, answer, True] for iid, answer in given.items())]
                    pending.resume_log[tid] = log
                    pending.resumes[tid] = answers_in_force(log)
                    fresh[tid] = (log, list(given))
                    task = next(t for t in probe if t.id == tid)
                    effect = saver.save_writes(st, task, [(RESUME, log)], claim=True)
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
    stream_keys = p.stream_keys or spec.output_keys
    reported = ""  # the checkpoint last shown in "checkpoints"/"debug"
    seen: set[str] = set()  # ids of the messages shown in "messages"
    while True:
        if st.step > stop:
            raise GraphRecursionError(
                f"Recursion limit of {limit} reached without hitting a stop condition. You can "
                "increase the limit by setting the `recursion_limit` config key, e.g. "
                "graph.invoke(inputs, {'recursion_limit': 100}), or check the graph for a loop "
                "that never reaches END."
            )
        if planned is not None:
            tasks, planned = planned, None
        else:
            tasks = plan_tasks(spec, st, ns=p.ns, config=p.config, checkpointed=p.checkpointed,
                               saver=p.saver)
        if (want_checkpoints or want_debug) and p.checkpointed and reported != st.id:
            reported = st.id
            for event in _checkpoint_events(p, st, saver, tasks, pending):
                yield event
        if not tasks and not extra:
            break
        if not skip_before and p.interrupt_before and _hits(tasks, p.interrupt_before):
            return (yield from _pause(p, saver, st, ()))
        skip_before = False

        todo: list[Task] = tasks
        reused: list[Task] = []  # finished in an earlier run of this step: writes reused
        unanswered: list[Task] = []  # paused at an interrupt nobody answered yet
        if pending.task_results:
            for task in tasks:
                task.ctx.task_results = pending.task_results
        if pending.writes or pending.resumes or pending.interrupts:
            todo = []
            for task in tasks:
                cached = pending.writes.get(task.id)
                if cached is not None:
                    task.writes, task.done = cached, True
                    reused.append(task)
                    continue
                answered = pending.resumes.get(task.id)
                if answered is not None:
                    task.ctx.resume = dict(answered)
                    task.ctx.rerun = True
                elif task.id in pending.interrupts:
                    # Still unanswered: it would only ask again.
                    task.interrupts = pending.interrupts[task.id]
                    unanswered.append(task)
                    continue
                if task.id in pending.errors:
                    task.ctx.rerun = True
                todo.append(task)
            pending = Pending()

        hits: list[Task] = []
        cache_keys: dict[str, tuple[tuple[str, ...], str]] = {}
        if p.cache is not None:
            for task in tasks:
                task.ctx.cache = p.cache
            cache_keys = {t.id: _cache_key(t) for t in todo if t.node.cache_policy is not None}
            if cache_keys:
                found = yield CacheGet(p.cache, list(cache_keys.values()))
                for task in todo:
                    key = cache_keys.get(task.id)
                    if key is not None and key in found:
                        task.writes = [(chan, value) for chan, value in found[key]]
                        task.done = True
                        hits.append(task)
                if hits:
                    todo = [t for t in todo if not t.done]

        lone = len(todo) == 1 and len(tasks) == 1
        # The chunks of a lone task's step are shown once the step's checkpoint is saved (as in
        # LangGraph), so a consumer that stops reading after one finds the step done. When the
        # consumer also reads chunks made while tasks run, "task" chunks go out first.
        held: list[Emit] = []
        if want_tasks or want_debug:
            for task in tasks:
                if task.name != START:
                    for event in _task_events(p, st, "task", task_start(task, p.config)):
                        if lone and not p.listens:
                            held.append(event)
                        else:
                            yield event
        for task in hits:  # cached writes count as the task's, saved as such
            effect = saver.save_writes(st, task, task.writes or [(NO_WRITES, None)])
            if effect is not None:
                yield effect
        if want_updates and (reused or hits):
            for task in [*reused, *hits]:
                if task.name != START:
                    yield Emit("updates", {task.name: _update_of(spec, task.writes),
                                           CACHED_KEY: {"cached": True}})
        stopped = False
        deferred: tuple[SaveWrites, ...] = ()
        if lone:
            # A lone task: its writes are saved with the checkpoint that follows.
            task = yield RunOne(todo[0], st.values)
            if task.ctx.task_log:
                held.extend(_task_log_events(p, st, task))
            if task.interrupts or task.error is not None:
                stopped = True
                for event in held:
                    yield event
                held = []
                for effect in _outcome_writes(saver, st, task, fresh):
                    yield effect
                for event in _finish_events(p, st, task, seen, stream_keys):
                    yield event
            else:
                if task.name != START:
                    effect = saver.save_writes(st, task, task.writes or [(NO_WRITES, None)])
                    if effect is not None:
                        deferred = (effect,)
                if task.id in cache_keys:
                    yield _cache_set(p, task, cache_keys[task.id])
                if p.modes:
                    held.extend(_finish_events(p, st, task, seen, stream_keys))
        elif todo:
            yield Start(todo, st.values)
            for _ in range(len(todo)):
                task = yield NEXT
                for event in _task_log_events(p, st, task):
                    yield event
                if task.interrupts or task.error is not None:
                    stopped = True
                    for effect in _outcome_writes(saver, st, task, fresh):
                        yield effect
                elif task.name != START:
                    writes_effect = saver.save_writes(st, task,
                                                      task.writes or [(NO_WRITES, None)])
                    if writes_effect is not None:
                        yield writes_effect
                    if task.id in cache_keys:
                        yield _cache_set(p, task, cache_keys[task.id])
                for event in _finish_events(p, st, task, seen, stream_keys):
                    yield event

        if stopped or unanswered:
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
            return (yield from _pause(p, saver, st, interrupts, finished, unanswered))

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
        for event in held:
            yield event
        if want_values and any(k in stream_keys for k in updated):
            yield Emit("values", _pick(st.values, stream_keys))
        if p.interrupt_after and _hits(tasks, p.interrupt_after):
            return (yield from _pause(p, saver, st, ()))

    yield from saver.flush()
    return RunResult(values=output_values(spec, st.values))


def _checkpoint_events(p: RunParams, st: RunState, saver: _Saver, tasks: Sequence[Task],
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


def _task_events(p: RunParams, st: RunState, kind: str, payload: dict[str, Any]) -> list[Emit]:
    """The "tasks" and "debug" chunks for a task that starts ("task") or ends ("task_result")."""
    out = []
    if "tasks" in p.modes:
        out.append(Emit("tasks", payload))
    if "debug" in p.modes:
        out.append(Emit("debug", debug(kind, st.step + 1, payload)))
    return out


def _message_events(task: Task, seen: set[str]) -> list[Emit]:
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


def _cache_key(task: Task) -> tuple[tuple[str, ...], str]:
    """Where a task's writes are cached: under its node, by the key of its input."""
    policy = task.node.cache_policy
    assert policy is not None
    ns = (WRITES_NS, identifier(task.node.fn), task.name)
    return ns, cache_key(policy.key_func, task.input)


def _cache_set(p: RunParams, task: Task, key: tuple[tuple[str, ...], str]) -> CacheSet:
    policy = task.node.cache_policy
    assert policy is not None
    return CacheSet(p.cache, {key: ([list(w) for w in task.writes], policy.ttl)})


def _task_log_events(p: RunParams, st: RunState, task: Task) -> list[Emit]:
    """The chunks of the @task calls a node made that finished: each call's "tasks" start,
    its {task_name: result} update and its "tasks" result, as LangGraph shows them."""
    out: list[Emit] = []
    shows_tasks = "tasks" in p.modes or "debug" in p.modes
    for name, call_id, call_input, value, cached in task.ctx.task_log:
        if shows_tasks:
            out.extend(_task_events(p, st, "task", {
                "id": call_id, "name": name, "input": call_input, "triggers": (PUSH,)}))
        if "updates" in p.modes:
            out.append(Emit("updates", {name: value, CACHED_KEY: {"cached": True}} if cached
                            else {name: value}))
        if shows_tasks and not cached:
            out.extend(_task_events(p, st, "task_result", {
                "id": call_id, "name": name, "error": None, "result": {"__return__": value},
                "interrupts": []}))
    return out


def _finish_events(p: RunParams, st: RunState, task: Task, seen: set[str],
                   stream_keys: Sequence[str]) -> list[Emit]:
    """The chunks for a task that just finished, paused or failed, in LangGraph's order: its
    messages and update (or its interrupts, in "updates" and in "values" with the state as the
    step began), then its result in "tasks"/"debug"."""
    modes = p.modes
    out: list[Emit] = []
    if task.interrupts:
        if "updates" in modes:
            out.append(Emit("updates", {INTERRUPT: task.interrupts}))
        if "values" in modes:
            out.append(Emit("values", {**_pick(st.values, stream_keys),
                                       INTERRUPT: task.interrupts}))
    elif task.error is None and task.name != START:
        if "messages" in modes:
            out.extend(_message_events(task, seen))
        if "updates" in modes:
            out.append(Emit("updates", {task.name: task.update}))
    if ("tasks" in modes or "debug" in modes) and task.name != START:
        out.extend(_task_events(p, st, "task_result", task_result(p.spec, task)))
    return out


def _outcome_writes(saver: _Saver, st: RunState, task: Task,
                    fresh: dict[str, tuple[list[list[Any]], list[str]]]) -> list[SaveWrites]:
    """The writes recording a task that interrupted or failed.

    A task that failed right after being given answers gets those answers withdrawn (its
    interrupts can be answered again), so a bad answer does not stick to the thread.
    """
    out: list[SaveWrites] = []
    if task.interrupts:  # (its answers so far were saved when they were given)
        writes: list[Write] = [(INTERRUPT, list(task.interrupts))]
    else:
        writes = [(ERROR, repr(task.error))]
        if task.id in fresh:
            log, answered = fresh.pop(task.id)
            log = [*log, *([iid, None, False] for iid in answered)]
            claim = saver.save_writes(st, task, [(RESUME, log)], claim=True)
            if claim is not None:
                out.append(claim)
    effect = saver.save_writes(st, task, writes)
    if effect is not None:
        out.append(effect)
    return out


def _pause(
    p: RunParams, saver: _Saver, st: RunState, interrupts: tuple[Interrupt, ...],
    finished: Sequence[Task] = (), waiting: Sequence[Task] = (),
) -> Generator[Effect, Any, RunResult]:
    """End the run at a breakpoint or interrupt; everything needed to resume is saved.

    Each interrupting task showed its own {"__interrupt__": (...)} chunk when it finished; tasks
    still `waiting` for an answer from an earlier run show theirs now. A breakpoint shows
    {"__interrupt__": ()}. Then, as LangGraph does, "values" shows the state with the writes
    of the step's finished tasks, if they changed it.
    """
    yield from saver.flush()
    values = st.values
    keys = p.stream_keys or p.spec.output_keys
    updated: list[str] = []
    if finished:
        scratch = RunState(values=dict(values), versions={}, barriers=dict(st.barriers),
                           triggers=[], sends=[])
        updated, _, _ = apply_writes(p.spec, scratch, finished, step=st.step + 1)
        values = scratch.values
    out = output_values(p.spec, values)
    for task in sorted(waiting, key=task_sort_key):
        yield from _finish_events(p, st, task, set(), keys)
    if not interrupts and "updates" in p.modes:
        yield Emit("updates", {INTERRUPT: ()})
    if interrupts and "values" in p.modes and any(k in keys for k in updated):
        yield Emit("values", _pick(values, keys))
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
    metadata = _meta(p, source, st.step)
    if p.ns and start is not None and not p.parents:
        # A subgraph's checkpoint edited through its checkpoint_ns: it keeps its enclosing runs.
        metadata["parents"] = dict(start.metadata.get("parents") or {})
    yield saver.put(st.checkpoint(), metadata, new_versions)
    return patch_checkpoint_map(_thread_config(p, st.id), metadata, last=True) or {}


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
