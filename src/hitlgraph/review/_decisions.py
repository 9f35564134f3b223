"""Decision, the record of the savers' decision log; ChainBreak, what verify_decisions() finds
wrong with it; and the DecisionLog capability."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["ChainBreak", "Decision", "DecisionLog", "DecisionOutcome"]

DecisionOutcome = Literal["answered", "resolved", "given_back", "expired", "claimed",
                          "released", "reassigned"]
"""What happened to the interrupt:

- "answered": a resume's answer to it was claimed (`Command(resume=...)`); a default answer
  apply_expired gave has `by` "policy" and `reason` "expired: default answer".
- "resolved": update_state stored a checkpoint over the one that asked, so the question was
  dropped unanswered (`answer` is None).
- "given_back": a cancelled run's answer was withdrawn (the server gives the answer of a run
  cancelled before its node finished back); the interrupt is open again.
- "expired": its deadline passed and its policy was `Expire.cancel()`: closed unanswered,
  its node not run (`by` "policy").
- "claimed", "released", "reassigned": who holds it changed (`answer` is {"from": the
  holder before, "to": the holder after}); an escalation is "reassigned" by "policy".
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One row of the decision log: who decided what about one interrupt, and when.

    Rows are written in the transaction of the checkpoint or writes the decision caused, so a
    decision is logged if and only if it took effect. Each row's `hash` covers the row and the
    hash of the row before it (see `chain_hash`), so a changed or removed row shows.
    """

    seq: int
    """The row's place in its database's log: 1, 2, 3, ... with no gaps."""
    thread_id: str
    checkpoint_ns: str
    """The namespace of the graph that asked: "" for the thread's graph, a subgraph's own."""
    interrupt_id: str
    node: str | None
    """The node that asked (None when the saver was not told: a Send's task)."""
    answer: Any
    """The answer as JSON data (what JSON cannot hold, as its repr()); None for "resolved"
    and "given_back"."""
    by: str | None
    """Who decided, as `Command(by=...)` said (the server: the authenticated principal)."""
    reason: str | None
    at: str
    """When (ISO 8601, UTC, microseconds)."""
    outcome: DecisionOutcome
    hash: str
    """sha256 (hex) of the previous row's hash and this row's canonical JSON."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainBreak:
    """The first row of a decision log that is not as it was written."""

    seq: int
    """The row that was changed, or the first one missing."""
    problem: Literal["changed", "removed"]
    """"changed": its hash does not match its contents and the row before; "removed": the
    sequence skips it (or the log ends before the last row written)."""

    def __str__(self) -> str:
        return f"decision {self.seq} was {self.problem}"


@runtime_checkable
class DecisionLog(Protocol):
    """A saver that keeps a decision log (every saver hitlgraph ships)."""

    def list_decisions(self, *, thread_id: str | None = None, by: str | None = None,
                       since: str | datetime | None = None, limit: int = 50,
                       thread_prefix: str | None = None) -> Iterator[Decision]:
        """Decisions, newest first: at most `limit`, at or after `since`, of threads whose
        id starts with `thread_prefix`."""
        ...

    def alist_decisions(self, *, thread_id: str | None = None, by: str | None = None,
                        since: str | datetime | None = None, limit: int = 50,
                        thread_prefix: str | None = None) -> AsyncIterator[Decision]:
        """list_decisions() for asyncio programs."""
        ...

    def verify_decisions(self) -> ChainBreak | None:
        """The first row that was changed or removed, or None when the log is intact."""
        ...
