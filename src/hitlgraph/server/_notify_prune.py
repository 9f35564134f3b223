"""Keeping what notifications store bounded: the notifier prunes, at most once per
`PRUNE_SECONDS`,

- the server's outbox (hg_notify_events): the events every "run" cursor has passed (all
  webhooks that take run.finished were sent them); nothing while no cursor reads it;
- the checkpointer's review outbox: the events every "review" cursor has passed and this
  process's metrics feed has read, and only those older than `REVIEW_GRACE_SECONDS` by their
  own time, since other readers the server cannot see share that outbox (another server
  process's metrics feed, a library `on_review_event` callback): a reader that falls an hour
  behind may miss events, one that keeps up never does. Nothing while no cursor reads it;
- each configured webhook's delivery log (hg_notify_deliveries): its newest
  `KEEP_DELIVERIES` rows stay.

Every delete takes at most `BATCH` rows (its own transaction), and a prune at most
`MAX_BATCHES` deletes per table, so a prune never holds a lock long; a backlog larger than
that goes over the next prunes. Several processes pruning at once delete the same rows once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from hitlgraph.review._events import ReviewEvent, ReviewOutbox
from hitlgraph.server._notify_store import NotifyTables

__all__ = ["BATCH", "KEEP_DELIVERIES", "PRUNE_SECONDS", "REVIEW_GRACE_SECONDS", "Pruned",
           "Pruner"]

PRUNE_SECONDS: Final = 60.0
"""How often a notifier prunes (its first round prunes at once)."""
REVIEW_GRACE_SECONDS: Final = 3600.0
"""How old a review event must be before the server deletes it from the review outbox."""
KEEP_DELIVERIES: Final = 10_000
"""The delivery log rows kept per webhook (the newest)."""
BATCH: Final = 1_000
"""Rows per DELETE."""
MAX_BATCHES: Final = 20
"""DELETEs per table in one prune."""


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows one prune deleted, per table."""

    run_events: int
    review_events: int
    deliveries: int


def _when(event: ReviewEvent) -> datetime:
    at = datetime.fromisoformat(event.at)
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def _passed(page: list[ReviewEvent], upto: int, older: datetime) -> int:
    """How many of the outbox's oldest events (`page`) may go: the run of them, from the
    first, with seq at most `upto` and a time before `older` (the saver deletes by seq)."""
    done = 0
    for event in page:
        if event.seq > upto or _when(event) >= older:
            break
        done += 1
    return done


class Pruner:
    """One notifier's pruning (see the module docstring); `hooks` names the configured
    webhooks, whose delivery logs it trims."""

    def __init__(self, tables: NotifyTables, outbox: ReviewOutbox | None,
                 hooks: tuple[str, ...], *, every: float = PRUNE_SECONDS,
                 grace: float = REVIEW_GRACE_SECONDS, keep: int = KEEP_DELIVERIES,
                 batch: int = BATCH) -> None:
        self.tables = tables
        self.outbox = outbox
        self.hooks = hooks
        self.every = every
        self.grace = grace
        self.keep = keep
        self.batch = batch
        self.due = 0.0
        """time.monotonic() at which the next prune may run."""

    async def maybe(self, feed_at: int | None) -> Pruned | None:
        """Prune if `every` seconds passed since the last prune (None: not yet due)."""
        now = time.monotonic()
        if now < self.due:
            return None
        self.due = now + self.every
        return await self.prune(feed_at)

    async def prune(self, feed_at: int | None) -> Pruned:
        """Prune every table now; `feed_at` is the seq this process's metrics feed read up
        to (None: it has none)."""
        return Pruned(run_events=await self._run_events(),
                      review_events=await self._review_events(feed_at),
                      deliveries=await self._deliveries())

    async def _run_events(self) -> int:
        upto = await self.tables.min_cursor("run")
        if upto is None:
            return 0
        total = 0
        for _ in range(MAX_BATCHES):
            gone = await self.tables.prune_events(upto, self.batch)
            total += gone
            if gone < self.batch:
                break
        return total

    async def _review_events(self, feed_at: int | None) -> int:
        upto = await self.tables.min_cursor("review") if self.outbox is not None else None
        if upto is None or self.outbox is None:
            return 0
        if feed_at is not None:
            upto = min(upto, feed_at)
        older = datetime.now(timezone.utc) - timedelta(seconds=self.grace)
        total = 0
        for _ in range(MAX_BATCHES):
            page = await self.outbox.alist_review_events(after=0, limit=self.batch)
            done = _passed(page, upto, older)
            if done:
                total += await self.outbox.aprune_review_events(
                    before_seq=page[done - 1].seq + 1)
            if done < self.batch:
                break
        return total

    async def _deliveries(self) -> int:
        total = 0
        for hook in self.hooks:
            for _ in range(MAX_BATCHES):
                gone = await self.tables.trim_deliveries(hook, self.keep, self.batch)
                total += gone
                if gone < self.batch:
                    break
        return total
