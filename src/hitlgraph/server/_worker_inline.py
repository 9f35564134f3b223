"""Runs executed by the process whose request made them, without the queue.

A `runs/wait` or `runs/stream` request has a client waiting on this process. Queued, its run
goes through the runs table to a worker (a claim transaction, the worker's wake-up and its
look for work) and back to the waiter. Instead, the request asks the store to claim the run
as it creates it (`Store.create_run(lease=...)`: one transaction, the same lease and fencing
token a worker's claim gives), and this process executes it at once on its event loop with
the workers' own `execute`. Everything else holds as for a worker's claim: the lease is
renewed, a cancel is seen, a process that dies leaves the run to its lease and another
claims it.

At most `count` such runs go at once (the server's --workers, again): past that, or when
the thread has another active run, the run is queued as before.

The creating transaction may also have done the claim's first work (its fence, the thread's
latest checkpoint, its start point: _create_here.create_run_here): `start` keeps that for
the worker, which takes it (`started`) instead of a transaction of its own.

The request that waits for such a run (runs/wait) also takes its end from here (`expect`):
the worker hands over how the store recorded it, where the waiter read the run's row back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hitlgraph.server.store._rows import dumps
from hitlgraph.server.store.base import Claim, RunRow

if TYPE_CHECKING:  # (_worker_fence needs the runtime, which holds these slots)
    from hitlgraph.server._worker_fence import Started

__all__ = ["HereRuns"]

log = logging.getLogger("hitlgraph.server")


class HereRuns:
    """Slots for runs this process executes for the request that made them."""

    def __init__(self, execute: Callable[..., Awaitable[None]],
                 ended: Callable[[str], None], worker_id: str, count: int) -> None:
        self._execute = execute
        self._ended = ended
        self.worker_id = worker_id
        self._free = max(1, count)
        self._tasks: set[asyncio.Task[None]] = set()
        self._boxes: dict[str, list[RunRow]] = {}
        self._started: dict[str, tuple[int, Started]] = {}

    def take(self) -> bool:
        """Take a slot for a run about to be created; False when all are in use. A slot
        taken is given back by `start`'s run ending, or by `give_back`."""
        if self._free <= 0:
            return False
        self._free -= 1
        return True

    def give_back(self) -> None:
        """Return a slot whose run was not claimed (queued, refused, or failed)."""
        self._free += 1

    def start(self, claim: Claim, *, followed: bool, started: Started | None = None) -> None:
        """Execute the claimed run in the background on this loop; its slot comes back at
        its end. `followed`: a stream reads its events as they come (runs/stream), which
        are then written at once (see _worker_events); `started`: the claim's first work,
        done by the creating transaction (for `started`)."""
        if started is not None:
            self._started[claim.run.run_id] = (claim.fencing, started)
        task = asyncio.get_running_loop().create_task(
            self._run(claim, followed), name=f"run-{claim.run.run_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def started(self, claim: Claim) -> Started | None:
        """The first work of `claim` done when its run was created, given once (a second
        try of the claim does it again); None when there is none."""
        kept = self._started.pop(claim.run.run_id, None)
        return kept[1] if kept is not None and kept[0] == claim.fencing else None

    def expect(self, run_id: str) -> list[RunRow]:
        """A box for the end of run `run_id`, started here and not ended yet: it gets the run
        as the store recorded its end (`ended_as`), unless the run ends otherwise (left to
        its lease, taken over, rolled back); then the waiter reads the store."""
        box: list[RunRow] = []
        self._boxes[run_id] = box
        return box

    def ended_as(self, run: RunRow, status: Any, output: Any, error: dict[str, Any] | None
                 ) -> None:
        """The store recorded the end of `run` with these: into its box, if a waiter expects
        it, as a read of the row gives them back (through the store's JSON text; the other
        fields are the claim's, which the waiter does not read)."""
        box = self._boxes.get(run.run_id)
        if box is not None:
            box.append(replace(run, status=status, output=_as_stored(output),
                               error=None if error is None else _as_stored(error)))

    async def _run(self, claim: Claim, followed: bool) -> None:
        try:
            await self._execute(claim, followed=followed)
        except asyncio.CancelledError:
            raise
        except Exception:  # left to its lease, as a worker leaves it
            log.exception("run %s failed in the process that received it",
                          claim.run.run_id)
        finally:
            self._free += 1
            self._boxes.pop(claim.run.run_id, None)  # (the waiter holds its box)
            self._started.pop(claim.run.run_id, None)
            self._ended(claim.run.run_id)

    async def stop(self) -> None:
        """Cancel the runs going: each is left to its lease, as a stopped worker's."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _as_stored(value: Any) -> Any:
    return json.loads(dumps(value))
