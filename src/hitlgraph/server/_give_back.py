"""What a cancelled run gives back: the answers to interrupt() it claimed and never acted on.

A resume claims its answers (a RESUME write, compare-and-set) before the node that asked
runs again. Cancelling the run while that node runs would otherwise leave the claim in
place: the question no longer open (a new resume is refused) although no node has taken the
answer, and the next run with input None would take it. So, once a cancelled run's writes
are fenced off, every answer it claimed for a task that has not moved on (no writes of its
own, no new question) is withdrawn the way the engine withdraws the answer of a node that
failed: [id, None, False] appended to the task's resume log. The interrupt is then open
again, exactly as before the run. A task that did move on keeps its answer: the run applied
it completely, and continuing the thread (input None) goes on from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hitlgraph.checkpoint.base import PendingWrite
from hitlgraph.pregel._algo import Pending

__all__ = ["answer_counts", "withdrawals"]


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
