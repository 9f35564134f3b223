"""One superstep: plan the tasks, reuse what an earlier run of the step finished, look the
cache up, run the rest, record each outcome, apply the writes and save the checkpoint."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitlgraph.cache.base import WRITES_NS, cache_key, identifier
from hitlgraph.checkpoint.base import BaseCheckpointSaver, traits_of
from hitlgraph.constants import ERROR, INTERRUPT, NO_WRITES, RESUME, START, TASKS
from hitlgraph.errors import GraphRecursionError
from hitlgraph.pregel._algo import (
    _MISSING,
    Pending,
    RunState,
    Task,
    answers_in_force,
    apply_writes,
    managed_values,
    output_values,
    plan_tasks,
    task_sort_key,
    with_managed,
)
from hitlgraph.pregel._call import run_start
from hitlgraph.pregel._effects import (
    NEXT,
    Abandoned,
    CacheGet,
    CacheSet,
    Effect,
    Emit,
    RunOne,
    RunResult,
    SaveWrites,
    Start,
)
from hitlgraph.pregel._emit import (
    CACHED_KEY,
    checkpoint_events,
    finish_events,
    pick,
    task_events,
    task_log_events,
    update_of,
)
from hitlgraph.pregel._open import Answered, LoopState
from hitlgraph.pregel._params import RunParams, checkpoint_metadata
from hitlgraph.pregel._saving import RunSaver
from hitlgraph.pregel._spec import Write
from hitlgraph.pregel._stream import task_start
from hitlgraph.types import Interrupt

CacheKey = tuple[tuple[str, ...], str]
_TASK_MODES = frozenset({"tasks", "debug"})


@dataclass(slots=True, init=False)
class StepRun:
    """One step's tasks as they run."""

    tasks: list[Task]
    todo: list[Task]
    """The tasks that run now (not reused, not from the cache, not waiting for an answer)."""
    lone: bool = False
    """A single task runs, alone in its step: its writes are saved with the checkpoint that
    follows, and its chunks are shown once that checkpoint is saved (as in LangGraph), so a
    consumer that stops reading after one finds the step done."""
    cache_keys: dict[str, CacheKey] | None = None
    """Where the writes of tasks whose node has a cache policy go (None: no cache)."""
    held: list[Emit] = field(default_factory=list)
    """Chunks shown after the step's checkpoint is saved."""
    deferred: list[SaveWrites] | None = None
    """Writes saved in the same transaction as the step's checkpoint (None: each task's are
    saved as it finishes). A lone task's are, and every task's with a saver that keeps all
    in memory: no crash can keep one task's writes there, and one call per step is cheaper
    than a call per task. Once a task pauses or fails, those wait no more."""
    stopped: bool = False
    """A task paused at an interrupt or failed: the step will not be applied."""

    def __init__(self, tasks: list[Task], todo: list[Task]) -> None:
        # (written out: the generated __init__ takes every field, and calls a factory for
        # `held`; one StepRun is made per step)
        self.tasks = tasks
        self.todo = todo
        self.lone = False
        self.cache_keys = None
        self.held = []
        self.deferred = None
        self.stopped = False


def superstep(p: RunParams, ls: LoopState) -> Generator[Effect, Any, RunResult | None]:
    """Run one step; return how the run ended (finished, paused), or None to go on."""
    st = ls.st
    if st.step > ls.stop:
        raise _recursion_error(p)
    tasks = ls.planned
    if tasks is not None:  # (opening the run planned them)
        ls.planned = None
    else:
        tasks = plan_tasks(p.spec, st, p.scope)
    if len(tasks) > 1:  # run (and show) them in LangGraph's loop order
        tasks.sort(key=run_order)
    values = st.values  # (what the step's conditional edges read)
    if p.spec.managed:
        values = _with_managed(p, ls, tasks)
    if ls.saver.track and p.checkpointed and ls.reported != st.id:
        yield from _checkpoint_chunks(p, ls, tasks)  # (Emit: the reply is None)
    if not tasks and not ls.extra:
        if ls.saver.unsaved is not None or ls.saver.buffered:  # (RunSaver.flush has work)
            yield from ls.saver.flush()
        live = st.live
        shown = {**st.values, **live.unshown} if live and live.unshown else st.values
        return RunResult(values=output_values(p.spec, shown))
    if p.interrupt_before and not ls.skip_before and hits(tasks, p.interrupt_before):
        return (yield from pause(p, ls.saver, ls.st, ()))
    ls.skip_before = False
    pending = ls.pending
    if pending.task_results or pending.writes or pending.resumes or pending.interrupts:
        todo, reused, unanswered = _reuse(ls, tasks)
    else:  # (the usual step: nothing left by an earlier run of it)
        todo, reused, unanswered = tasks, [], []
    run = StepRun(tasks, todo)
    cached = (yield from _from_cache(p, ls, run)) if p.cache is not None else []
    run.lone = len(run.todo) == 1 and len(tasks) == 1
    if run.lone or (len(run.todo) > 1 and p.saver is not None and _in_memory(p.saver)):
        run.deferred = []
    # (the phases below return their effects as lists: the replies to them are not needed)
    if reused or cached or (p.modes and not p.modes.isdisjoint(_TASK_MODES)):
        for effect in _announce(p, ls, run, reused, cached):
            yield effect
    if run.lone:
        task = run.todo[0]
        if task.name != START or not run_start(p.spec, task):
            task = yield RunOne(task, values)
        for effect in _record(p, ls, run, task):
            yield effect
    elif run.todo:
        yield from _run_parallel(p, ls, run, values)
    if run.stopped or unanswered:
        for effect in run.deferred or ():  # (the finished tasks' writes, held for the step)
            yield effect
        return (yield from _stop(p, ls, tasks, unanswered))
    for effect in _apply(p, ls, run):
        yield effect
    if p.interrupt_after and hits(tasks, p.interrupt_after):
        return (yield from pause(p, ls.saver, ls.st, ()))
    return None


def _run_parallel(p: RunParams, ls: LoopState, run: StepRun, values: dict[str, Any]
                  ) -> Generator[Effect, Any, None]:
    """Run the step's tasks together, recording each as it finishes. A consumer that stops
    reading meanwhile (Abandoned) keeps the writes of the tasks that finished."""
    yield Start(run.todo, values)
    try:
        for _ in range(len(run.todo)):
            for effect in _record(p, ls, run, (yield NEXT)):
                yield effect
    except Abandoned:
        held, run.deferred = run.deferred or [], None
        for effect in held:  # (yielded one by one: the replies must not reach a list)
            yield effect
        raise


def _in_memory(saver: BaseCheckpointSaver) -> bool:
    traits = traits_of(saver)
    return traits.in_process and traits.step_writes


def hits(tasks: Sequence[Task], names: tuple[str, ...]) -> bool:
    """Whether a breakpoint on `names` stops before or after these tasks."""
    if not names:
        return False
    every = "*" in names
    return any(t.name != START and (every or t.name in names) for t in tasks)


def _recursion_error(p: RunParams) -> GraphRecursionError:
    return GraphRecursionError(
        f"Recursion limit of {p.recursion_limit} reached without hitting a stop condition. "
        "You can increase the limit by setting the `recursion_limit` config key, e.g. "
        "graph.invoke(inputs, {'recursion_limit': 100}), or check the graph for a loop "
        "that never reaches END."
    )


def _with_managed(p: RunParams, ls: LoopState, tasks: list[Task]) -> dict[str, Any]:
    """Give the tasks their input with the graph's managed values; return the state with
    them (what conditional edges read). LangGraph counts its steps one past ours: its step
    is the one the tasks run in, its stop the first step past the limit."""
    view = {**ls.st.values, **managed_values(p.spec, ls.st.step + 1, ls.stop + 1)}
    with_managed(tasks, view)
    return view


def run_order(task: Task) -> tuple[int, Any]:
    """The order a step's tasks start in, as in LangGraph's loop: Sends first (in order),
    then triggered nodes by name. (Writes are applied in path order; snapshots list tasks in
    the order the nodes were added.)"""
    return (1, task.name) if len(task.path) == 2 else (0, task.path[1])


def _checkpoint_chunks(p: RunParams, ls: LoopState, tasks: list[Task]) -> list[Emit]:
    """The "checkpoints"/"debug" chunks of the checkpoint the step starts from (once)."""
    ls.reported = ls.st.id
    return checkpoint_events(p, ls.st, ls.saver, tasks, ls.pending)


def _reuse(ls: LoopState, tasks: list[Task]) -> tuple[list[Task], list[Task], list[Task]]:
    """Split the tasks by what an earlier run of this step left: (to run, finished then: their
    writes reused, paused at an interrupt nobody answered yet). Answers given meanwhile go to
    the tasks that asked."""
    pending = ls.pending
    if pending.task_results:
        for task in tasks:
            task.ctx.continue_from(results=pending.task_results)
    if not (pending.writes or pending.resumes or pending.interrupts):
        return tasks, [], []
    todo: list[Task] = []
    reused: list[Task] = []
    unanswered: list[Task] = []
    for task in tasks:
        cached = pending.writes.get(task.id)
        if cached is not None:
            task.writes, task.done = cached, True
            reused.append(task)
            continue
        answered = pending.resumes.get(task.id)
        if answered is not None:  # (answers whose run failed are tried again, as LangGraph)
            retry = pending.retries.get(task.id)
            task.ctx.continue_from(answers={**retry, **answered} if retry else answered,
                                   rerun=True)
        elif task.id in pending.interrupts and task.node.subgraph is None:
            # still unanswered: it would only ask again (a subgraph runs again: its state may
            # have been edited meanwhile, and if not, it asks the same question itself)
            task.interrupts = pending.interrupts[task.id]
            unanswered.append(task)
            continue
        elif task.id in pending.interrupts:
            task.ctx.continue_from(rerun=True)
        if task.id in pending.errors:
            task.ctx.continue_from(rerun=True)
        todo.append(task)
    ls.pending = Pending()
    return todo, reused, unanswered


def _from_cache(p: RunParams, ls: LoopState, run: StepRun) -> Generator[Effect, Any, list[Task]]:
    """Give the tasks whose node has a cache policy their cached writes, if any; return those
    tasks (they do not run)."""
    run.cache_keys = {t.id: _cache_key(t) for t in run.todo if t.node.cache_policy is not None}
    if not run.cache_keys:
        return []
    found = yield CacheGet(p.cache, list(run.cache_keys.values()))
    hit: list[Task] = []
    for task in run.todo:
        key = run.cache_keys.get(task.id)
        if key is not None and key in found:
            task.writes = [(chan, value) for chan, value in found[key]]
            task.done = True
            hit.append(task)
    if hit:
        run.todo = [t for t in run.todo if not t.done]
    return hit


def _cache_key(task: Task) -> CacheKey:
    """Where a task's writes are cached: under its node, by the key of its input."""
    policy = task.node.cache_policy
    assert policy is not None
    ns = (WRITES_NS, identifier(task.node.fn), task.name)
    return ns, cache_key(policy.key_func, task.input)


def _announce(p: RunParams, ls: LoopState, run: StepRun, reused: Sequence[Task],
              cached: Sequence[Task]) -> list[Effect]:
    """Before tasks run: "task" chunks for every task, the writes of cache hits saved as the
    tasks' own, and the "updates" of reused and cached writes."""
    out: list[Effect] = []
    if "tasks" in p.modes or "debug" in p.modes:
        hold = run.held if run.lone and not p.listens else out
        for task in run.tasks:
            if task.name != START:
                hold.extend(task_events(p, ls.st, "task", task_start(task, p.config)))
    for task in cached:
        effect = ls.saver.save_writes(ls.st, task, task.writes or [(NO_WRITES, None)])
        if effect is not None:
            out.append(effect)
    if "updates" in p.modes:
        out.extend(Emit("updates", {task.name: update_of(p.spec, task.writes),
                                    CACHED_KEY: {"cached": True}})
                   for task in [*reused, *cached] if task.name != START)
    return out


def _record(p: RunParams, ls: LoopState, run: StepRun, task: Task) -> list[Effect]:
    """A task finished (or paused, or failed): save its writes (a lone task's go with the
    checkpoint), cache them, and show its chunks (a lone task's after the checkpoint)."""
    out: list[Effect] = []
    later = run.held if run.lone else out
    if task.ctx.calls_made is not None:
        later.extend(task_log_events(p, ls.st, task))
        ls.saver.hold_call_results(ls.st, task)
    if task.paused or task.error is not None:
        run.stopped = True
        out[:0], run.held = [*(run.deferred or ()), *run.held], []
        run.deferred = None
        out.extend(_outcome_writes(ls.saver, ls.st, task, ls.fresh))
        out.extend(finish_events(p, ls.st, task, ls.seen))
        return out
    if task.name != START:
        effect = ls.saver.save_writes(ls.st, task, task.writes or [(NO_WRITES, None)])
        if effect is not None and run.deferred is not None:
            run.deferred.append(effect)
        elif effect is not None:
            out.append(effect)
    key = run.cache_keys.get(task.id) if run.cache_keys else None
    if key is not None:
        policy = task.node.cache_policy
        assert policy is not None
        out.append(CacheSet(p.cache, {key: ([list(w) for w in task.writes], policy.ttl)}))
    if p.modes:
        later.extend(finish_events(p, ls.st, task, ls.seen))
    return out


def _outcome_writes(saver: RunSaver, st: RunState, task: Task, fresh: Answered
                    ) -> list[SaveWrites]:
    """The writes recording a task that interrupted or failed.

    A task that failed right after being given answers gets those answers withdrawn (its
    interrupts can be answered again), so a bad answer does not stick to the thread.
    """
    out: list[SaveWrites] = []
    if task.paused:  # (its answers so far were saved when they were given)
        writes: list[Write] = [(INTERRUPT, list(task.interrupts))]
    else:
        writes = [(ERROR, repr(task.error))]
        if task.id in fresh:
            log, answered = fresh.pop(task.id)
            given = answers_in_force(log)
            log = [*log, *([iid, given.get(iid), False] for iid in answered)]
            claim = saver.save_writes(st, task, [(RESUME, log)], claim=True)
            if claim is not None:
                out.append(claim)
    effect = saver.save_writes(st, task, writes)
    if effect is not None:
        out.append(effect)
    return out


def _stop(p: RunParams, ls: LoopState, tasks: Sequence[Task], unanswered: Sequence[Task]
          ) -> Generator[Effect, Any, RunResult]:
    """The step did not finish: raise the first failure, or pause at its interrupts."""
    failed = [t for t in tasks if t.error is not None]
    if failed:
        yield from ls.saver.flush()
        first = min(failed, key=task_sort_key)
        error = first.error
        assert error is not None
        if hasattr(error, "add_note"):
            error.add_note(f"During task with name '{first.name}' and id '{first.id}'")
        raise error
    interrupted = sorted((t for t in tasks if t.interrupts), key=task_sort_key)
    interrupts = tuple(i for t in interrupted for i in t.interrupts)
    finished = [t for t in tasks if not (t.interrupts or t.paused)]
    return (yield from pause(p, ls.saver, ls.st, interrupts, finished, unanswered))


def _apply(p: RunParams, ls: LoopState, run: StepRun) -> list[Effect]:
    """Apply the step's writes, save its checkpoint, then show what was held for after it."""
    st, tasks = ls.st, run.tasks
    updated, triggered, sends = apply_writes(p.spec, st, tasks, ls.extra, step=st.step + 1)
    ls.extra = []
    st.writers = [tasks[0].name] if len(tasks) == 1 else sorted({t.name for t in tasks})
    changed = list(updated)
    if st.live is not None:  # (with the keys a Command's update emptied before the step)
        changed.extend(k for k in st.live.take_unsaved() if k not in updated)
    if ls.preapplied:
        changed.extend(k for k in ls.preapplied if k not in updated)
        ls.preapplied = []
    if st.start_input is not _MISSING:
        st.start_input = _MISSING
        changed.append(START)
    if st.sends or sends:
        changed.append(TASKS)
    st.triggers, st.sends = triggered, sends
    st.step += 1
    st.updated = updated
    out: list[Effect] = []
    if p.checkpointed:
        st.renew()
        saving = ls.saver.save(st, checkpoint_metadata(p, "loop", st.step), st.bump(changed),
                               tuple(run.deferred or ()))
        if saving is not None:
            out.append(saving)
    else:
        st.id = f"step-{st.step}"
    out.extend(run.held)
    keys = p.stream_keys or p.spec.output_keys
    live = st.live
    shows = ("values" in p.modes or live is not None) and any(k in keys for k in updated)
    if live is not None:
        live.shown(shows)
    if shows and "values" in p.modes:
        out.append(Emit("values", pick(st.values, keys)))
    return out


def pause(
    p: RunParams, saver: RunSaver, st: RunState, interrupts: tuple[Interrupt, ...],
    finished: Sequence[Task] = (), waiting: Sequence[Task] = (),
) -> Generator[Effect, Any, RunResult]:
    """End the run at a breakpoint or interrupt; everything needed to resume is saved.

    Each interrupting task showed its own {"__interrupt__": (...)} chunk when it finished; tasks
    still `waiting` for an answer from an earlier run show theirs now. A breakpoint shows
    {"__interrupt__": ()}. Then, as LangGraph does, "values" shows the state with the writes
    of the step's finished tasks, if they changed it.
    """
    if saver.unsaved is not None or saver.buffered:  # (flush has work: no generator else)
        yield from saver.flush()
    values = st.values
    keys = p.stream_keys or p.spec.output_keys
    updated: list[str] = []
    if finished:
        scratch = st.scratch()
        updated, _, _ = apply_writes(p.spec, scratch, finished, step=st.step + 1)
        values = scratch.values
    out = output_values(p.spec, values)
    for task in sorted(waiting, key=task_sort_key):
        yield from finish_events(p, st, task, set())
    if not interrupts and "updates" in p.modes:
        yield Emit("updates", {INTERRUPT: ()})
    if interrupts and "values" in p.modes and any(k in keys for k in updated):
        yield Emit("values", pick(values, keys))
    return RunResult(values=out, interrupts=interrupts, paused=True)
