"""InMemorySaver's index of open interrupts (the rule is hitlgraph.review's): entries by
thread and interrupt id, and their sort keys kept in order, so a page is a walk from a bisect
rather than a sort of every thread's entries."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hitlgraph.checkpoint._events import NewEvent
from hitlgraph.checkpoint._pending import Change, PendingQuery, record
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.review import PendingInterrupt
from hitlgraph.review._cursor import CursorKey

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
    answered: bool = False


MetadataOf = Callable[[str, str, str], Any]
"""(thread_id, ns, checkpoint_id) -> that checkpoint's metadata (None when gone)."""


class MemoryIndex:
    """The open interrupts of an InMemorySaver; the saver calls it under its lock."""

    def __init__(self) -> None:
        self.threads: dict[str, dict[str, _Entry]] = {}
        self.order: list[CursorKey] = []

    def _remove(self, thread_id: str, keep: Callable[[_Entry], bool]) -> None:
        entries = self.threads.get(thread_id)
        if entries is None:
            return
        for iid in [iid for iid, entry in entries.items() if not keep(entry)]:
            key = entries.pop(iid).key
            del self.order[bisect.bisect_left(self.order, key)]
        if not entries:
            del self.threads[thread_id]

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
                entries[opened.interrupt_id] = _Entry(
                    key, ns, checkpoint_id, task_id, change.node, graph_id,
                    (opened.value_type, opened.value), opened.response_schema)
                bisect.insort(self.order, key)
        for iid, answered in change.answers:
            entry = self.threads.get(thread_id, {}).get(iid)
            if entry is not None:
                entry.answered = answered
        return created

    def page(self, serde: SerializerProtocol, query: PendingQuery,
             metadata_of: MetadataOf) -> list[PendingInterrupt]:
        """One page of open entries, newest first, after the query's cursor (for one
        thread, from that thread's entries alone)."""
        order = self.order
        if query.thread_id is not None:
            order = sorted(e.key for e in self.threads.get(query.thread_id, {}).values())
        end = len(order) if query.after is None else bisect.bisect_left(order, query.after)
        found: list[PendingInterrupt] = []
        for at in range(end - 1, -1, -1):
            created_at, thread_id, iid = order[at]
            entry = self.threads[thread_id][iid]
            if entry.answered or not _matches(entry, thread_id, query, metadata_of):
                continue
            found.append(record(
                serde, thread_id=thread_id, checkpoint_ns=entry.ns,
                checkpoint_id=entry.checkpoint_id, interrupt_id=iid, node=entry.node,
                graph_id=entry.graph_id, created_at=created_at, value=entry.value,
                response_schema=entry.response_schema))
            if len(found) >= query.limit:
                break
        return found


def _matches(entry: _Entry, thread_id: str, query: PendingQuery,
             metadata_of: MetadataOf) -> bool:
    if query.thread_id is not None and thread_id != query.thread_id:
        return False
    if query.graph_id is not None and entry.graph_id != query.graph_id:
        return False
    if query.node is not None and entry.node != query.node:
        return False
    if not query.metadata:
        return True
    metadata = metadata_of(thread_id, entry.ns, entry.checkpoint_id)
    return isinstance(metadata, dict) and all(
        metadata.get(k) == v for k, v in query.metadata)
