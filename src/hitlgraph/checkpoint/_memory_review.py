"""InMemorySaver's review event outbox methods, its assignment methods and the calls
apply_expired makes (the actions are checkpoint._review_actions', as in the SQL savers), each
under the saver's lock; and the backlog of review facts.

The backlog: a stored write that opens or answers interrupts, or carries a decision, does not
update the index, the decision log and the outbox when it is stored (the durable savers must,
in its transaction; nothing outside this process sees these lists). It appends one fact, with
the values it needs taken when the write was stored (the interrupts serialized, the answers as
JSON text, the clock read), and the saver carries the facts out in order, exactly as it would
have at once, before anything reads the index, the log or the outbox, before anything that
removes checkpoints, and when they reach BACKLOG_MAX. A round trip nobody reviews then costs a
tuple; one that is reviewed pays the same work as before, at the read."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from hitlgraph._policy import Expire
from hitlgraph.checkpoint import _review_actions as actions
from hitlgraph.checkpoint._decisions import DecisionNote, NewDecision, decision, rows_of
from hitlgraph.checkpoint._events import NewEvent, decided_events, events_query, prune_query
from hitlgraph.checkpoint._memory_decisions import MemoryDecisions
from hitlgraph.checkpoint._memory_events import MemoryEvents
from hitlgraph.checkpoint._memory_pending import MemoryIndex
from hitlgraph.checkpoint._pending import Change, graph_of, node_of, now
from hitlgraph.checkpoint._review_actions import Applied
from hitlgraph.review._assignment import InterruptNotOpenError
from hitlgraph.review._decisions import Decision
from hitlgraph.review._events import ReviewEvent
from hitlgraph.review._times import as_time

__all__ = ["BACKLOG_MAX", "MemoryReview", "Written"]

BACKLOG_MAX = 4096
"""The most facts that wait: a read after many unreviewed round trips does bounded work."""


class Written(NamedTuple):
    """A stored write's part in the index and the decision log, as it was stored."""

    thread_id: str
    ns: str
    checkpoint_id: str
    task_id: str
    task_path: str
    change: Change | None
    note: DecisionNote | None
    texts: tuple[tuple[str, str], ...]
    """The note's answers as JSON text (answer_texts), taken when the write was stored."""
    at: str


class _Stored(NamedTuple):
    """A checkpoint was stored: it closes its namespace's older entries (close_older)."""

    thread_id: str
    ns: str
    checkpoint_id: str


class MemoryReview:
    """claim / release / reassign (see hitlgraph.review.Assignable) over an in-memory index,
    decision log and outbox."""

    _lock: threading.RLock
    _index: MemoryIndex
    _decisions: MemoryDecisions
    _events: MemoryEvents
    _backlog: list[Written | _Stored]
    _waiting: set[str]
    """The threads with facts in the backlog."""
    _metadata_at: Callable[[str, str, str], Any]

    def _written(self, fact: Written) -> None:
        """Note a stored write's review fact (under the lock)."""
        self._backlog.append(fact)
        self._waiting.add(fact.thread_id)
        if len(self._backlog) >= BACKLOG_MAX:
            self._settle()

    def _stored(self, thread_id: str, ns: str, checkpoint_id: str) -> None:
        """A checkpoint was stored (under the lock): its older entries close, after the
        thread's facts that wait (a thread without any pays a set lookup)."""
        if thread_id in self._waiting:
            self._backlog.append(_Stored(thread_id, ns, checkpoint_id))
        else:
            self._index.close_older(thread_id, ns, checkpoint_id)

    def _settle(self) -> None:
        """Carry out the facts that wait, in the order they came (under the lock)."""
        backlog, self._backlog = self._backlog, []
        self._waiting.clear()
        for fact in backlog:
            if type(fact) is _Stored:
                self._index.close_older(*fact)
            else:
                self._replay(fact)  # type: ignore[arg-type]

    def _replay(self, fact: Written) -> None:
        """What a stored write does to the index, the decision log and the outbox."""
        thread_id, change, note = fact.thread_id, fact.change, fact.note
        if change is not None:  # (the graph is read only for an entry to open)
            graph = graph_of(self._metadata_at(thread_id, fact.ns, fact.checkpoint_id)
                             ) if change.opened else None
            self._events.emit(self._index.apply(thread_id, fact.ns, fact.checkpoint_id,
                                                fact.task_id, change, graph))
        if note is not None:
            ids = [iid for iid, _ in fact.texts]
            rows = rows_of(note, thread_id, fact.ns, node_of(fact.task_path), fact.at,
                           self._index.asked(thread_id, ids), fact.texts)
            chained = self._decisions.append(rows)
            self._events.emit(decided_events([(c.seq, c.row) for c in chained],
                                             self._index.graphs(thread_id, ids)))

    def _check_open(self, thread_id: str, checkpoint_id: str, ids: list[str]) -> None:
        """Refuse answers to entries an expiry closed (see MemoryIndex.check_open)."""
        if thread_id in self._index.expired:
            self._settle()
            self._index.check_open(thread_id, checkpoint_id, ids)

    def _log(self, rows: Sequence[NewDecision], graphs: dict[str, str | None],
             events: Sequence[NewEvent] = ()) -> list[Decision]:
        """Log decisions, their events and `events` (under the lock)."""
        chained = self._decisions.append(rows)
        self._events.emit([*decided_events([(c.seq, c.row) for c in chained], graphs),
                           *events])
        return [decision(c) for c in chained]

    def list_review_events(self, after: int = 0, limit: int = 100) -> list[ReviewEvent]:
        """The events above seq `after`, oldest first (see the SQL savers')."""
        after, limit = events_query(after, limit)
        with self._lock:
            self._settle()
            return self._events.page(after, limit)

    async def alist_review_events(self, after: int = 0, limit: int = 100
                                  ) -> list[ReviewEvent]:
        """list_review_events() for asyncio programs."""
        return self.list_review_events(after, limit)

    def prune_review_events(self, before_seq: int) -> int:
        """Delete the events below seq `before_seq`; how many went."""
        before_seq = prune_query(before_seq)
        with self._lock:
            self._settle()
            return self._events.prune(before_seq)

    async def aprune_review_events(self, before_seq: int) -> int:
        """prune_review_events() for asyncio programs."""
        return self.prune_review_events(before_seq)

    def apply_expiry(self, thread_id: str, interrupt_id: str, *, deadline: str, rule: Expire
                     ) -> Applied | None:
        """Carry out an expiry (see the SQL savers' apply_expiry)."""
        return self._act(thread_id, interrupt_id, actions.expiry(deadline, rule))

    async def aapply_expiry(self, thread_id: str, interrupt_id: str, *, deadline: str,
                            rule: Expire) -> Applied | None:
        return self.apply_expiry(thread_id, interrupt_id, deadline=deadline, rule=rule)

    def send_warning(self, thread_id: str, interrupt_id: str, *, warn_at: str
                     ) -> Applied | None:
        """Append a warning event once (see the SQL savers' send_warning)."""
        return self._act(thread_id, interrupt_id, actions.warn(warn_at))

    async def asend_warning(self, thread_id: str, interrupt_id: str, *, warn_at: str
                            ) -> Applied | None:
        return self.send_warning(thread_id, interrupt_id, warn_at=warn_at)

    def _act(self, thread_id: str, interrupt_id: str, action: actions.Action
             ) -> Applied | None:
        """Apply a review action to an open index entry (as _store.review_actions.act)."""
        thread_id, interrupt_id = str(thread_id), str(interrupt_id)
        with self._lock:
            self._settle()
            entry = self._index.entry(thread_id, interrupt_id)
            if entry is None or entry.answered:
                raise InterruptNotOpenError(thread_id=thread_id, interrupt_id=interrupt_id)
            outcome = action(actions.EntryState(
                thread_id, interrupt_id, entry.ns, entry.node, entry.graph_id, entry.assignee,
                entry.expires_at, entry.warned), now())
            if outcome is None:
                return None
            self._index.update(thread_id, interrupt_id, outcome.sets)
            logged = self._log(outcome.decisions, {interrupt_id: entry.graph_id},
                               outcome.events)
            return Applied(outcome, logged)

    def warnings_due(self, at: str, limit: int) -> list[tuple[str, str, str]]:
        """(thread_id, interrupt_id, warn_at) of open entries whose warning is due."""
        at = as_time("now", at) or at
        with self._lock:
            self._settle()
            return self._index.warnings_due(at, limit)

    async def awarnings_due(self, at: str, limit: int) -> list[tuple[str, str, str]]:
        return self.warnings_due(at, limit)

    def claim(self, thread_id: str, interrupt_id: str, principal: str, *,
              reason: str | None = None) -> Decision:
        """Hold an open interrupt (see the SQL savers' claim)."""
        return _only(self._act(thread_id, interrupt_id, actions.claim(
            actions.principal_of("principal", principal), reason)))

    def release(self, thread_id: str, interrupt_id: str, principal: str, *,
                force: bool = False, reason: str | None = None) -> Decision:
        """Let go of an interrupt (see the SQL savers' release)."""
        return _only(self._act(thread_id, interrupt_id, actions.release(
            actions.principal_of("principal", principal), bool(force), reason)))

    def reassign(self, thread_id: str, interrupt_id: str, principal: str, *, to: str,
                 reason: str | None = None) -> Decision:
        """Give an interrupt to `to` (see the SQL savers' reassign)."""
        return _only(self._act(thread_id, interrupt_id, actions.reassign(
            actions.principal_of("principal", principal), actions.principal_of("to", to),
            reason)))

    async def aclaim(self, thread_id: str, interrupt_id: str, principal: str, *,
                     reason: str | None = None) -> Decision:
        return self.claim(thread_id, interrupt_id, principal, reason=reason)

    async def arelease(self, thread_id: str, interrupt_id: str, principal: str, *,
                       force: bool = False, reason: str | None = None) -> Decision:
        return self.release(thread_id, interrupt_id, principal, force=force, reason=reason)

    async def areassign(self, thread_id: str, interrupt_id: str, principal: str, *, to: str,
                        reason: str | None = None) -> Decision:
        return self.reassign(thread_id, interrupt_id, principal, to=to, reason=reason)


def _only(applied: Applied | None) -> Decision:
    """The decision an assignment logged (under the lock, the entry cannot change between
    the read and the write, so an assignment always logs one)."""
    if applied is None or not applied.decisions:
        raise RuntimeError("the index entry changed while it was being assigned; try again")
    return applied.decisions[0]
