"""InMemorySaver's decision log: its rows in a list, in seq order (the saver calls it under
its lock)."""

from __future__ import annotations

from collections.abc import Sequence

from hitlgraph.checkpoint._decisions import (
    Chained,
    DecisionQuery,
    NewDecision,
    chain,
    decision,
    first_break,
    matches,
)
from hitlgraph.review import ChainBreak, Decision

__all__ = ["MemoryDecisions"]


class MemoryDecisions:
    """The decision rows of an InMemorySaver, and the head of their chain."""

    def __init__(self) -> None:
        self.rows: list[Chained] = []
        self.head: tuple[int, str] = (0, "")

    def append(self, rows: Sequence[NewDecision]) -> list[Chained]:
        """Chain `rows` after the head; the rows as chained."""
        chained = chain(self.head, rows)
        if chained:
            self.rows.extend(chained)
            self.head = (chained[-1].seq, chained[-1].hash)
        return chained

    def page(self, query: DecisionQuery) -> list[Decision]:
        """Newest first, at most query.limit."""
        found: list[Decision] = []
        for row in reversed(self.rows):
            if matches(row.row, query):
                found.append(decision(row))
                if len(found) >= query.limit:
                    break
        return found

    def verify(self) -> ChainBreak | None:
        return first_break(self.rows, self.head)
