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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hitlgraph.server.store.base import Claim

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

    def start(self, claim: Claim, *, followed: bool) -> None:
        """Execute the claimed run in the background on this loop; its slot comes back at
        its end. `followed`: a stream reads its events as they come (runs/stream), which
        are then written at once (see _worker_events)."""
        task = asyncio.get_running_loop().create_task(
            self._run(claim, followed), name=f"run-{claim.run.run_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
            self._ended(claim.run.run_id)

    async def stop(self) -> None:
        """Cancel the runs going: each is left to its lease, as a stopped worker's."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
