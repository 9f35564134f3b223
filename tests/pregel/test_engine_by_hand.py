"""The superstep machine (`run_loop`) driven by hand, for the cases that are hard to reach
through invoke(): each test plays the driver and the nodes, sends its replies into the
generator, and checks the exact effects the engine asks for. No saver, no threads, no event
loop: what a driver does with an effect is the test's choice, so each test can put the engine in
the state it needs (a thread paused mid-step, a task that fails beside one that finished)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import pytest
from typing_extensions import TypedDict

from hitlgraph._ids import interrupt_id, pull_task_id
from hitlgraph._policy import ReviewPolicy
from hitlgraph.checkpoint.base import Checkpoint, CheckpointTuple, PendingWrite, rules_of
from hitlgraph.constants import ERROR, INTERRUPT, RESUME, START
from hitlgraph.errors import CheckpointConflictError
from hitlgraph.graph import StateGraph
from hitlgraph.pregel._algo import Task, edge_writes, node_writes
from hitlgraph.pregel._effects import (
    Claim,
    Effect,
    Emit,
    Load,
    Next,
    RunOne,
    RunResult,
    Save,
    SaveWrites,
    Start,
)
from hitlgraph.pregel._loop import run_loop
from hitlgraph.pregel._params import RunParams
from hitlgraph.pregel._spec import GraphSpec
from hitlgraph.types import Command, Interrupt

THREAD = "by-hand"
STEP_0 = "1f000000-0000-6000-8000-000000000001"
"""The id of the checkpoint that tests starting mid-thread load: fan_out() after step 0."""

Steps = Generator[Effect, Any, RunResult]
E = TypeVar("E")


class Pair(TypedDict, total=False):
    left_said: str
    right_said: str


class Post(TypedDict, total=False):
    topic: str
    text: str
    published: bool


def _never_called(state: Any) -> None:
    raise AssertionError("the test plays the nodes; the engine must not call them")


def fan_out() -> GraphSpec:
    """START -> left and START -> right: two tasks in one step."""
    builder = StateGraph(Pair).add_node("left", _never_called).add_node("right", _never_called)
    return builder.add_edge(START, "left").add_edge(START, "right").compile().spec


def draft_then_publish() -> GraphSpec:
    """START -> draft -> publish: one task per step."""
    builder = StateGraph(Post).add_node("draft", _never_called)
    builder.add_node("publish", _never_called)
    return builder.add_edge(START, "draft").add_edge("draft", "publish").compile().spec


def params(spec: GraphSpec, value: Any, *, modes: tuple[str, ...] = (),
           interrupt_before: tuple[str, ...] = ()) -> RunParams:
    """A checkpointed run of `spec` on THREAD, saving synchronously (as invoke() would make)."""
    return RunParams(spec=spec, input=value, config={"configurable": {"thread_id": THREAD}},
                     checkpointed=True, modes=frozenset(modes), interrupt_before=interrupt_before,
                     interrupt_after=(), durability="sync", recursion_limit=25)


def expect(run: Steps, kind: type[E], reply: Any = None) -> E:
    """Send `reply` to the effect the engine asked for last; the next one must be a `kind`."""
    effect = run.send(reply)
    assert type(effect) is kind, f"expected {kind.__name__}, the engine asked for {effect!r}"
    return effect


def ended(run: Steps, reply: Any = None) -> RunResult:
    """Send `reply` to the last effect; the run must end there."""
    with pytest.raises(StopIteration) as stop:
        run.send(reply)
    result = stop.value.value
    assert isinstance(result, RunResult)
    return result


def stored(checkpoint_id: str) -> dict[str, Any]:
    """The config a saver's put() returns for `checkpoint_id` (the reply to a Save)."""
    return {"configurable": {"thread_id": THREAD, "checkpoint_ns": "",
                             "checkpoint_id": checkpoint_id}}


def as_loaded(save: Save, pending: list[PendingWrite] | None = None) -> CheckpointTuple:
    """What a saver's get_tuple() gives back after storing `save` (the reply to a Load)."""
    parent = save.config["configurable"].get("checkpoint_id")
    return CheckpointTuple(stored(save.checkpoint["id"]), save.checkpoint, save.metadata,
                           stored(parent) if parent else None, pending or [])


def returned(spec: GraphSpec, task: Task, update: Any) -> Task:
    """Play the node of `task`: it returned `update` (writes, then its static edges')."""
    writes, task.update = node_writes(spec, task.name, update)
    task.writes = [*writes, *edge_writes(task.node)]
    return task


def fan_out_after_step_0(pending: list[PendingWrite]) -> CheckpointTuple:
    """The thread of fan_out() after step 0 (left and right both to run), with `pending`."""
    checkpoint = Checkpoint(v=1, id=STEP_0, ts="2025-01-01T00:00:00+00:00",
                            channel_values={}, channel_versions={START: 1},
                            triggers=["left", "right"], updated_channels=[], writers=[START])
    return CheckpointTuple(stored(STEP_0), checkpoint, {"source": "loop", "step": 0},
                           None, pending)


def task_of(name: str) -> str:
    """The id of the task running `name` in the step after STEP_0."""
    return pull_task_id(STEP_0, "", name)


def test_resume_claims_the_answer_reruns_only_the_paused_task_and_reuses_the_finished_one(
) -> None:
    spec = fan_out()
    asked = Interrupt(value="publish?", id=interrupt_id(task_of("right"), 0))
    loaded = fan_out_after_step_0([(task_of("left"), "left_said", "done"),
                                (task_of("right"), INTERRUPT, [asked])])
    run = run_loop(params(spec, Command(resume="yes")))

    load = expect(run, Load)
    assert load.config == {"configurable": {"thread_id": THREAD, "checkpoint_ns": ""}}
    claim = expect(run, Claim, loaded).writes
    assert (claim.task_id, claim.task_path) == (task_of("right"), "right")
    assert claim.writes == [(RESUME, [[asked.id, "yes", True]])]
    assert claim.config["configurable"]["checkpoint_id"] == STEP_0
    assert rules_of(claim.config).expected_latest == STEP_0  # compare-and-set
    start = expect(run, Start)
    (right,) = start.tasks  # left finished before the pause: not run again
    assert (right.name, right.ctx.resume) == ("right", {asked.id: "yes"})
    expect(run, Next)
    writes = expect(run, SaveWrites, returned(spec, right, {"right_said": "yes"}))
    assert (writes.task_id, writes.writes) == (task_of("right"), [("right_said", "yes")])
    save = expect(run, Save)
    assert save.checkpoint["channel_values"] == {"left_said": "done", "right_said": "yes"}
    assert save.metadata["step"] == 1
    assert save.config["configurable"]["checkpoint_id"] == STEP_0  # the parent
    assert rules_of(save.config).expected_latest == STEP_0

    assert ended(run, stored(save.checkpoint["id"])) == RunResult(
        values={"left_said": "done", "right_said": "yes"})


def test_a_lost_claim_raises_for_a_plain_interrupt_and_is_counted_again_for_k_of_n() -> None:
    spec = fan_out()
    lost = CheckpointConflictError(THREAD, STEP_0, "newer", answered=True)
    plain = Interrupt(value="publish?", id=interrupt_id(task_of("right"), 0))
    loaded = fan_out_after_step_0([(task_of("right"), INTERRUPT, [plain])])
    run = run_loop(params(spec, Command(resume="yes", by="ann")))
    expect(run, Load)
    expect(run, Claim, loaded)
    with pytest.raises(CheckpointConflictError):
        run.send(lost)  # one answer wins a plain interrupt

    two = Interrupt(value="publish?", id=plain.id, response_schema=None,
                    policy=ReviewPolicy(approvals=2))
    loaded = fan_out_after_step_0([(task_of("right"), INTERRUPT, [two])])
    run = run_loop(params(spec, Command(resume="yes", by="ann")))
    expect(run, Load)
    expect(run, Claim, loaded)
    load = expect(run, Load, lost)  # the run opens again on the thread's newer checkpoint
    assert load.config == {"configurable": {"thread_id": THREAD, "checkpoint_ns": ""}}
    claim = expect(run, Claim, loaded).writes
    assert claim.writes[0][0] == RESUME


def _run_up_to_breakpoint(spec: GraphSpec) -> tuple[Save, list[Emit]]:
    """The first run of draft_then_publish() with a breakpoint before 'publish': the last
    checkpoint it saved, and the "updates" chunks it showed. No task of 'publish' starts."""
    run = run_loop(params(spec, {"topic": "owls"}, modes=("updates",),
                          interrupt_before=("publish",)))
    expect(run, Load)
    save = expect(run, Save)
    assert save.metadata["source"] == "input"
    # START's task is the engine's own (its writes are the input's: pregel._call.run_start)
    save = expect(run, Save, stored(save.checkpoint["id"]))
    assert save.checkpoint["writers"] == [START]
    draft = expect(run, RunOne, stored(save.checkpoint["id"])).task
    assert (draft.name, draft.input) == ("draft", {"topic": "owls"})
    save = expect(run, Save, returned(spec, draft, {"text": "Owls hoot."}))
    assert save.checkpoint["triggers"] == ["publish"]
    chunks = [expect(run, Emit, stored(save.checkpoint["id"])), expect(run, Emit)]
    result = ended(run)
    assert result == RunResult(values={"topic": "owls", "text": "Owls hoot."}, paused=True)
    return save, chunks


def test_breakpoint_stops_before_the_node_and_continuing_with_none_runs_it() -> None:
    spec = draft_then_publish()
    save, chunks = _run_up_to_breakpoint(spec)
    assert chunks == [Emit("updates", {"draft": {"text": "Owls hoot."}}),
                      Emit("updates", {INTERRUPT: ()})]

    run = run_loop(params(spec, None, modes=("updates",), interrupt_before=("publish",)))
    expect(run, Load)
    publish = expect(run, RunOne, as_loaded(save)).task
    assert publish.name == "publish"
    done = expect(run, Save, returned(spec, publish, {"published": True}))
    assert done.metadata["step"] == 2
    assert done.config["configurable"]["checkpoint_id"] == save.checkpoint["id"]
    shown = expect(run, Emit, stored(done.checkpoint["id"]))
    assert shown == Emit("updates", {"publish": {"published": True}})
    assert ended(run) == RunResult(values={"topic": "owls", "text": "Owls hoot.",
                                           "published": True})


@pytest.mark.parametrize("failing_first", [False, True], ids=["finished-first", "failed-first"])
def test_failing_task_beside_a_finished_one_keeps_its_writes_saves_no_step_and_raises(
    failing_first: bool,
) -> None:
    spec = fan_out()
    run = run_loop(params(spec, None))
    expect(run, Load)
    left, right = expect(run, Start, fan_out_after_step_0([])).tasks
    assert (left.name, right.name) == ("left", "right")
    boom = RuntimeError("right broke")
    right.error = boom
    finished = returned(spec, left, {"left_said": "ok"})
    saved: dict[str, SaveWrites] = {}
    for task in [right, finished] if failing_first else [finished, right]:
        expect(run, Next)
        effect = expect(run, SaveWrites, task)
        saved[effect.task_id] = effect

    with pytest.raises(RuntimeError) as raised:
        run.send(None)  # the step is not applied: no Save
    assert raised.value is boom
    assert getattr(raised.value, "__notes__", None) == [
        f"During task with name 'right' and id '{task_of('right')}'"]
    assert saved[task_of("left")].writes == [("left_said", "ok")]
    assert saved[task_of("right")].writes == [(ERROR, repr(boom))]
    assert all(w.config["configurable"]["checkpoint_id"] == STEP_0 for w in saved.values())
