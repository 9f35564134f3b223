"""Review notifications: the server's webhooks, fed from the outboxes, and the run-end hook.

Each webhook has a cursor per outbox ("review": the checkpointer's review events, written in
the transaction of the checkpoint that caused them; "run": the server's own, where a trigger
adds `run.finished` in the transaction that records the run's end, see `_notify_schema.py`).
The cursors are placed when the app starts, before its workers run anything. The notifier of
each process takes the cursor's lease, sends the events after it one at a time
(`_notify_send.py`), logs each in the delivery log, and only then moves the cursor past it.
So a process killed between a commit and its delivery, or in the middle of one, leaves the
cursor where it was, and whichever process runs next sends the event again, with the same
idempotency key: at least once, never lost. The lease keeps two processes from sending the
same webhook's events at once. A new webhook starts at the end of each outbox; an event
every try failed for is logged "failed" and skipped, so one broken receiver does not hold
its webhook back for good. At start, the cursors no webhook of the config reads through are
deleted; once a minute the notifier deletes the events every cursor has passed and trims each
webhook's delivery log (`_notify_prune.py`), so none of it grows for good.

The same loop feeds /metrics its review counts (a feed over the review outbox from the
moment the process started: `hitlgraph.review.ReviewFeed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from contextlib import AsyncExitStack
from typing import Any, Final

from hitlgraph import _faults
from hitlgraph.review._events import ReviewEvent, ReviewOutbox
from hitlgraph.review._feed import ReviewFeed, aoutbox_end
from hitlgraph.server import _notify_prune as prune
from hitlgraph.server import _tracing as tracing
from hitlgraph.server._metrics import ServerMetrics
from hitlgraph.server._notify_config import Webhook
from hitlgraph.server._notify_send import Outgoing, send
from hitlgraph.server._notify_store import Delivery, NotifyTables, RunEventRow
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.store._rows import now_iso
from hitlgraph.server.store.base import RunRow

__all__ = ["Notifications", "open_notifications", "run_ended"]

log = logging.getLogger("hitlgraph.server")

LEASE_SECONDS: Final = 10.0
"""How long a webhook's cursor stays leased without renewal: a process killed while sending
holds it back this long. The sender renews it every third of that."""
BATCH: Final = 100
"""Events read per outbox and webhook in one round."""
FORGET_LIMIT: Final = 1_000
"""Cursors read per pass when forgetting removed webhooks' (a config has at most 64)."""
FORGET_PASSES: Final = 100
"""Bounds the passes (each deletes all but the kept cursors of the rows it reads)."""
WAKE: Final = "notify"
"""The `Signals` key that wakes this process's notifier."""
_SOURCES: Final = {"review": frozenset({"interrupt.created", "interrupt.warning",
                                        "interrupt.decided", "interrupt.expired"}),
                   "run": frozenset({"run.finished"})}

_ACTIVE: dict[int, Notifications] = {}
"""The notifications of each running app, by id() of its Runtime (what the workers hold)."""


def _split(thread_id: str) -> tuple[str, str]:
    """(tenant, thread id) of a checkpointer thread id ("tenant/thread" or "thread")."""
    tenant, sep, thread = thread_id.partition("/")
    return (tenant, thread) if sep else ("", thread_id)


def _review_body(event: ReviewEvent) -> dict[str, Any]:
    tenant, thread = _split(event.thread_id)
    return {"event": event.kind, "source": "review", "seq": event.seq, "at": event.at,
            "tenant": tenant, "thread_id": thread, "checkpoint_ns": event.checkpoint_ns,
            "interrupt_id": event.interrupt_id, "graph_id": event.graph_id, "data": event.data}


def _run_body(event: RunEventRow) -> dict[str, Any]:
    return {"event": event.kind, "source": "run", "seq": event.seq, "at": event.at,
            "tenant": event.tenant, "thread_id": event.thread_id, "graph_id": event.graph_id,
            "data": event.data}


class Notifications:
    """One app's notifier (see the module docstring)."""

    def __init__(self, rt: Runtime, hooks: tuple[Webhook, ...], metrics: ServerMetrics) -> None:
        self.rt = rt
        self.hooks = hooks
        self.metrics = metrics
        self.tables = NotifyTables(rt.store)
        self.owner = f"notifier-{uuid.uuid4().hex}"
        self.outbox = rt.saver if isinstance(rt.saver, ReviewOutbox) else None
        self.feed: ReviewFeed | None = None
        self.pruner = prune.Pruner(self.tables, self.outbox, tuple(h.name for h in hooks),
                                   every=prune.PRUNE_SECONDS)

    async def start(self) -> None:
        """Create the tables and the cursors (when there are webhooks), delete the cursors
        of webhooks the config no longer has (even when it has none: every process sharing
        the database is expected to have the same webhooks), and place the metrics feed at
        the outbox's end; from now on `run_ended(rt, ...)` reaches this notifier."""
        if self.hooks:
            await self.tables.setup()
            await self._place()
        if self.hooks or await self.tables.exists():
            await self._forget()
        if self.outbox is not None:
            self.feed = ReviewFeed(self.outbox, self.metrics.observe_event,
                                   after=await aoutbox_end(self.outbox))
        _ACTIVE[id(self.rt)] = self

    async def _place(self) -> None:
        """A cursor at the end of each outbox for each webhook that has none: what the
        webhook is sent starts now, and the run.finished trigger writes from now on."""
        for source in self._sources():
            end = await self._end(source)
            for hook in self.hooks:
                if hook.events & _SOURCES[source]:
                    await self.tables.place(hook.name, source, end)

    async def _forget(self) -> None:
        """Delete the cursors no webhook of the config reads through (a webhook removed, or
        no longer sent that outbox's kinds): else the trigger would go on writing run events
        for them, and pruning would wait for them forever. Processes started with the same
        config delete the same rows; one still running an older config finds its removed
        webhooks' cursors gone and stops sending them."""
        keep = frozenset((hook.name, source) for source in self._sources()
                         for hook in self.hooks if hook.events & _SOURCES[source])
        for _ in range(FORGET_PASSES):
            if not await self.tables.forget(keep, FORGET_LIMIT):
                break

    def _sources(self) -> list[str]:
        """The outboxes this process reads: the review one only where the saver has it."""
        return [source for source in _SOURCES if source == "run" or self.outbox is not None]

    def stop(self) -> None:
        """No more run-end hooks reach this notifier."""
        _ACTIVE.pop(id(self.rt), None)

    def wants(self, kind: str) -> bool:
        """Whether a webhook is sent `kind`."""
        return any(kind in hook.events for hook in self.hooks)

    async def run(self) -> None:
        """Send what is new, then wait to be woken or for `notify_seconds`; until cancelled."""
        while True:
            woken = self.rt.signals.watch(WAKE)
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sending review notifications failed; trying again later")
            await self.rt.signals.wait(woken, self.rt.settings.notify_seconds)

    async def round(self) -> None:
        """Feed the metrics, send each webhook the events it has not had, and prune when
        due (`_notify_prune.py`)."""
        if self.feed is not None:
            await self.feed.apoll()
        for hook in self.hooks:
            for source in self._sources():
                if hook.events & _SOURCES[source]:
                    await self._send_new(hook, source)
        if self.hooks:
            await self.pruner.maybe(self.feed.after if self.feed is not None else None)

    async def _end(self, source: str) -> int:
        if source == "run":
            return await self.tables.end()
        assert self.outbox is not None  # the review outbox is read only where there is one
        return await aoutbox_end(self.outbox)

    async def _events(self, source: str, after: int) -> list[tuple[int, str, dict[str, Any]]]:
        """(seq, kind, body) of the source's events after `after`."""
        if source == "run":
            return [(e.seq, e.kind, _run_body(e)) for e in await self.tables.events(after, BATCH)]
        assert self.outbox is not None
        page = await self.outbox.alist_review_events(after=after, limit=BATCH)
        return [(e.seq, e.kind, _review_body(e)) for e in page]

    async def _send_new(self, hook: Webhook, source: str) -> None:
        seq = await self.tables.lease(hook.name, source, self.owner, LEASE_SECONDS)
        if seq is None:  # another process is sending this webhook's events
            return
        beating = asyncio.get_running_loop().create_task(self._renew(hook, source))
        try:
            for event_seq, kind, body in await self._events(source, seq):
                if kind in hook.events:
                    if _faults.ARMED:
                        _faults.hit("server.outbox_delivery")
                    await self.tables.log(await self._send(hook, source, event_seq, kind, body))
                if not await self.tables.advance(hook.name, source, self.owner, event_seq):
                    return  # the lease ran out and another process took over
        finally:
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)  # a failed renewal: the
            # lease may have run out, which advance() would have found
            await self.tables.release(hook.name, source, self.owner)

    async def _renew(self, hook: Webhook, source: str) -> None:
        """Keep the cursor's lease while this process sends (until cancelled)."""
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            await self.tables.lease(hook.name, source, self.owner, LEASE_SECONDS)

    async def _send(self, hook: Webhook, source: str, seq: int, kind: str,
                    body: dict[str, Any]) -> Delivery:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
        item = Outgoing(hook, source=source, seq=seq, kind=kind, body=content.encode("utf-8"))
        settings = self.rt.settings
        return await send(item, attempts=settings.notify_attempts,
                          backoff=settings.notify_backoff_seconds)

    def run_ended(self, run: RunRow, status: str) -> None:
        """Count the duration of a run this process's worker ended (its `run.finished` is
        already in the outbox: the trigger wrote it with the end) and wake the sender."""
        self.metrics.observe_run(status, run.updated_at, now_iso())
        if self.wants("run.finished"):
            self.rt.signals.notify(WAKE)


async def run_ended(rt: Runtime, run: RunRow, status: str,
                    error: dict[str, Any] | None = None) -> None:
    """What the worker calls once it finished a run (the store recorded its end): the run's
    status on its trace span, its duration in the metrics, and an early round of sending.
    Never raises: a failure is logged, the run stays ended."""
    try:
        tracing.ended(status, error)
        notifications = _ACTIVE.get(id(rt))
        if notifications is not None:
            notifications.run_ended(run, status)
    except Exception:
        log.exception("recording the end of run %s for notifications failed", run.run_id)


async def open_notifications(stack: AsyncExitStack, rt: Runtime, hooks: tuple[Webhook, ...],
                             metrics: ServerMetrics) -> Notifications:
    """Start the app's notifier (its tables, its loop as a task); stopped when `stack`
    closes."""
    notifications = Notifications(rt, hooks, metrics)
    await notifications.start()
    stack.callback(notifications.stop)
    task = asyncio.get_running_loop().create_task(notifications.run(), name="hitlgraph-notify")

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    stack.push_async_callback(cancel)
    return notifications
