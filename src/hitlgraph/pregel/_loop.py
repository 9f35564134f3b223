"""The superstep machine: a generator of effects (load, save, run tasks, emit) with no I/O of its
own; the sync and async drivers in _drive.py carry the effects out.

A run opens (_open.py: load the thread, start, fork or continue), then runs supersteps
(_step.py: plan, reuse, cache, run, record, apply, save) until the graph ends or pauses.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from hitlgraph.pregel._effects import Abandoned, Effect, RunResult
from hitlgraph.pregel._open import Recount, open_run
from hitlgraph.pregel._params import RunParams
from hitlgraph.pregel._saving import RunSaver
from hitlgraph.pregel._step import superstep


def run_loop(p: RunParams) -> Generator[Effect, Any, RunResult]:
    """Run supersteps until the graph ends, pauses or fails.

    When Abandoned is thrown in, the checkpoint and writes that "exit" durability held back are
    written (as LangGraph does when a stream is left early) and the run ends.
    """
    savers: list[RunSaver] = []
    try:
        # open_run, opened again when its k-of-n answer lost a race (see Recount)
        for tries_left in range(RECOUNTS - 1, -1, -1):
            try:
                ls = yield from open_run(p, savers)
                break
            except Recount as lost:
                if not tries_left:
                    raise lost.lost from None
                savers.clear()
        while True:
            ended = yield from superstep(p, ls)
            if ended is not None:
                return ended
    except Abandoned:
        if savers:
            yield from savers[0].flush()
        return RunResult()


RECOUNTS = 16
"""How many times an answer to a k-of-n interrupt is counted again after losing its claim to
answers given at the same moment (each loss means another answer was stored)."""

