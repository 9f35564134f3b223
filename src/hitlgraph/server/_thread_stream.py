"""A thread's live output as SSE (GET /threads/{thread_id}/stream), as LangGraph's server sends
it: the events of each run of the thread that runs while the client is joined, the run opened
by `metadata {run_id, attempt}` and closed by `metadata {status: "run_done", run_id}`; with the
mode "state_update", the thread's state after each update of it. The stream stays open until
the client leaves, or the thread is deleted (LangGraph's stays open then too).

A run already going when the client joins is sent from its start (LangGraph's server sends it
from the moment of joining, which the client cannot know), so every run the stream shows opens
with its metadata event.

Event ids are `RUN_ID:SEQ` (`RUN_ID:0` opens the run, `RUN_ID:done` closes it). A client that
reconnects with one in Last-Event-ID gets every event after it, runs that started meanwhile
included; `-` replays every run the thread has. state_update events carry no id: as on
LangGraph's server, they are sent live only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from hitlgraph.server._ids import canonical_uuid
from hitlgraph.server._json import dumps
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.sse import HEARTBEAT, HEARTBEAT_SECONDS, format_event, run_metadata
from hitlgraph.server.store.base import TERMINAL, RunRow, ThreadRow

__all__ = ["Resume", "StateAt", "ThreadFollower", "parse_last_event_id"]

_DONE = "done"
_PAGE = 20
"""Runs read per page while looking for new ones (newest first, up to a known one)."""

StateAt = Callable[[ThreadRow, str], Awaitable[dict[str, Any]]]
"""The thread's state (ThreadState JSON) at a checkpoint id."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume:
    """Where a client reconnecting with Last-Event-ID left off."""

    run_id: str | None
    """The run of its last event; None for "-" (before the thread's first run)."""
    seq: int = 0
    """The seq of its last event in that run (0: the run's opening metadata event)."""
    done: bool = False
    """Its last event closed the run."""


def parse_last_event_id(value: str | None) -> Resume | None:
    """The Last-Event-ID header of a thread stream (None: follow from now).

    Raises:
        HTTPException: 422 for an id this stream never sends.
    """
    if not value:
        return None
    if value == "-":
        return Resume(run_id=None)
    head, _, position = value.partition(":")
    run_id = canonical_uuid(head)
    if run_id is not None and position == _DONE:
        return Resume(run_id=run_id, done=True)
    if run_id is not None and position.isascii() and position.isdigit():
        return Resume(run_id=run_id, seq=int(position))
    raise HTTPException(422, f"Last-Event-ID {value!r} is not an id a thread's stream sends "
                        "(RUN_ID:SEQ or RUN_ID:done). Send the id of the last event received, "
                        "'-' to replay every run of the thread, or none to follow it from now.")


@dataclass(slots=True)
class _Run:
    run_id: str
    seq: int = 0
    opened: bool = False


def _started(row: RunRow | None) -> bool:
    """Whether a worker has taken the run (a run cancelled while queued never starts)."""
    if row is None:
        return False
    return row.status == "running" or (row.status in TERMINAL and row.start_point is not None)


async def _wait_any(events: Collection[asyncio.Event], timeout: float) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


@dataclass(slots=True, kw_only=True)
class ThreadFollower:
    """One client's view of a thread: the runs it follows and the last state it was sent.
    Made by `open` (which raises the HTTP errors), then streamed by `events`."""

    rt: Runtime
    tenant: str
    thread_id: str
    modes: frozenset[str]
    state_at: StateAt
    runs: list[_Run] = field(default_factory=list)
    """Runs followed, oldest first."""
    known: set[str] = field(default_factory=set)
    """Every run of the thread seen so far (followed or not)."""
    checkpoint_id: str | None = None
    """The thread's latest root checkpoint already accounted for (state_update)."""
    state_seen: str = ""

    @property
    def _sends_runs(self) -> bool:
        return bool(self.modes & {"run_modes", "lifecycle"})

    @classmethod
    async def open(cls, rt: Runtime, thread: ThreadRow, *, modes: frozenset[str],
                   resume: Resume | None, state_at: StateAt) -> ThreadFollower:
        """Join `thread`: its active runs are followed (with `resume`: the runs after it).

        Raises:
            HTTPException: 404 when `resume` names a run the thread does not have.
        """
        follower = cls(rt=rt, tenant=thread.tenant, thread_id=thread.thread_id, modes=modes,
                       state_at=state_at, state_seen=thread.state_updated_at)
        runs = await follower._all_runs()
        follower.known = {row.run_id for row in runs}
        follower.runs = follower._resumed(runs, resume) if follower._sends_runs else []
        if "state_update" in modes:
            latest = await rt.saver.aget_tuple(follower._checkpoint_config())
            follower.checkpoint_id = latest.config["configurable"]["checkpoint_id"] \
                if latest is not None else None
        return follower

    def _resumed(self, runs: list[RunRow], resume: Resume | None) -> list[_Run]:
        if resume is None:
            return [_Run(r.run_id) for r in runs if r.status not in TERMINAL]
        if resume.run_id is None:
            return [_Run(r.run_id) for r in runs]
        ids = [r.run_id for r in runs]
        if resume.run_id not in ids:
            raise HTTPException(404, f"Last-Event-ID names run '{resume.run_id}', which thread "
                                f"'{self.thread_id}' does not have (any more). Join without "
                                "Last-Event-ID to follow the thread from now, or with '-' to "
                                "replay every run it has.")
        after = [_Run(run_id) for run_id in ids[ids.index(resume.run_id) + 1:]]
        if resume.done:
            return after
        return [_Run(resume.run_id, seq=resume.seq, opened=True), *after]

    async def _all_runs(self) -> list[RunRow]:
        """Every run of the thread, oldest first."""
        rows: list[RunRow] = []
        while True:
            page = await self.rt.store.list_runs(self.tenant, self.thread_id, limit=1000,
                                                 offset=len(rows), status=None)
            rows += page
            if len(page) < 1000:
                return rows[::-1]

    def _checkpoint_config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.rt.checkpoint_thread(self.tenant,
                                                                          self.thread_id),
                                 "checkpoint_ns": ""}}

    async def events(self) -> AsyncIterator[bytes]:
        """The SSE bytes, until the thread is deleted (or the client leaves)."""
        idle = 0.0
        every = self.rt.settings.poll_seconds
        while True:
            wakers = [self.rt.signals.watch("queue"),
                      *(self.rt.signals.watch(f"run:{run.run_id}") for run in self.runs)]
            thread = await self.rt.store.get_thread(self.tenant, self.thread_id)
            if thread is None:
                return
            found = await self._discover()
            chunks = [*await self._run_chunks(), *await self._state_updates(thread)]
            for chunk in chunks:
                yield chunk
            if chunks or found:
                idle = 0.0
                continue
            await _wait_any(wakers, every)
            idle += every
            if idle >= HEARTBEAT_SECONDS:
                idle = 0.0
                yield HEARTBEAT

    async def _discover(self) -> bool:
        """Follow the runs created since the last look; whether there were any."""
        new: list[RunRow] = []
        while True:
            page = await self.rt.store.list_runs(self.tenant, self.thread_id, limit=_PAGE,
                                                 offset=len(new), status=None)
            fresh = []
            for row in page:
                if row.run_id in self.known:
                    break
                fresh.append(row)
            new += fresh
            if len(fresh) < _PAGE:
                break
        for row in reversed(new):
            self.known.add(row.run_id)
            if self._sends_runs:
                self.runs.append(_Run(row.run_id))
        return bool(new)

    async def _run_chunks(self) -> list[bytes]:
        """What the followed runs wrote since the last look, one run after the other: a run
        is opened once the one before it is closed (the runs of a thread run one at a time;
        replayed ones are all there at once)."""
        out: list[bytes] = []
        for run in list(self.runs):
            row = await self.rt.store.get_run(self.tenant, run.run_id, self.thread_id)
            events = await self.rt.store.read_events(run.run_id, run.seq)
            if not run.opened and (events or _started(row)):
                run.opened = True
                out.append(format_event("metadata", run_metadata(run.run_id),
                                        f"{run.run_id}:0"))
            for item in events:
                run.seq = item.seq
                if "run_modes" in self.modes:
                    out.append(format_event(item.event, item.data, f"{run.run_id}:{item.seq}"))
            if events or (row is not None and row.status not in TERMINAL):
                break
            self.runs.remove(run)
            if run.opened:
                out.append(format_event("metadata", json.dumps(
                    {"status": "run_done", "run_id": run.run_id}), f"{run.run_id}:{_DONE}"))
        return out

    async def _state_updates(self, thread: ThreadRow) -> list[bytes]:
        """A state_update event for each update of the thread's state since the last look
        (its checkpoints whose source is "update", oldest first)."""
        if "state_update" not in self.modes or thread.state_updated_at == self.state_seen:
            return []
        self.state_seen = thread.state_updated_at
        out: list[bytes] = []
        for checkpoint_id, source in await self._new_checkpoints():
            if source != "update":
                continue
            try:
                state = await self.state_at(thread, checkpoint_id)
            except HTTPException:
                continue  # pruned meanwhile
            out.append(format_event("state_update", dumps(
                {"state": state, "thread_id": self.thread_id})))
        return out

    async def _new_checkpoints(self) -> list[tuple[str, Any]]:
        """(id, source) of the root checkpoints after `checkpoint_id`, oldest first."""
        found: list[tuple[str, Any]] = []
        async for item in self.rt.saver.alist(self._checkpoint_config()):
            checkpoint_id = item.config["configurable"]["checkpoint_id"]
            if self.checkpoint_id is not None and checkpoint_id <= self.checkpoint_id:
                break
            found.append((checkpoint_id, (item.metadata or {}).get("source")))
        if found:
            self.checkpoint_id = found[0][0]
        return found[::-1]
