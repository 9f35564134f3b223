"""Workers: claim queued runs from the store and execute them with the graph's `astream`.

Each worker is an asyncio task. It claims a run (lease + fencing token), streams the graph
with the run's stream modes, appends every chunk to the run's events (refused once the token
is stale), renews the lease while it works, watches for cancel requests, and finishes the run
together with its thread's new state in one store transaction.

Checkpoint writes are fenced too: on each claim the worker advances the checkpointer's fence
of the run (`aadvance_fence(run_id)`) and runs the graph with that token
(`WriteRules.fence`), so once another worker has taken the run over, the first one's next
checkpoint write fails (FencedWriteError) and it stops without writing anything
more: no events, no finish.

A run claimed again after its worker died continues rather than starts over. Before running
the graph, the first worker records where the thread stood (`record_start`: its latest
checkpoint id and how many pending writes that had). A later worker compares: the same, and
the run had not begun (it is run as asked); moved on (a checkpoint saved, an answer to an
interrupt claimed, a task's writes saved), and the graph continues from the latest
checkpoint with input None: finished tasks' writes are reused, a claimed answer is given to
the node that asked, and no node that completed runs again. A run that had already reached
its breakpoint is finished without running anything.

A run that fails outside its graph (reading the thread, planning, finishing: a graph's own
failure ends its run at once) is left to its lease and claimed again, up to ATTEMPTS claims;
then it ends in error and its thread is free again, idle or interrupted as its state shows.
A claim beyond ATTEMPTS (the earlier ones died with their process) only ends the run so.

A database that cannot be reached (server/_errors.py unavailable_errors(): a lost
connection, a store operation that timed out) is not the run's failure: the worker tries the
run again on the same claim, backing off, for up to OUTAGE_SECONDS, first renewing its lease
(if another worker has taken the run over meanwhile, it stops). Each try continues from the
latest checkpoint as a takeover would. Past that bound the run is left to its lease, which
another claim takes up; it never stays "running" without a worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hitlgraph import _faults
from hitlgraph.checkpoint.base import WRITE_RULES, CheckpointTuple, WriteRules
from hitlgraph.errors import FencedWriteError
from hitlgraph.func import EntrypointGraph
from hitlgraph.pregel._saves_seen import SEEN, SavesSeen
from hitlgraph.pregel._state import state_snapshot
from hitlgraph.review import Groups
from hitlgraph.server._chunks import ChunkEvents, mode_names
from hitlgraph.server._errors import unavailable_errors
from hitlgraph.server._events import EventStream, graph_run
from hitlgraph.server._give_back import give_back
from hitlgraph.server._json import dumps, to_jsonable
from hitlgraph.server._model_events import listen
from hitlgraph.server._notify import run_ended
from hitlgraph.server._run_log import log_run_error
from hitlgraph.server._runtime import Runtime
from hitlgraph.server._state import interrupts_by_task, run_json, values_with_interrupts
from hitlgraph.server._store_items_nodes import run_context, with_tenant_store
from hitlgraph.server._tracing import traced
from hitlgraph.server._webhooks import deliver, payload
from hitlgraph.server._worker_events import LostRun, RunEvents
from hitlgraph.server._worker_fence import fence as fence_of
from hitlgraph.server._worker_fence import fence_read_and_start, start_point
from hitlgraph.server._worker_inline import HereRuns
from hitlgraph.server._worker_inputs import (
    build_command,
    conflict_error,
    error_json,
    graph_modes,
    run_config,
    state_config,
)
from hitlgraph.server._worker_start import Rewind, StartFrom, handed
from hitlgraph.server.config import BoundGraph
from hitlgraph.server.store.base import Claim, RunRow, ThreadStatus

__all__ = ["WorkerPool"]

log = logging.getLogger("hitlgraph.server")

ATTEMPTS = 3
"""Claims of a run that may fail outside its graph before the run ends in error."""

OUTAGE_SECONDS = 120.0
"""How long one claim keeps trying a run while its database cannot be reached."""

_After = tuple[Any, Any, dict[str, list[dict[str, Any]]], ThreadStatus]
"""How a run leaves its thread: (output, values, interrupts, status)."""


@dataclass(slots=True)
class _Stop:
    reason: str  # "cancel" or "lost"
    action: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    """How this worker runs its claim of a run."""

    value: Any
    """The graph's input: the run's input or Command, or None to continue the thread."""
    config: dict[str, Any]
    started_thread: bool
    """The thread had no checkpoint when the run began (a rollback deletes them all)."""
    start: dict[str, Any]
    """Where the thread stood when the run began (its recorded start point)."""
    ended: bool = False
    """An earlier worker already ran the graph to its breakpoint: only finish the run."""
    rewind_to: Rewind | None = None
    """The thread's latest checkpoint and its pending writes when this run began (seen by
    this worker): what a rollback restores."""
    latest: StartFrom | None = None
    """The thread's latest checkpoint as `_plan` read it, under this claim's fence: the
    graph starts from it rather than reading it again (None: the graph reads it)."""


class WorkerPool:
    """`count` workers executing runs in this process."""

    def __init__(self, rt: Runtime, count: int) -> None:
        self.rt = rt
        self.count = max(1, count)
        self.tasks: list[asyncio.Task[None]] = []
        self.prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.here = HereRuns(self.execute, self._here_ended, f"{self.prefix}:here",
                             self.count)
        """Runs executed for the request that made them (see _worker_inline)."""

    def _here_ended(self, run_id: str) -> None:
        """A run executed for its request ended: its waiters look. (The idle workers were
        woken by its finish if that left a run of its thread to claim; see `_finish`.)"""
        self.rt.signals.notify(f"run:{run_id}")

    def start(self) -> None:
        """Start the workers on the running loop."""
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._loop(f"{self.prefix}:{i}"), name=f"worker-{i}")
                      for i in range(self.count)]
        self.tasks.append(loop.create_task(self._sweep(), name="sweeper"))

    async def stop(self) -> None:
        """Cancel the workers; a run they held is left to its lease (another worker, in this
        or another process, takes it over once the lease runs out)."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        await self.here.stop()

    async def _sweep(self) -> None:
        """Now and then, delete the finished runs of stateless requests that asked for it
        (any process may; deleting twice is harmless)."""
        rt = self.rt
        every = max(0.05, min(rt.settings.sweep_seconds / 2, 30.0))
        while True:
            try:
                await rt.store.sweep_runs(rt.settings.sweep_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweeping finished stateless runs failed")
            await asyncio.sleep(every)

    async def _loop(self, worker_id: str) -> None:
        rt = self.rt
        while True:
            woken = rt.signals.watch("queue")
            try:
                claim = await rt.store.claim_run(worker_id, rt.settings.lease_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming a run failed")
                claim = None
            if claim is None:
                await rt.signals.wait(woken, rt.settings.poll_seconds)
                continue
            try:
                await self.execute(claim)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("run %s failed in the worker", claim.run.run_id)
            finally:
                # No "queue" wake-up for the other workers: a run this one's end made
                # claimable (the next of its thread) is claimed by this worker, at once.
                rt.signals.notify(f"run:{claim.run.run_id}")

    async def _watch(self, claim: Claim, woken: asyncio.Event) -> _Stop:
        """Renew the lease until the run is cancelled or claimed by someone else. `woken`
        was taken as the run's execution began, when its claimed row showed it held and not
        cancelled: the first look at the row waits for a cancel or for `every`. (A cancel
        committed between the claim and then is seen at that look.)"""
        rt, run = self.rt, claim.run
        every = max(0.05, min(rt.settings.lease_seconds / 3, rt.settings.poll_seconds))
        while True:
            await rt.signals.wait(woken, every)
            woken = rt.signals.watch(f"cancel:{run.run_id}")
            beat = await rt.store.heartbeat(run.run_id, claim.fencing, rt.settings.lease_seconds)
            if not beat.held:
                return _Stop("lost")
            if beat.cancel_action:
                return _Stop("cancel", beat.cancel_action)

    async def execute(self, claim: Claim, *, followed: bool = True) -> None:
        """Run one claimed run to its end, and record how it ended. A failure outside the
        graph is raised for the lease to retry the run, until its last attempt (ATTEMPTS).
        `followed` False: no stream waits for the run's first event (see RunEvents)."""
        if claim.run.attempt > ATTEMPTS:
            await self._give_up(claim, None)
            return
        try:
            await traced(claim.run, self._through_outages(claim, followed))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if claim.run.attempt < ATTEMPTS or isinstance(exc, unavailable_errors()):
                raise
            await self._give_up(claim, exc)

    async def _through_outages(self, claim: Claim, followed: bool) -> None:
        """`_execute(claim)`, tried again while the database cannot be reached (see the
        module docstring); the last such error is raised once OUTAGE_SECONDS have passed."""
        rt, run_id = self.rt, claim.run.run_id
        deadline = time.monotonic() + OUTAGE_SECONDS
        delay, cap = 0.1, max(0.05, rt.settings.lease_seconds / 3)
        while True:
            try:
                await self._execute(claim, followed)
                return
            except unavailable_errors() as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("run %s: the database cannot be reached (%s: %s); trying again "
                            "in %.1f s", run_id, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, cap)
            try:
                beat = await rt.store.heartbeat(run_id, claim.fencing, rt.settings.lease_seconds)
                fresh = await rt.store.get_run(claim.run.tenant, run_id)
            except unavailable_errors():
                continue
            if not beat.held or fresh is None:
                log.info("run %s was taken over during the outage; this worker stops", run_id)
                return
            # The stored row: its start point (recorded by the try that failed) and cancel.
            claim = Claim(run=fresh, fencing=claim.fencing, worker_id=claim.worker_id)

    async def _give_up(self, claim: Claim, exc: Exception | None) -> None:
        """End a run no claim could carry through as "error"; its thread is left as its state
        shows (as its row holds it, when the graph cannot tell)."""
        run = claim.run
        cause = f"{type(exc).__name__}: {exc}" if exc is not None else "its workers died"
        log.error("run %s (thread '%s') failed outside its graph on claim %s (%s); it ends in "
                  "error", run.run_id, run.thread_id, run.attempt, cause, exc_info=exc)
        error = {"error": type(exc).__name__ if exc is not None else "WorkerError",
                 "status_code": 500,
                 "message": f"The server gave up on run '{run.run_id}' after {run.attempt} "
                            f"attempts ({cause}). The thread takes new runs; the server log "
                            "has the details."}
        events = [_error_event(error)]
        try:
            await self._finish(claim, self.rt.graphs.get(run.graph_id), "error", error=error,
                               events=events)
        except Exception:
            log.exception("run %s: its thread's state could not be read either", run.run_id)
            await self._finish(claim, None, "error", error=error, events=events)

    async def _execute(self, claim: Claim, followed: bool) -> None:
        rt, run = self.rt, claim.run
        cancelling = rt.signals.watch(f"cancel:{run.run_id}")
        bound = rt.graphs.get(run.graph_id)
        if bound is None:
            await self._finish(claim, None, "error", error={
                "error": "GraphNotFound", "status_code": 404,
                "message": f"Graph '{run.graph_id}' is not served by this server."})
            return
        plan = await self._plan(claim, bound)
        if plan is None:
            return
        if plan.ended:
            await self._finish(claim, bound, "success")
            return
        if run.cancel_action:  # cancelled before its worker died: no node runs again
            await self._cancelled(claim, bound, run.cancel_action, plan)
            return
        events = RunEvents(rt, claim, first_at_once=followed)
        streaming = asyncio.ensure_future(self._stream(claim, bound, plan, events))
        watching = asyncio.ensure_future(self._watch(claim, cancelling))
        try:
            await asyncio.wait({streaming, watching}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            streaming.cancel()
            watching.cancel()
            events.cancel()
            raise
        if not streaming.done():
            streaming.cancel()  # first: a renewal that failed must not leave the graph running
            await asyncio.gather(streaming, return_exceptions=True)
            stop = watching.result()
            if stop.reason == "lost":
                events.cancel()
                return
            try:
                rest = await events.settle()  # what the graph streamed before it stopped
            except LostRun:
                return
            finally:
                events.cancel()
            await self._cancelled(claim, bound, stop.action or "interrupt", plan, rest)
            return
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        exc = streaming.exception()
        await self._streamed(claim, bound, exc, events, None if exc else streaming.result())

    async def _streamed(self, claim: Claim, bound: BoundGraph, exc: BaseException | None,
                        events: RunEvents, seen: SavesSeen | None = None) -> None:
        """Finish a run whose graph ended (with `exc` when it failed), with the events it
        has not written yet; `seen`: the saves of a graph that ended without failing."""
        run = claim.run
        rest: list[tuple[str, str]] = []
        try:
            if exc is None or not isinstance(exc, (LostRun, *unavailable_errors())):
                rest = await events.settle()
        except LostRun as lost:
            exc = lost
        finally:
            events.cancel()
        if isinstance(exc, unavailable_errors()):
            raise exc  # the database, not the graph, failed: tried again
        if isinstance(exc, (LostRun, FencedWriteError)):
            log.info("run %s was taken over by another worker; this one (token %s) stops",
                     run.run_id, claim.fencing)
            return
        if exc is not None:
            log_run_error(run, exc, conflict=conflict_error(exc))
            error = await self._error_json(claim, bound, exc)
            await self._finish(claim, bound, "error", error=error,
                               failed=not conflict_error(exc),
                               events=[*rest, _error_event(error)])
            return
        await self._finish(claim, bound, "success", events=rest,
                           latest=seen.latest() if seen is not None else None)

    async def _plan(self, claim: Claim, bound: BoundGraph) -> _Plan | None:
        """Where the graph starts for this claim (see the module docstring); None when the
        run was taken over meanwhile."""
        rt, run = self.rt, claim.run
        config = run_config(rt, run)
        # Advance the fence before reading the thread: a worker that lost the run can write
        # no checkpoint after that read.
        # The start point is recorded before the run writes (in the same transaction where
        # the store shares the checkpointer's connection).
        fence, latest, recorded = await fence_read_and_start(rt, claim, state_config(rt, run))
        if fence is not None:
            config["configurable"][WRITE_RULES] = WriteRules(fence=fence)
        point = start_point(latest)
        start = run.start_point
        if start is None:
            if recorded is False or (recorded is None and not await rt.store.record_start(
                    run.run_id, claim.fencing, point)):
                return None
            start = point
        started_thread = start.get("checkpoint_id") is None
        if all(start.get(key) == point[key] for key in ("checkpoint_id", "writes")):
            kwargs = run.kwargs
            # "decided_by": who queued the answer (runs queued before it was kept: the tenant)
            by = kwargs["decided_by"] if "decided_by" in kwargs else run.tenant or None
            value = (build_command(kwargs["command"], by=by)
                     if kwargs.get("command") is not None else kwargs.get("input"))
            if by and kwargs.get("decided_in"):  # the groups `by` belonged to when queued
                config = Groups({g: [by] for g in kwargs["decided_in"]}).on(config)
            rewind_to = None if latest is None else Rewind.of(rt.saver, latest)
            if _faults.ARMED and "resume" in (kwargs.get("command") or {}):
                _faults.hit("server.resume_claim")
            return _Plan(value=value, config=config, started_thread=started_thread,
                         start=start, rewind_to=rewind_to, latest=handed(config, latest))
        log.info("run %s continues from checkpoint %s (attempt %s)", run.run_id,
                 point["checkpoint_id"], run.attempt)
        configurable = config["configurable"]
        configurable.pop("checkpoint_id", None)
        configurable.pop("checkpoint_ns", None)
        ended = (point["checkpoint_id"] != start.get("checkpoint_id")
                 and await self._at_breakpoint(bound, run))
        return _Plan(value=None, config=config, started_thread=started_thread, start=start,
                     ended=ended, latest=handed(config, latest))

    async def _at_breakpoint(self, bound: BoundGraph, run: RunRow) -> bool:
        """Whether the thread's latest checkpoint (written by this run) is where one of the
        run's breakpoints paused it: continuing with None would go past it."""
        graph = bound.compiled
        before = run.kwargs.get("interrupt_before") or graph.interrupt_before_nodes
        after = run.kwargs.get("interrupt_after") or graph.interrupt_after_nodes
        if not before and not after:
            return False

        def hits(names: Any, nodes: Sequence[str]) -> bool:
            listed = [names] if isinstance(names, str) else list(names or ())
            return "*" in listed or any(n in listed for n in nodes)

        snap = await graph.aget_state(state_config(self.rt, run))
        if not snap.next:
            return False
        if hits(before, snap.next):
            return True
        if after and snap.parent_config is not None:
            ran = await graph.aget_state(snap.parent_config)
            return hits(after, ran.next)
        return False

    async def _error_json(self, claim: Claim, bound: BoundGraph, exc: BaseException
                          ) -> dict[str, Any]:
        """The run's error; a conflict also says what the thread waits for now."""
        error = error_json(exc)
        internal = self.rt.checkpoint_thread(claim.run.tenant, claim.run.thread_id)
        if internal != claim.run.thread_id:  # name the thread as the caller knows it
            error["message"] = error["message"].replace(f"'{internal}'",
                                                        f"'{claim.run.thread_id}'")
        if conflict_error(exc):
            snap = await bound.compiled.aget_state(state_config(self.rt, claim.run))
            waiting = [i.id for i in snap.interrupts]
            error["message"] += (
                f" The thread's state now: next {list(snap.next)}, "
                + (f"open interrupts {waiting}." if waiting else "no open interrupt."))
        return error

    async def _stream(self, claim: Claim, bound: BoundGraph, plan: _Plan,
                      log: RunEvents) -> SavesSeen:
        """Run the graph, its chunks into `log`; what it saved (see pregel/_saves_seen)."""
        seen = SavesSeen(plan.config["configurable"]["thread_id"])
        token = SEEN.set(seen)
        try:
            await self._chunks(claim, bound, plan, log)
        finally:
            SEEN.reset(token)
        return seen

    async def _chunks(self, claim: Claim, bound: BoundGraph, plan: _Plan,
                      log: RunEvents) -> None:
        kwargs = claim.run.kwargs
        value, config = plan.value, plan.config
        if plan.latest is not None:
            config = plan.latest.on(config)
        subgraphs = bool(kwargs.get("stream_subgraphs")) and not isinstance(
            bound.runnable, EntrypointGraph)
        options: dict[str, Any] = {"stream_mode": graph_modes(kwargs.get("stream_mode"))}
        if subgraphs:
            options["subgraphs"] = True
        for key in ("interrupt_before", "interrupt_after", "durability"):
            if kwargs.get(key) is not None:
                options[key] = kwargs[key]
        asked = mode_names(kwargs.get("stream_mode"))
        chunks = ChunkEvents(asked, claim.run.thread_id)
        events = models = None
        if "events" in asked:
            run = graph_run(run_id=claim.run.run_id, graph_id=bound.graph_id,
                            graph=bound.runnable, kwargs=kwargs, config=config)
            events = EventStream(run)
            models = listen(run.run_id, list(run.tags),
                            tags_in_metadata="messages" in chunks.wanted)
            log.add(events.begin())
        runnable = with_tenant_store(bound.runnable, self.rt.items_store, claim.run.tenant)
        context = run_context(bound, kwargs.get("context"))
        async for item in runnable.astream(value, config, context=context, **options):
            if subgraphs:
                ns, mode, chunk = item
            else:
                (mode, chunk), ns = item, ()
            sent = chunks.events(mode, chunk, ns)
            if events is not None and not ns:
                sent = events.feed(mode, chunk, sent)
            if models is not None:
                sent = models.drain() + sent
            log.add(sent)
        if events is not None:
            log.add((models.drain() if models else []) + events.end())

    async def _thread_after(self, claim: Claim, bound: BoundGraph | None,
                            latest: CheckpointTuple | None = None) -> _After:
        """(output, values, interrupts, status) the thread's latest checkpoint shows (`latest`:
        as the run's saves made it, else read); without the graph, no output and what the
        thread's row holds."""
        if bound is None:
            return await self._stored_state(claim)
        snap = (state_snapshot(bound.compiled, latest, live=True) if latest is not None
                else await bound.compiled.aget_state(state_config(self.rt, claim.run)))
        # (interrupts_by_task lists open interrupts only: see there.)
        status: ThreadStatus = "interrupted" if (snap.next or snap.interrupts) else "idle"
        values = to_jsonable(snap.values)  # once, for the output and the thread row both
        return (values_with_interrupts(snap, values), values, interrupts_by_task(snap),
                status)

    async def _stored_state(self, claim: Claim) -> _After:
        row = await self.rt.store.get_thread(claim.run.tenant, claim.run.thread_id)
        if row is None:
            return None, None, {}, "idle"
        return None, row.values, row.interrupts, "interrupted" if row.interrupts else "idle"

    async def _finish(self, claim: Claim, bound: BoundGraph | None, status: Any, *,
                      error: dict[str, Any] | None = None, failed: bool = False,
                      delete_run: bool = False, events: Sequence[tuple[str, str]] = (),
                      latest: CheckpointTuple | None = None) -> None:
        rt, run = self.rt, claim.run
        output, values, interrupts, thread_status = await self._thread_after(claim, bound,
                                                                             latest)
        if failed:
            thread_status = "error"
        temporary = run.temporary and run.on_completion == "delete"
        left = await rt.store.finish_run(
            run.run_id, claim.fencing, status=status, output=output, error=error,
            thread_values=values, thread_interrupts=interrupts, thread_status=thread_status,
            delete_run=delete_run, events=events, drop_thread=temporary)
        if left is not None and not delete_run:
            self.here.ended_as(run, status, output, error)
        rt.signals.notify(f"run:{run.run_id}")
        if left == "busy" and claim.worker_id == self.here.worker_id:
            # The thread's next run may start, and no worker goes on to claim it as after
            # its own run: wake the idle ones. (An end that leaves its thread without an
            # active run makes nothing claimable: it wakes none, each would look for
            # nothing.)
            rt.signals.notify("queue")
        if left is None:
            log.info("run %s was taken over by another worker; this one (token %s) stops",
                     run.run_id, claim.fencing)
            return
        await run_ended(rt, run, "rollback" if delete_run else status, error)
        if run.kwargs.get("webhook"):  # sent in the background: the next claim goes on
            # (The claim set the run's updated_at: when this worker started it.)
            rt.spawn(deliver(run.kwargs["webhook"], payload(
                run_json(run), status="rollback" if delete_run else status, values=values,
                started=run.updated_at, error=error)))
        if temporary:  # (its row went with the run's end: no waiter still finds it)
            await rt.saver.adelete_thread(rt.checkpoint_thread(run.tenant, run.thread_id))

    async def _cancelled(self, claim: Claim, bound: BoundGraph, action: str,
                         plan: _Plan, events: Sequence[tuple[str, str]] = ()) -> None:
        """A cancelled run ends "interrupted", having given back the answers it claimed and
        did not apply (see `_give_back`); a rolled back one also leaves the thread as it was
        before the run (checkpoints and pending writes), and is deleted."""
        rt, run = self.rt, claim.run
        if action != "rollback":
            await self._give_back(claim, bound, plan)
        else:
            if plan.started_thread:  # the run started the thread: no checkpoint stays
                await rt.saver.adelete_thread(rt.checkpoint_thread(run.tenant, run.thread_id))
            elif plan.rewind_to is not None:
                await rt.saver.arewind(*plan.rewind_to.args(rt.saver))
            else:
                log.warning("run %s is rolled back, but this worker took it over from "
                            "another and cannot tell what the thread held before it: the "
                            "checkpoints it wrote stay", run.run_id)
        await self._finish(claim, bound, "interrupted", delete_run=action == "rollback",
                           events=events)

    async def _give_back(self, claim: Claim, bound: BoundGraph, plan: _Plan) -> None:
        """Withdraw the answers the cancelled run claimed and no node acted on (never
        half-applied). The fence advances first: a write of the cancelled graph still in
        flight (in a saver's thread) is refused from then on, so what is read next is final."""
        run = claim.run
        before = plan.start.get("answers")
        if before is None:  # started before start points recorded answers: keep them
            return
        fence = await fence_of(self.rt, run.run_id)
        tasks = await give_back(self.rt.saver, bound.compiled, state_config(self.rt, run),
                                plan.start.get("checkpoint_id"), before, fence)
        for task_id in tasks:
            log.info("run %s was cancelled before task %s acted on its answers: they are "
                     "given back", run.run_id, task_id)


def _error_event(error: dict[str, Any]) -> tuple[str, str]:
    """The `error` event a failed run's stream ends with (its data as LangGraph's)."""
    return "error", dumps({"error": error["error"], "message": error["message"]})
