"""Review event callbacks called by themselves after each commit: `follow_review_events(saver,
callback)` polls a saver's outbox on a background thread, `afollow_review_events` an async
saver's in an asyncio task, so a program need not call `poll()` after its own writes (and
sees the other processes' events too):

    >>> following = follow_review_events(saver, lambda e: print(e.kind))  # doctest: +SKIP
    >>> graph.invoke({"topic": "x"}, config)  # doctest: +SKIP
    interrupt.created
    >>> following.stop()  # doctest: +SKIP

The callback is called at most `every` seconds after the commit, on the follower's thread
(or task), in seq order, each event once while it returns. One that raises is logged and
handed the same event again at the next tick, as `poll()` does (at least once).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from hitlgraph.review._events import ReviewEvent
from hitlgraph.review._feed import ReviewFeed, aoutbox_end, outbox_end

__all__ = ["ReviewFollower", "afollow_review_events", "follow_review_events"]

log = logging.getLogger("hitlgraph.review")


def _every(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"every must be a positive number of seconds, got {value!r}.")
    return float(value)


class ReviewFollower:
    """A feed polled every `every` seconds on a daemon thread, until `stop()` (or the end of
    a `with` block)."""

    def __init__(self, feed: ReviewFeed, every: float) -> None:
        self.feed = feed
        self.every = _every(every)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hitlgraph-review-events",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.feed.poll()
            except Exception:
                log.exception("a review event callback failed; the event is handed over "
                              "again in %s s", self.every)
            self._stopping.wait(self.every)

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop polling: a poll under way finishes first (waited for up to `timeout`)."""
        self._stopping.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> ReviewFollower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def follow_review_events(saver: Any, callback: Callable[[ReviewEvent], object], *,
                         every: float = 1.0, after: int | None = None) -> ReviewFollower:
    """Call `callback(event)` for each review event the saver commits from now on (or after
    seq `after`), from a background thread polling every `every` seconds.

    Raises:
        TypeError: the saver keeps no review outbox.
        ValueError: `every` is not a positive number of seconds.
    """
    pause = _every(every)
    start = outbox_end(saver) if after is None else after
    return ReviewFollower(ReviewFeed(saver, callback, after=start), pause)


async def afollow_review_events(saver: Any, callback: Callable[[ReviewEvent], object], *,
                                every: float = 1.0, after: int | None = None) -> None:
    """follow_review_events() for asyncio programs: polls every `every` seconds until the
    task running it is cancelled (the callback is called in that task).

    Raises:
        TypeError: the saver keeps no review outbox.
        ValueError: `every` is not a positive number of seconds.
    """
    pause = _every(every)
    feed = ReviewFeed(saver, callback, after=await aoutbox_end(saver) if after is None
                      else after)
    while True:
        try:
            await feed.apoll()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a review event callback failed; the event is handed over again "
                          "in %s s", pause)
        await asyncio.sleep(pause)
