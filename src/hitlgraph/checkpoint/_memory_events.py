"""InMemorySaver's review event outbox: its events in a list, in seq order (the saver calls
it under its lock, in the same critical section as the write that caused them)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from hitlgraph.checkpoint._events import NewEvent, event_of
from hitlgraph.review._events import ReviewEvent

__all__ = ["MemoryEvents"]


class MemoryEvents:
    """The events of an InMemorySaver and the last seq given (never lowered by a prune)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, NewEvent]] = []
        self.seq = 0

    def emit(self, events: Sequence[NewEvent]) -> None:
        for event in events:
            self.seq += 1
            self.rows.append((self.seq, event))

    def page(self, after: int, limit: int) -> list[ReviewEvent]:
        """The events after seq `after`, oldest first (a bisect, then at most `limit`)."""
        start = bisect.bisect_right(self.rows, after, key=lambda row: row[0])
        return [event_of((seq, *event)) for seq, event in self.rows[start:start + limit]]

    def prune(self, before_seq: int) -> int:
        end = bisect.bisect_left(self.rows, before_seq, key=lambda row: row[0])
        del self.rows[:end]
        return end
