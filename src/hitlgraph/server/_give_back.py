"""What a cancelled run gives back: the answers to interrupt() it claimed and never acted on.

A resume claims its answers (a RESUME write, compare-and-set) before the node that asked
runs again. Cancelling the run while that node runs would otherwise leave the claim in
place: the question no longer open (a new resume is refused) although no node has taken the
answer, and the next run with input None would take it. So, once a cancelled run's writes
are fenced off, every answer it claimed for a task that has not moved on (no writes of its
own, no new question) is withdrawn the way the engine withdraws the answer of a node that
failed: [id, None, False] appended to the task's resume log. The interrupt is then open
again, exactly as before the run, and the saver's decision log records it as "given_back".
A task that did move on keeps its answer: the run applied it completely, and continuing the
thread (input None) goes on from there.

A subgraph's node asks through its parent's task, and the answer is claimed at each level: by
the parent task, then by the subgraph when it runs again. It is given back at every level, or
at none when the node that asked (the deepest level) has acted on it already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hitlgraph.checkpoint._decisions import DecisionNote
from hitlgraph.checkpoint.base import (
    BaseCheckpointSaver,
    Fence,
    PendingWrite,
    WriteRules,
)
from hitlgraph.constants import RESUME
from hitlgraph.pregel._algo import Pending
from hitlgraph.types import StateSnapshot

if TYPE_CHECKING:
    from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = ["answer_counts", "give_back", "subgraph_withdrawals", "withdrawals"]

Level = tuple[Any, Sequence[PendingWrite]]
"""A subgraph's latest checkpoint: (its config, its pending writes)."""
Withdrawal = tuple[Any, str, list[list[Any]]]
"""A RESUME write that gives answers back: (checkpoint config, task id, the new log)."""


def answer_counts(pending_writes: Sequence[PendingWrite] | None) -> dict[str, int]:
    """How many answers each task's resume log holds: recorded when a run starts, so that
    the answers claimed after that are known to be the run's own."""
    return {tid: len(log) for tid, log in Pending.of(pending_writes).resume_log.items()}


def withdrawals(pending_writes: Sequence[PendingWrite] | None,
                before: Mapping[str, int]) -> list[tuple[str, list[list[Any]]]]:
    """(task id, its resume log with the run's answers withdrawn) for each task that was
    given answers since `before` (answer_counts at the run's start) and has not acted on them:
    the RESUME writes that give them back."""
    pending = Pending.of(pending_writes)
    out: list[tuple[str, list[list[Any]]]] = []
    for tid, log in pending.resume_log.items():
        in_force = pending.resumes.get(tid, {})
        given = list(dict.fromkeys(entry[0] for entry in log[before.get(tid, 0):]
                                   if entry[2] and entry[0] in in_force))
        if not given or _moved_on(pending, tid):
            continue
        out.append((tid, [*log, *([iid, None, False] for iid in given)]))
    return out


def _moved_on(pending: Pending, tid: str) -> bool:
    """Whether the task acted on its answers: it finished (its writes are saved), or it asked
    a question none of them answers. (One that failed had its answers withdrawn by the
    engine already: none is in force.)"""
    if tid in pending.writes:
        return True
    answered = pending.resumes.get(tid, {})
    return any(intr.id not in answered for intr in pending.interrupts.get(tid, ()))


def _task_of(ns: str) -> tuple[str, str]:
    """(the top-level task id, the last task id) in a subgraph's checkpoint namespace."""
    segments = ns.split("|")
    return segments[0].rpartition(":")[2], segments[-1].rpartition(":")[2]


def subgraph_withdrawals(given: Mapping[str, list[list[Any]]], levels: Sequence[Level]
                         ) -> tuple[set[str], list[Withdrawal]]:
    """For the top-level withdrawals `given` (task id -> new log): (the top-level tasks that
    keep their answers, because the subgraph node that asked acted on them already; the
    withdrawals inside the subgraphs of the others)."""
    outer = {_task_of(config["configurable"]["checkpoint_ns"])[1] for config, _ in levels}
    keep: set[str] = set()
    out: list[Withdrawal] = []
    for top, log in given.items():
        iids = {entry[0] for entry in log if not entry[2]}
        mine = [(c, w) for c, w in levels
                if _task_of(c["configurable"]["checkpoint_ns"])[0] == top]
        if not mine:
            continue
        if not iids <= _waiting(mine, outer):
            keep.add(top)
            continue
        for config, writes in mine:
            pending = Pending.of(writes)
            for tid, tlog in pending.resume_log.items():
                ids = [i for i in pending.resumes.get(tid, {}) if i in iids]
                if ids and not _moved_on(pending, tid):
                    out.append((config, tid, [*tlog, *([i, None, False] for i in ids)]))
    return keep, out


def _waiting(levels: Sequence[Level], outer: set[str]) -> set[str]:
    """The interrupts that nodes (not subgraph tasks, whose subgraphs say) still wait at."""
    waiting: set[str] = set()
    for _, writes in levels:
        pending = Pending.of(writes)
        for tid, asked in pending.interrupts.items():
            if tid not in outer and not _moved_on(pending, tid):
                waiting.update(intr.id for intr in asked)
    return waiting


async def give_back(saver: BaseCheckpointSaver, graph: CompiledStateGraph,
                    config: dict[str, Any], start_id: str | None, before: Mapping[str, int],
                    fence: Fence | None) -> list[str]:
    """Withdraw, in the thread `config` names, the answers given since `before` (answer_counts
    at the run's start, on checkpoint `start_id`) that no node acted on; the ids of the tasks
    that gave answers back. Nothing when a step was saved since (the answers were applied).
    `fence` is the run's new token, advanced once the cancelled graph stopped."""
    latest = await saver.aget_tuple(config)
    if latest is None or latest.checkpoint["id"] != start_id:
        return []
    given = dict(withdrawals(latest.pending_writes, before))
    if not given:
        return []
    keep, inner = subgraph_withdrawals(given, await _subgraph_levels(saver, graph, config))
    # The subgraphs' first: until the top level's go, the answers stand at every level.
    writes = [*inner, *((latest.config, t, log) for t, log in given.items() if t not in keep)]
    before_logs = Pending.of(latest.pending_writes).resume_log
    for at, task_id, log in writes:
        rules = WriteRules(expected_latest=at["configurable"]["checkpoint_id"], fence=fence)
        if at is latest.config:  # the top level's write is the decision (logged once)
            withdrawn = log[len(before_logs.get(task_id, ())):]
            note = DecisionNote("given_back", tuple((e[0], None) for e in withdrawn),
                                reason="the run that took the answer was cancelled")
            at = note.on(at)
        await saver.aput_writes(rules.on(at), [(RESUME, log)], task_id)
    return [task_id for _, task_id, _ in writes]


async def _subgraph_levels(saver: BaseCheckpointSaver, graph: CompiledStateGraph,
                           config: dict[str, Any]) -> list[Level]:
    """The latest checkpoint of each subgraph the thread's tasks run, at any depth."""
    snap = await graph.aget_state(config, subgraphs=True)
    configs: list[dict[str, Any]] = []
    todo = list(snap.tasks)
    while todo:
        state = todo.pop().state
        if isinstance(state, StateSnapshot):
            configs.append(state.config)
            todo.extend(state.tasks)
    found = [await saver.aget_tuple(c) for c in configs]
    return [(f.config, list(f.pending_writes or ())) for f in found if f is not None]
