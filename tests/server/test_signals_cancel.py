"""A waiter cancelled at the moment its wake-up arrives stops (Signals.wait, _timeouts.within).

asyncio.wait_for on Python 3.10/3.11 returns the result and drops the cancellation in that
race; a worker's lease watcher then renewed its lease for ever and its run never ended (the
hang of test_of_concurrent_resumes_exactly_one_wins on PostgreSQL, about 1 run in 3)."""

from __future__ import annotations

import asyncio

import pytest

from hitlgraph.server._runtime import Signals
from hitlgraph.server._timeouts import within


async def _watcher(signals: Signals) -> None:
    while True:  # as WorkerPool._watch: wait, then go round again
        await signals.wait(signals.watch("cancel:r"), 5.0)


def test_a_watcher_cancelled_as_its_event_is_set_stops() -> None:
    async def race() -> int:
        stopped = 0
        for _ in range(50):
            signals = Signals()

            task = asyncio.ensure_future(_watcher(signals))
            await asyncio.sleep(0)
            signals.notify("cancel:r")
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
            stopped += task.done() and task.cancelled()
        return stopped

    assert asyncio.run(race()) == 50


def test_within_times_out_and_passes_results_on() -> None:
    async def main() -> None:
        assert await within(asyncio.sleep(0, "done"), 1.0) == "done"
        with pytest.raises(asyncio.TimeoutError):
            await within(asyncio.sleep(5), 0.01)

    asyncio.run(main())
