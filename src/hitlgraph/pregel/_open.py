"""Opening a run: load the thread's checkpoint, then start anew (new input), fork (replay from
an earlier checkpoint) or continue (None, or a Command that answers interrupts), and return the
LoopState the supersteps work on."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hitlgraph._ids import interrupt_id, is_interrupt_id
from hitlgraph.checkpoint._decisions import DecisionNote
from hitlgraph.checkpoint.base import CheckpointTuple
from hitlgraph.checkpoint.serde._errors import refused_checkpoint
from hitlgraph.constants import INTERRUPT, NULL_TASK_ID, RESUME, START
from hitlgraph.errors import CheckpointConflictError, EmptyInputError, ResumeError
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
    plan_tasks,
)
from hitlgraph.pregel._effects import Claim, Effect, Emit, Load, Save, SaveWrites
from hitlgraph.pregel._emit import pick
from hitlgraph.pregel._params import RunParams, checkpoint_metadata, thread_config
from hitlgraph.pregel._saving import RunSaver
from hitlgraph.pregel._spec import GraphSpec, Write
from hitlgraph.review._answers import check_answer
from hitlgraph.review._approvals import APPROVAL, check_approver, is_approval_entry, tally
from hitlgraph.review._groups import groups_in
from hitlgraph.types import Command, Interrupt

Answered = dict[str, tuple[list[list[Any]], list[str]]]
"""Interrupts this run's Command answered, per task: (the task's resume log, their ids)."""


@dataclass(slots=True, init=False)
class LoopState:
    """What the supersteps of one run carry from one step to the next."""

    st: RunState
    """The graph's state: values, versions, what the next step runs."""
    saver: RunSaver
    pending: Pending
    """The writes saved for the next step's tasks by an earlier run (reused, not run again)."""
    stop: int = 0
    """The last step the recursion limit allows."""
    extra: list[Write] = field(default_factory=list)
    """Writes of Command(update=..., goto=...), applied with the next step's."""
    planned: list[Task] | None = None
    """The next step's tasks, when opening the run planned them already."""
    skip_before: bool = False
    """The next step continues a paused one: its interrupt_before breakpoint was hit before."""
    fresh: Answered = field(default_factory=dict)
    preapplied: list[str] = field(default_factory=list)
    """State keys a Command's update wrote before the first step ran (saved with its
    checkpoint)."""
    reported: str = ""
    """The checkpoint last shown in "checkpoints"/"debug" chunks."""
    seen: set[str] = field(default_factory=set)
    """Ids of the messages shown in "messages" chunks."""

    def __init__(self, st: RunState, saver: RunSaver, pending: Pending) -> None:
        # (written out: the generated __init__ takes every field and calls a factory for
        # four of them; one LoopState is made per run)
        self.st = st
        self.saver = saver
        self.pending = pending
        self.stop = 0
        self.extra = []
        self.planned = None
        self.skip_before = False
        self.fresh = {}
        self.preapplied = []
        self.reported = ""
        self.seen = set()


def open_run(p: RunParams, savers: list[RunSaver]) -> Generator[Effect, Any, LoopState]:
    """Load the thread and prepare the first step; `savers` gets the run's RunSaver as soon as
    it exists (run_loop flushes it when the consumer leaves early)."""
    if not p.checkpointed:
        start, latest_id, replay = None, "", False
    elif p.start_from is None and p.config["configurable"].get("checkpoint_id") is None:
        start = yield Load(thread_config(p))  # (_load's usual case, without its generator)
        latest_id, replay = start.checkpoint["id"] if start is not None else "", False
    else:
        start, latest_id, replay = yield from _load(p)
    saver = RunSaver(p, latest_id)
    savers.append(saver)
    ls, prev_step = _state_from(p, start, saver)
    inp = p.input
    if p.parent is not None and p.parent.rerun and start is not None:
        # the enclosing task runs again: its subgraph continues where it stopped (a finished
        # one returns its state without running again), as in LangGraph
        inp = _subgraph_resume(p, ls, start)
    if inp is not None and not isinstance(inp, Command):
        saving = _begin(p, ls, start, inp, prev_step)
        if saving is not None:
            yield saving
        return ls
    if isinstance(inp, Command) and _is_empty(inp):
        raise EmptyInputError(
            "Command() carries nothing to do (resume, update and goto are all None): a "
            "paused thread is left as it is. To answer an interrupt with None, name it: "
            "Command(resume={interrupt.id: None}); to continue without an answer, invoke(None)."
        )
    if start is None:
        raise _nothing_to_continue(p, inp)
    ls.st.step = prev_step
    if replay and not isinstance(inp, Command):
        yield from _fork(p, ls)
    saved = null_writes(start)
    if saved:  # an earlier resume's update: part of this checkpoint's state
        _apply_update(p, ls, saved)
    if isinstance(inp, Command):
        yield from _command(p, ls, start, inp)
    ls.stop = ls.st.step + p.recursion_limit + 1
    ls.skip_before = True
    if "values" in p.modes:
        yield Emit("values", pick(ls.st.values, p.stream_keys or p.spec.output_keys))
    return ls


def _load(p: RunParams) -> Generator[Effect, Any, tuple[CheckpointTuple | None, str, bool]]:
    """The checkpoint the run starts from, the thread's latest checkpoint id, and whether the
    run replays an earlier checkpoint."""
    requested = p.config["configurable"].get("checkpoint_id")
    given, p.start_from = p.start_from, None  # (once: a run opened again reads the thread)
    if given is not None and requested is None:
        start = given.latest
    else:
        start = yield Load(thread_config(p, requested))
    if requested is None:
        return start, start.checkpoint["id"] if start is not None else "", False
    if start is None:
        raise ValueError(
            f"Thread '{p.thread_id}' has no checkpoint '{requested}'. Pick one from "
            "get_state_history(config)."
        )
    latest = yield Load(thread_config(p))
    latest_id = latest.checkpoint["id"] if latest else ""
    return start, latest_id, requested != latest_id


def _state_from(p: RunParams, start: CheckpointTuple | None, saver: RunSaver
                ) -> tuple[LoopState, int]:
    """The loop state at `start` (a fresh graph without one), and the step it was saved at."""
    if start is None:
        return LoopState(RunState.fresh(p.spec), saver, Pending()), -2
    st = RunState.from_checkpoint(p.spec, start.checkpoint)
    saver.parent = st.id
    saver.source_of[st.id] = str(start.metadata.get("source", "loop"))
    saver.parent_of[st.id] = (
        start.parent_config["configurable"]["checkpoint_id"] if start.parent_config else None
    )
    return LoopState(st, saver, pending_at(start)), int(start.metadata.get("step", -1))


def pending_at(tup: CheckpointTuple) -> Pending:
    """The pending writes of a stored checkpoint, grouped by task.

    Savers store whatever a caller writes (as LangGraph's do), so the shape of the engine's
    own `__interrupt__` and `__resume__` writes is checked here: a damaged or hand-edited one
    is refused with a CorruptCheckpointError naming the thread and checkpoint, rather than
    an AttributeError or KeyError from deep inside a step.
    """
    writes = tup.pending_writes
    if not writes:
        return Pending()
    saved_update = False  # (a resume's update, under NULL_TASK_ID: not a task's writes)
    try:
        for tid, channel, value in writes:
            if channel == INTERRUPT:
                _check_interrupts(value)
            elif channel == RESUME:
                _check_resume_log(value)
            if tid == NULL_TASK_ID:
                saved_update = True
    except (TypeError, ValueError) as exc:
        conf = tup.config.get("configurable", {})
        raise refused_checkpoint(exc, str(conf.get("thread_id")), str(conf.get(
            "checkpoint_ns", "")), str(conf.get("checkpoint_id"))) from exc
    pending = Pending.of([w for w in writes if w[0] != NULL_TASK_ID] if saved_update else writes)
    if pending.resume_log:  # (only answers can wait for more answers)
        _hold_approvals(pending)
    return pending


def null_writes(tup: CheckpointTuple) -> list[Write]:
    """The writes of the Command(update=..., goto=...) a resume saved on `tup` (under
    NULL_TASK_ID, as LangGraph saves them): the update is part of that checkpoint's state."""
    return [(chan, value) for tid, chan, value in tup.pending_writes or ()
            if tid == NULL_TASK_ID]


def state_of(spec: GraphSpec, tup: CheckpointTuple) -> RunState:
    """The state `tup` holds, with a resume's update saved on it applied: what a snapshot of
    it shows, as LangGraph's get_state and get_state_history do (its goto is not shown)."""
    st = RunState.from_checkpoint(spec, tup.checkpoint)
    if not tup.pending_writes:  # (the usual checkpoint: nothing saved on it)
        return st
    update = [(chan, value) for chan, value in null_writes(tup) if chan in spec.channels]
    if update:
        apply_writes(spec, st, [], update, step=int(tup.metadata.get("step", -1)) + 1)
        if st.live is not None:
            st.live.settle(st.values)
    return st


def _check_interrupts(value: Any) -> None:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"an {INTERRUPT} write holds {type(value).__name__}, not a list")
    for item in value:
        if not isinstance(item, Interrupt) or not isinstance(item.id, str) or not item.id:
            raise TypeError(f"an {INTERRUPT} write holds {item!r}, not an Interrupt with an id")


def _check_resume_log(value: Any) -> None:
    if not isinstance(value, list):
        raise TypeError(f"a {RESUME} write holds {type(value).__name__}, not a list")
    for entry in value:
        if (not isinstance(entry, (list, tuple)) or len(entry) != 3
                or not isinstance(entry[0], str) or not isinstance(entry[2], bool)):
            raise TypeError(f"a {RESUME} write holds the entry {entry!r}, not [interrupt "
                            "id, answer, in force]")
        if is_approval_entry(entry) and not (isinstance(entry[1], dict)
                                             and isinstance(entry[1].get("by"), str)):
            raise TypeError(f"a {RESUME} write holds the approval {entry!r} without its 'by'")


def _subgraph_resume(p: RunParams, ls: LoopState, start: CheckpointTuple) -> Any:
    """The input of a subgraph whose parent task runs again after a pause: continue where it
    stopped, with the answers the parent was given for this subgraph's interrupts."""
    parent = p.parent
    probe = plan_tasks(p.spec, ls.st, p.scope, with_inputs=False)
    open_ = ls.pending.open_interrupts(t.id for t in probe)
    answers = {iid: parent.resume[iid] for iid in open_ if iid in parent.resume}
    if not open_ and len(parent.resume) == 1 and start.metadata.get("source") == "update":
        # The subgraph's state was edited while it waited: the answer goes to the node that
        # waited, as for an edited top-level thread.
        return Command(resume=next(iter(parent.resume.values())))
    return Command(resume=answers) if answers else None


def _begin(p: RunParams, ls: LoopState, start: CheckpointTuple | None, inp: Any,
           prev_step: int) -> Save | None:
    """New input: abandon whatever was pending and start from START; the effect saving the
    input checkpoint (None when the run's durability holds it back).

    An input the START task would refuse (not a dict or a state object, or a key the state
    lacks) raises InvalidUpdateError here, before the input checkpoint is saved: a paused
    thread keeps its question (LangGraph saves the input first, then fails)."""
    spec, st = p.spec, ls.st
    if not spec.direct_input and not (type(inp) is dict and inp.keys() <= spec.channels.keys()):
        node_writes(spec, START, inp)  # refused before anything is saved (see _begin's doc)
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
    saving = ls.saver.save(st, checkpoint_metadata(p, "input", st.step), new)
    if start is not None:  # (without one, the loop state's Pending is a fresh one already)
        ls.pending = Pending()
    ls.stop = st.step + p.recursion_limit
    return saving


def _nothing_to_continue(p: RunParams, inp: Any) -> EmptyInputError:
    if isinstance(inp, Command):
        return EmptyInputError(
            f"Command(...) was given for thread '{p.thread_id}', which has no checkpoint "
            "to resume. Start the thread with an input dict first."
            if p.checkpointed else
            "Command(...) needs a checkpointer: compile the graph with checkpointer=..."
        )
    return EmptyInputError(
        "Received no input for __start__: "
        + (f"thread '{p.thread_id}' has no checkpoint to continue. " if p.checkpointed else "")
        + "Pass an input dict to start the graph."
    )


def _fork(p: RunParams, ls: LoopState) -> Generator[Effect, Any, None]:
    """Replaying from an earlier checkpoint: fork a copy and run its tasks anew."""
    ls.st.step += 1
    ls.st.renew()
    saving = ls.saver.save(ls.st, checkpoint_metadata(p, "fork", ls.st.step), {})
    if saving is not None:
        yield saving
    ls.pending = Pending()


def _command(p: RunParams, ls: LoopState, start: CheckpointTuple, cmd: Command[Any]
             ) -> Generator[Effect, Any, None]:
    """Continue with Command(resume=..., update=..., goto=...): claim the answers (saved at
    once, compare-and-set, with a note for the saver's decision log), then apply the update
    and goto before the step runs (as LangGraph does: the resumed node sees the update, and a
    goto target runs in the same step)."""
    # planned with inputs: the first step runs these same tasks
    probe = ls.planned = plan_tasks(p.spec, ls.st, p.scope)
    writes = None  # (an update the graph refuses is refused before any answer is claimed)
    if cmd.update is not None or cmd.goto:
        writes = command_writes(p.spec, START, Command(update=cmd.update, goto=cmd.goto))
    if cmd.resume is not None:
        edited = (yield from _edited_while_waiting(p, ls, start, cmd.resume, probe)) if (
            start.metadata.get("source") == "update") else None  # (the usual resume: no edit)
        for tid, given in _resume_writes(p, cmd.resume, edited or ls.pending, probe).items():
            task = next(t for t in probe if t.id == tid)
            effect = _claim(p, ls, cmd, task, given)
            if effect is not None:
                lost = yield Claim(effect)
                if lost is not None:
                    raise Recount(lost) if _counted(given) else lost
    if writes is not None:
        if not probe:  # nothing waits to run: the writes make a step of their own
            ls.extra = writes
            return
        yield from _save_update(ls, start, writes, probe[0])
        _apply_update(p, ls, writes)


def _save_update(ls: LoopState, start: CheckpointTuple, writes: list[Write], task: Task
                 ) -> Generator[Effect, Any, None]:
    """Save a resume's update (and goto) on the checkpoint it resumes, as LangGraph does:
    history shows it there, and it is not lost when the resumed node pauses again or fails
    (the next run from that checkpoint applies it, see open_run). Saved after the answers'
    claim: a resume that lost its race saves nothing."""
    # Writes keep their slot (the first one saved wins), so an earlier update on the same
    # checkpoint is saved again in front of this one.
    carrier = replace(task, id=NULL_TASK_ID, name="", path=("", ""))  # (saved as task path "")
    effect = ls.saver.save_writes(ls.st, carrier, [*null_writes(start), *writes])
    if effect is not None:
        yield effect


def _apply_update(p: RunParams, ls: LoopState, writes: list[Write]) -> None:
    """Apply a Command's update and goto before the first step: the resumed node sees the
    update, and a goto target runs in the same step (as in LangGraph)."""
    updated, triggered, sends = apply_writes(p.spec, ls.st, [], writes, step=ls.st.step + 1)
    order = p.spec.node_order.__getitem__
    ls.st.triggers = sorted({*ls.st.triggers, *triggered}, key=order)
    ls.st.sends = [*ls.st.sends, *sends]
    ls.preapplied = [*ls.preapplied, *(k for k in updated if k not in ls.preapplied)]
    ls.planned = plan_tasks(p.spec, ls.st, p.scope)  # (inputs with the update)


class Recount(Exception):
    """An answer to a k-of-n interrupt lost its claim to another principal's answer given at
    the same moment: run_loop opens the run again, so the answer is counted on the newer
    checkpoint (a plain resume that loses raises CheckpointConflictError instead: one answer
    wins)."""

    def __init__(self, lost: CheckpointConflictError) -> None:
        super().__init__(str(lost))
        self.lost = lost


def _counted(given: dict[str, tuple[Any, Interrupt]]) -> bool:
    """Whether an answer of `given` counts towards a k-of-n interrupt."""
    return any(asked.policy is not None and asked.policy.approvals > 1
               for _, asked in given.values())


def _claim(p: RunParams, ls: LoopState, cmd: Command[Any], task: Task,
           given: dict[str, tuple[Any, Interrupt]]) -> SaveWrites | None:
    """Add the answers a Command gives one task to its resume log, and the effect claiming
    the log (compare-and-set, with a note for the saver's decision log).

    An answer to an interrupt asked with approvals=k counts towards it (review._approvals)
    and is in force only once the interrupt decides; until then the task keeps waiting."""
    tid, pending = task.id, ls.pending
    log = list(pending.resume_log.get(tid, ()))
    decided: list[str] = []
    groups = groups_in(p.config)
    for iid, (answer, asked) in given.items():
        policy = asked.policy
        if policy is None or policy.approvals <= 1 or p.parent is not None:
            # (a subgraph is given what its parent's tally decided, and checked)
            if policy is not None and p.parent is None:
                check_approver(policy, iid, cmd.by, p.thread_id, groups)
            log.append([iid, answer, True])
        else:
            log.extend(tally(policy, log, iid, answer, cmd.by, p.thread_id, groups))
        if log[-1][0] == iid:
            decided.append(iid)
    pending.resume_log[tid] = log
    pending.resumes[tid] = answers_in_force(log)
    if decided:
        ls.fresh[tid] = (log, decided)
    _hold_task(pending, tid, log)
    effect = ls.saver.save_writes(ls.st, task, [(RESUME, log)], claim=True)
    if effect is not None and p.parent is None:  # (a subgraph's claim repeats its parent's)
        answers = tuple((iid, answer) for iid, (answer, _) in given.items())
        effect.config = DecisionNote("answered", answers, cmd.by, cmd.reason).on(effect.config)
    return effect


def _hold_approvals(pending: Pending) -> None:
    """Tasks waiting for more answers to a k-of-n interrupt stay paused: none of the
    interrupts they raised has an answer in force or to retry (their log only counts
    answers), so running them again would only ask again (and rerun the node's code)."""
    for tid, log in pending.resume_log.items():
        _hold_task(pending, tid, log)


def _hold_task(pending: Pending, tid: str, log: list[list[Any]]) -> None:
    """_hold_approvals for one task's resume log (_claim changes one log: the others were
    held when the checkpoint's writes were read, by pending_at)."""
    for entry in log:
        if is_approval_entry(entry):
            break
    else:
        return
    retries = {k: v for k, v in pending.retries.get(tid, {}).items()
               if not k.startswith(APPROVAL)}
    pending.retries[tid] = retries
    given = {**pending.resumes.get(tid, {}), **retries}
    raised = pending.interrupts.get(tid, ())
    if raised and not any(intr.id in given for intr in raised):
        pending.resumes.pop(tid, None)
        pending.retries.pop(tid, None)


def _edited_while_waiting(p: RunParams, ls: LoopState, start: CheckpointTuple, resume: Any,
                          probe: Sequence[Task]) -> Generator[Effect, Any, Pending | None]:
    """When the state was edited (update_state) while a node waited at interrupt(), the open
    interrupt the answer goes to: that node's first interrupt() when it runs again (as
    LangGraph does). None otherwise."""
    if (ls.pending.interrupts or start.metadata.get("source") != "update"
            or not start.parent_config):
        return None
    before = yield Load(start.parent_config)
    if before is None:
        return None
    asked = pending_at(before)
    prior = RunState.from_checkpoint(p.spec, before.checkpoint)
    # the node's name -> the review policy of the interrupt it waited at (an answer to a
    # k-of-n interrupt still counts as one answer)
    waiting = {
        t.name: next((intr.policy for intr in asked.interrupts[t.id]), None)
        for t in plan_tasks(p.spec, prior, p.scope, with_inputs=False)
        if t.id in asked.interrupts and t.id not in asked.writes
    }
    again = [t for t in probe if t.name in waiting]
    if len(again) != 1 or answers_by_id(resume):
        return None
    task = again[0]
    return Pending(interrupts={task.id: (Interrupt(value=None, id=interrupt_id(task.id, 0),
                                                   policy=waiting[task.name]),)})


def answers_by_id(resume: Any) -> bool:
    """Whether a resume value maps interrupt ids to answers (rather than being one answer)."""
    return isinstance(resume, dict) and bool(resume) and all(is_interrupt_id(k) for k in resume)


def _resume_writes(
    p: RunParams, resume: Any, pending: Pending, tasks: Sequence[Task]
) -> dict[str, dict[str, tuple[Any, Interrupt]]]:
    """The new answers per task (by interrupt id, with the interrupt they answer) that
    Command(resume=...) gives, checked against the open interrupts."""
    open_ = pending.open_interrupts(t.id for t in tasks)
    answers: dict[str, dict[str, tuple[Any, Interrupt]]] = {}
    if answers_by_id(resume):
        for iid, value in resume.items():
            if iid not in open_:
                known = ", ".join(f"'{i}'" for i in open_) or "none"
                raise ResumeError(
                    f"Command(resume=...) answers interrupt '{iid}', which thread "
                    f"'{p.thread_id}' is not waiting for (unknown, or already answered). "
                    f"Open interrupts: {known}. Read them with get_state(config).interrupts."
                )
            tid, asked = open_[iid]
            _check(p, iid, asked, value)
            answers.setdefault(tid, {})[iid] = (value, asked)
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
    iid, (tid, asked) = next(iter(open_.items()))
    _check(p, iid, asked, resume)
    return {tid: {iid: (resume, asked)}}


def _check(p: RunParams, iid: str, asked: Interrupt, answer: Any) -> None:
    """Refuse an answer that does not match the interrupt's response_schema. A subgraph's
    k-of-n interrupt gets the list of answers its parent's tally decided: each was checked
    when it was given."""
    policy = asked.policy
    if p.parent is not None and policy is not None and policy.approvals > 1:
        return
    check_answer(iid, asked.response_schema, answer)


def _is_empty(cmd: Command[Any]) -> bool:
    """A Command that answers nothing, updates nothing and goes nowhere."""
    return cmd.resume is None and cmd.update is None and not cmd.goto and cmd.graph is None
