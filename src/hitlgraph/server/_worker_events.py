"""A run's events on their way to the store, written behind the graph.

A worker used to append each stream chunk's events in a transaction of its own, the graph
waiting for each: three write transactions (and thread hops, and wake-ups of every waiter of
the run) for a run that pauses at its first interrupt. `RunEvents` writes the first events
at once, then at most one write every WRITE_EVERY seconds, each with all the events that
came meanwhile; the graph never waits for the store, and the events still unwritten when
the graph ends go into the transaction that finishes the run (`Store.finish_run(events=
...)`). A reader following the run sees its first event as soon as before, and the others
at most WRITE_EVERY later: a run that pauses or ends within that time is written in two
transactions, however many chunks it streamed. A run no stream follows as it starts (one
made by runs/wait) holds its first events back for WRITE_EVERY too: one that pauses or
ends within that time is written in one transaction, its finish (a reader who joins its
stream meanwhile sees them at most WRITE_EVERY late, as any later event).

A write that finds the run taken over (its token stale) stops the graph at its next chunk
(`LostRun`): the checkpointer's fence has refused its checkpoints since the takeover anyway.
The events a worker had not written when another took its run over are not written, as
those of a worker that died (before, only a chunk between its checkpoint and its append
could be lost so); the new holder's follow, from the run's last checkpoint on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hitlgraph.server._runtime import Runtime
from hitlgraph.server.store.base import Claim

__all__ = ["WRITE_EVERY", "LostRun", "RunEvents"]

WRITE_EVERY = 0.02
"""Seconds from the start of one write of a run's events to the start of the next."""


class LostRun(Exception):
    """Another worker claimed the run: stop without writing."""


class RunEvents:
    """The events of one claim of a run, written behind (see the module docstring)."""

    def __init__(self, rt: Runtime, claim: Claim, *, first_at_once: bool = True) -> None:
        self._rt = rt
        self._claim = claim
        self._hold_first = not first_at_once
        self._pending: list[tuple[str, str]] = []
        self._writing: asyncio.Task[None] | None = None
        self._pausing = False
        """The write task is between two writes (waiting out WRITE_EVERY)."""
        self._failed: BaseException | None = None
        self._settling = False
        """`settle` waits: the write in flight is the last; the finish takes the rest."""

    def add(self, events: Sequence[tuple[str, str]]) -> None:
        """Queue events for the store, starting a write unless one is in flight.

        Raises:
            LostRun: an earlier write found the run taken over.
            Exception: what an earlier write raised (a database that cannot be reached).
        """
        self._raise_failure()
        if not events:
            return
        self._pending.extend(events)
        if self._writing is None:
            self._writing = asyncio.get_running_loop().create_task(self._write())

    async def settle(self) -> list[tuple[str, str]]:
        """Wait for the write in flight; the events not written yet, taken out of the queue
        (for the transaction that finishes the run).

        Raises:
            LostRun, Exception: as `add`.
        """
        if self._writing is not None:
            self._settling = True
            if self._pausing:  # no write in flight: the finish takes what is queued
                self._writing.cancel()
            await asyncio.wait({self._writing})
        self._raise_failure()
        rest, self._pending = self._pending, []
        return rest

    def cancel(self) -> None:
        """Drop the queue and stop waiting for the write in flight (the run was cancelled or
        taken over: what it wrote so far stays)."""
        self._pending = []
        if self._writing is not None:
            self._writing.cancel()

    async def _pause(self, began: float) -> None:
        """Until WRITE_EVERY after `began`; `settle` cancels the wait (no write in flight)."""
        self._pausing = True
        await asyncio.sleep(max(0.0, began + WRITE_EVERY - asyncio.get_running_loop().time()))
        self._pausing = False

    def _raise_failure(self) -> None:
        if self._failed is not None:
            raise self._failed

    async def _write(self) -> None:
        rt, run_id, fencing = self._rt, self._claim.run.run_id, self._claim.fencing
        loop = asyncio.get_running_loop()
        try:
            if self._hold_first:
                self._hold_first = False
                await self._pause(loop.time())
            while self._pending and self._failed is None:
                began = loop.time()
                batch, self._pending = self._pending, []
                held = await rt.store.append_events(run_id, fencing, batch)
                rt.signals.notify(f"run:{run_id}")
                if not held:
                    self._failed = LostRun()
                    return
                if self._settling:  # the finish takes what came meanwhile, at once
                    return
                await self._pause(began)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed = exc
        finally:
            self._pausing = False
            self._writing = None
