"""InMemorySaver's index of open interrupts (the rule is hitlgraph.review's): entries by
thread and interrupt id, and their sort keys kept in order (by creation, and by deadline), so
a page is a walk from a bisect rather than a sort of every thread's entries."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hitlgraph.checkpoint._events import NewEvent
from hitlgraph.checkpoint._pending import Change, PendingQuery, Stored, record
from hitlgraph.checkpoint._pending_policy import PolicyColumns
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.review import PendingInterrupt
from hitlgraph.review._assignment import InterruptExpiredError
from hitlgraph.review._cursor import CursorKey
from hitlgraph.review._pending import NO_DEADLINE

__all__ = ["MemoryIndex"]


@dataclass(slots=True)
class _Entry:
    key: CursorKey
    """(created_at, thread_id, interrupt_id): the sort key."""
    ns: str
    checkpoint_id: str
    task_id: str
    node: str | None
    graph_id: str | None
    value: tuple[str, bytes]
    response_schema: str | None
    policy: PolicyColumns | None = None
    answered: bool = False
    expires_at: str | None = None
    warn_at: str | None = None
    assignee: str | None = None
    warned: bool = False
    expired: bool = False
    approvals_given: str | None = None

    @property
    def due(self) -> str:
        return self.expires_at or NO_DEADLINE

    def stored(self) -> Stored:
        policy = self.policy
        return Stored(
            self.key[1], self.ns, self.checkpoint_id, self.key[2], self.node, self.graph_id,
            self.key[0], self.value, self.response_schema, self.expires_at, self.warn_at,
            self.assignee, policy and policy.group, policy.approvals if policy else 1,
            policy and (policy.policy_type, policy.policy_value), self.approvals_given)


MetadataOf = Callable[[str, str, str], Any]
"""(thread_id, ns, checkpoint_id) -> that checkpoint's metadata (None when gone)."""


class MemoryIndex:
    """The open interrupts of an InMemorySaver; the saver calls it under its lock."""

    def __init__(self) -> None:
        self.threads: dict[str, dict[str, _Entry]] = {}
        self.order: list[CursorKey] = []
        self.by_due: list[CursorKey] = []
        """(due, thread_id, interrupt_id) of every entry, in order."""
        self.to_warn: list[CursorKey] = []
        """(warn_at, thread_id, interrupt_id) of the entries whose warning is not sent."""
        self.expired: set[str] = set()
        """The threads that may hold an entry closed by its expiry (see check_open): only
        review actions mark an entry so, and the saver carries its writes' facts out before
        any action, so a thread missing here holds none, whatever facts still wait."""

    def _remove(self, thread_id: str, keep: Callable[[_Entry], bool]) -> None:
        entries = self.threads.get(thread_id)
        if entries is None:
            return
        for iid in [iid for iid, entry in entries.items() if not keep(entry)]:
            entry = entries.pop(iid)
            del self.order[bisect.bisect_left(self.order, entry.key)]
            del self.by_due[bisect.bisect_left(self.by_due, (entry.due, thread_id, iid))]
            self._unwarn(entry, thread_id, iid)
        if not entries:
            del self.threads[thread_id]
            self.expired.discard(thread_id)

    def entry(self, thread_id: str, interrupt_id: str) -> _Entry | None:
        return self.threads.get(thread_id, {}).get(interrupt_id)

    def check_open(self, thread_id: str, checkpoint_id: str, ids: Iterable[str]) -> None:
        """Refuse answers to entries their policy closed when they expired.

        Raises:
            InterruptExpiredError: naming the first such entry of `ids`.
        """
        for iid in ids:
            found = self.entry(thread_id, iid)
            if found is not None and found.expired:
                raise InterruptExpiredError(thread_id=thread_id, interrupt_id=iid,
                                            checkpoint_id=checkpoint_id)

    def _unwarn(self, entry: _Entry, thread_id: str, iid: str) -> None:
        """Take the entry out of the warnings to send."""
        if entry.warn_at is not None and not entry.warned:
            del self.to_warn[bisect.bisect_left(self.to_warn, (entry.warn_at, thread_id, iid))]

    def update(self, thread_id: str, interrupt_id: str, sets: dict[str, Any]) -> None:
        """Set an entry's columns as a review action's outcome says (see
        checkpoint._review_actions.Outcome), keeping the deadline and warning orders."""
        entry = self.threads[thread_id][interrupt_id]
        self._unwarn(entry, thread_id, interrupt_id)
        del self.by_due[bisect.bisect_left(self.by_due, (entry.due, thread_id, interrupt_id))]
        entry.assignee = sets.get("assignee", entry.assignee)
        entry.expires_at = sets.get("expires_at", entry.expires_at)
        entry.warn_at = sets.get("warn_at", entry.warn_at)
        entry.warned = bool(sets.get("warned", entry.warned))
        entry.answered = bool(sets.get("answered", entry.answered))
        entry.expired = bool(sets.get("expired", entry.expired))
        if entry.expired:
            self.expired.add(thread_id)
        bisect.insort(self.by_due, (entry.due, thread_id, interrupt_id))
        if entry.warn_at is not None and not entry.warned:
            bisect.insort(self.to_warn, (entry.warn_at, thread_id, interrupt_id))

    def warnings_due(self, at: str, limit: int) -> list[tuple[str, str, str]]:
        """(thread_id, interrupt_id, warn_at) of open entries whose warning is due at `at`,
        earliest first: a walk from the start of the warning order."""
        found: list[tuple[str, str, str]] = []
        for warn_at, thread_id, iid in self.to_warn:
            if warn_at > at or len(found) >= limit:
                break
            if not self.threads[thread_id][iid].answered:
                found.append((thread_id, iid, warn_at))
        return found

    def close_older(self, thread_id: str, ns: str, checkpoint_id: str) -> None:
        """A checkpoint was stored: close its namespace's older entries (every namespace's,
        for the root namespace). Costs a dict lookup for a thread with none."""
        if thread_id in self.threads:
            self._remove(thread_id, lambda e: e.checkpoint_id >= checkpoint_id
                         or (ns != "" and e.ns != ns))

    def rewound(self, thread_id: str, ns: str, checkpoint_id: str) -> None:
        """The thread was rewound to `checkpoint_id`: close what came after it, and its own
        (its pending writes are stored again)."""
        self._remove(thread_id, lambda e: e.checkpoint_id < checkpoint_id
                     or (e.checkpoint_id == checkpoint_id and e.ns != ns))

    def open_older(self, thread_id: str, ns: str, checkpoint_id: str
                   ) -> list[tuple[str, str, str | None]]:
        """(interrupt id, namespace, node) of the unanswered entries a checkpoint stored now
        would close (see close_older): the questions an update_state drops."""
        return [(iid, e.ns, e.node) for iid, e in self.threads.get(thread_id, {}).items()
                if not e.answered and e.checkpoint_id < checkpoint_id
                and (ns == "" or e.ns == ns)]

    def asked(self, thread_id: str, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """(namespace, node) of each of `ids` the thread's entries hold."""
        entries = self.threads.get(thread_id, {})
        return {iid: (entries[iid].ns, entries[iid].node) for iid in ids if iid in entries}

    def drop_thread(self, thread_id: str) -> None:
        self._remove(thread_id, lambda e: False)

    def graphs(self, thread_id: str, ids: Iterable[str]) -> dict[str, str | None]:
        """The graph id of each of `ids` the thread's entries hold."""
        entries = self.threads.get(thread_id, {})
        return {iid: entries[iid].graph_id for iid in ids if iid in entries}

    def apply(self, thread_id: str, ns: str, checkpoint_id: str, task_id: str,
              change: Change, graph_id: str | None) -> list[NewEvent]:
        """A task's writes changed the index (see checkpoint._pending.Change); the events of
        the entries it opened (none for those the task held already)."""
        created: list[NewEvent] = []
        if change.opened is not None:
            def mine(e: _Entry) -> bool:
                return e.ns == ns and e.checkpoint_id == checkpoint_id and e.task_id == task_id

            before = {iid for iid, e in self.threads.get(thread_id, {}).items() if mine(e)}
            self._remove(thread_id, lambda e: not mine(e))
            entries = self.threads.setdefault(thread_id, {})
            for opened in change.opened:
                if opened.interrupt_id in entries:
                    continue  # a subgraph's interrupt, recorded where it was raised
                if opened.interrupt_id not in before:
                    created.append(NewEvent("interrupt.created", change.created_at, thread_id,
                                            ns, opened.interrupt_id, graph_id,
                                            opened.event_data))
                key = (change.created_at, thread_id, opened.interrupt_id)
                policy = opened.policy
                entry = entries[opened.interrupt_id] = _Entry(
                    key, ns, checkpoint_id, task_id, change.node, graph_id,
                    (opened.value_type, opened.value), opened.response_schema, policy)
                if policy is not None:
                    entry.expires_at, entry.warn_at = policy.expires_at, policy.warn_at
                    entry.assignee = policy.assignee
                    if entry.warn_at is not None:
                        bisect.insort(self.to_warn, (entry.warn_at, thread_id,
                                                     opened.interrupt_id))
                bisect.insort(self.order, key)
                bisect.insort(self.by_due, (entry.due, thread_id, opened.interrupt_id))
        for iid, answered in change.answers:
            found = self.entry(thread_id, iid)
            if found is not None:
                found.answered = answered
        for iid, names in change.given:
            found = self.entry(thread_id, iid)
            if found is not None:
                found.approvals_given = names
        return created

    def page(self, serde: SerializerProtocol, query: PendingQuery,
             metadata_of: MetadataOf) -> list[PendingInterrupt]:
        """One page of open entries in the query's order, after its cursor (for one
        thread, from that thread's entries alone)."""
        found: list[PendingInterrupt] = []
        for _, thread_id, iid in self._walk(query):
            entry = self.threads[thread_id][iid]
            if entry.answered or not _matches(entry, thread_id, query, metadata_of):
                continue
            found.append(record(serde, entry.stored(), query.order))
            if len(found) >= query.limit:
                break
        return found

    def _walk(self, query: PendingQuery) -> Iterable[CursorKey]:
        """The sort keys after the query's cursor, in its order."""
        deadline = query.order == "deadline"
        keys = self.by_due if deadline else self.order
        if query.thread_id is not None:
            keys = sorted((e.due, t, iid) if deadline else e.key
                          for iid, e in self.threads.get(query.thread_id, {}).items()
                          for t in (query.thread_id,))
        if deadline:
            start = 0 if query.after is None else bisect.bisect_right(keys, query.after)
            return (keys[at] for at in range(start, len(keys)))
        end = len(keys) if query.after is None else bisect.bisect_left(keys, query.after)
        return (keys[at] for at in range(end - 1, -1, -1))


def _matches(entry: _Entry, thread_id: str, query: PendingQuery,
             metadata_of: MetadataOf) -> bool:
    if query.thread_id is not None and thread_id != query.thread_id:
        return False
    for wanted, found in ((query.graph_id, entry.graph_id), (query.node, entry.node),
                          (query.group, entry.policy and entry.policy.group)):
        if wanted is not None and found != wanted:
            return False
    if query.assignee is not None or query.unassigned:
        if not ((entry.assignee == query.assignee and query.assignee is not None)
                or (query.unassigned and entry.assignee is None)):
            return False
    if query.expired_before is not None and entry.due > query.expired_before:
        return False
    if not query.metadata:
        return True
    metadata = metadata_of(thread_id, entry.ns, entry.checkpoint_id)
    return isinstance(metadata, dict) and all(
        metadata.get(k) == v for k, v in query.metadata)
