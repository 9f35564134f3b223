"""Review event callbacks for library users: `on_review_event(saver, callback)`.

A callback is fed from the saver's review outbox (`hitlgraph.review.ReviewEvent`), never
from the write in flight, so it sees an event only once its transaction committed, and never
one whose transaction rolled back. The feed remembers the last seq it handed over; each
`poll()` (or `await apoll()`) calls the callback for the events committed since, in seq
order. Call it after your own writes (an invoke, a resume), or on a timer:

    >>> feed = on_review_event(saver, lambda event: print(event.kind, event.thread_id))
    >>> graph.invoke({"topic": "x"}, config)  # doctest: +SKIP
    >>> feed.poll()  # doctest: +SKIP
    interrupt.created t1
    1

The feed starts at the end of the outbox (events from before it was made are not replayed);
give `after=0` to start from the oldest event the outbox still holds. A callback that raises
stops the poll there: the event is handed over again at the next poll (at least once).
Events of every process writing to the database are seen, as they share the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from hitlgraph.review._events import ReviewEvent, ReviewOutbox

__all__ = ["ReviewFeed", "aoutbox_end", "on_review_event", "outbox_end"]

PAGE: Final = 500
"""Events read per query."""
MAX_PAGES: Final = 100_000
"""Bounds the walk to the outbox's end (50 million events: prune before that)."""


def _outbox(saver: Any) -> ReviewOutbox:
    if not isinstance(saver, ReviewOutbox):
        raise TypeError(f"{type(saver).__name__} keeps no review event outbox: pass one of "
                        "hitlgraph's savers (InMemorySaver, SqliteSaver, PostgresSaver, or "
                        "their async twins).")
    return saver


def outbox_end(saver: Any) -> int:
    """The seq of the outbox's newest event (0 when it is empty)."""
    outbox, end = _outbox(saver), 0
    for _ in range(MAX_PAGES):
        page = outbox.list_review_events(after=end, limit=PAGE)
        if not page:
            break
        end = page[-1].seq
    return end


async def aoutbox_end(saver: Any) -> int:
    """outbox_end() for asyncio programs."""
    outbox, end = _outbox(saver), 0
    for _ in range(MAX_PAGES):
        page = await outbox.alist_review_events(after=end, limit=PAGE)
        if not page:
            break
        end = page[-1].seq
    return end


class ReviewFeed:
    """Hands the events of a saver's outbox committed after seq `after` to `callback`."""

    def __init__(self, saver: Any, callback: Callable[[ReviewEvent], object], *, after: int
                 ) -> None:
        self.outbox = _outbox(saver)
        self.callback = callback
        self.after = after
        """The seq of the last event handed over."""

    def _hand_over(self, page: list[ReviewEvent]) -> int:
        for event in page:
            self.callback(event)
            self.after = event.seq
        return len(page)

    def poll(self, limit: int = PAGE) -> int:
        """Call the callback for up to `limit` new events, oldest first; how many."""
        return self._hand_over(self.outbox.list_review_events(after=self.after, limit=limit))

    async def apoll(self, limit: int = PAGE) -> int:
        """poll() for asyncio programs (the callback is still called directly)."""
        page = await self.outbox.alist_review_events(after=self.after, limit=limit)
        return self._hand_over(page)


def on_review_event(saver: Any, callback: Callable[[ReviewEvent], object], *,
                    after: int | None = None) -> ReviewFeed:
    """A feed calling `callback(event)` for each review event committed from now on (or
    after seq `after`), at each `poll()`.

    Raises:
        TypeError: the saver keeps no review outbox.
    """
    return ReviewFeed(saver, callback, after=outbox_end(saver) if after is None else after)
