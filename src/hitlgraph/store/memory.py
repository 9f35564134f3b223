"""InMemoryStore: the store in a dict, for tests, notebooks and single-process programs.

Search without a query returns items in the order their keys were first written (by
namespace, then key), as LangGraph's InMemoryStore does; with a query and an index, best
similarity first. Unlike LangGraph's, it honours TTLs (expired items are gone on the next
read; sweep_ttl() removes them all) and keeps an item's created_at across updates.

Example:
    >>> from hitlgraph.store.memory import InMemoryStore
    >>> def embed(texts):  # any function from texts to vectors
    ...     return [[1.0, 0.0] if "cat" in t else [0.0, 1.0] for t in texts]
    >>> store = InMemoryStore(index={"dims": 2, "embed": embed, "fields": ["text"]})
    >>> store.put(("notes",), "a", {"text": "a cat sat"})
    >>> store.put(("notes",), "b", {"text": "a dog ran"})
    >>> [(i.key, round(i.score, 2)) for i in store.search(("notes",), query="cats")]
    [('a', 1.0), ('b', 0.0)]
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hitlgraph.store import _filter, _namespace, _plan
from hitlgraph.store._embed import Embedder, rank
from hitlgraph.store._sweeper import Sweeping
from hitlgraph.store._types import (
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from hitlgraph.store.base import BaseStore

__all__ = ["InMemoryStore"]


@dataclass(slots=True)
class _Entry:
    item: Item
    ttl: float | None
    expires_at: datetime | None
    vectors: dict[str, list[float]]


class InMemoryStore(Sweeping, BaseStore):
    """A store held in this process's memory.

    Args:
        index: similarity search settings (see IndexConfig); without one, `query` is
            ignored by search.
        ttl: default TTL and refresh behaviour (see TTLConfig).
    """

    supports_ttl = True
    __slots__ = ("_data", "_embedder", "_lock", "index_config", "ttl_config")

    def __init__(self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None
                 ) -> None:
        self._data: dict[tuple[str, ...], dict[str, _Entry]] = {}
        self._lock = threading.Lock()
        self.index_config = index
        self.ttl_config = ttl
        self._embedder = Embedder(index) if index else None

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` (see BaseStore.batch); an async embed function needs abatch()."""
        plan = _plan.plan(ops, self._embedder)
        return self._run(plan, _plan.embed(plan, self._embedder))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` from async code (see BaseStore.batch)."""
        plan = _plan.plan(ops, self._embedder)
        return self._run(plan, await _plan.aembed(plan, self._embedder))

    def sweep_ttl(self) -> int:
        """Delete every expired item now; returns how many."""
        now = datetime.now(timezone.utc)
        with self._lock:
            gone = [(ns, key) for ns, entries in self._data.items()
                    for key, entry in entries.items() if _expired(entry, now)]
            for ns, key in gone:
                del self._data[ns][key]
        return len(gone)

    async def asweep_ttl(self) -> int:
        """sweep_ttl() for async code."""
        return self.sweep_ttl()

    def _run(self, plan: _plan.Plan, vectors: _plan.Vectors) -> list[Result]:
        now = datetime.now(timezone.utc)
        with self._lock:
            results = [self._read(op, now, vectors) for op in plan.ops]
            for (ns, key), op in plan.puts.items():
                self._write(op, now, vectors.docs.get((ns, key), {}))
        return results

    def _read(self, op: Op, now: datetime, vectors: _plan.Vectors) -> Result:
        if isinstance(op, GetOp):
            entry = self._live(op.namespace, op.key, now)
            if entry is not None and op.refresh_ttl:
                _refresh(entry, now)
            return entry.item if entry is not None else None
        if isinstance(op, SearchOp):
            return self._search(op, now, vectors)
        if isinstance(op, ListNamespacesOp):
            return _namespace.list_matching(
                (ns for ns, entries in self._data.items()
                 if any(not _expired(e, now) for e in entries.values())), op)
        return None  # a PutOp: applied after every read

    def _live(self, namespace: tuple[str, ...], key: str, now: datetime) -> _Entry | None:
        entry = self._data.get(namespace, {}).get(key)
        if entry is not None and _expired(entry, now):
            del self._data[namespace][key]
            return None
        return entry

    def _search(self, op: SearchOp, now: datetime, vectors: _plan.Vectors
                ) -> list[SearchItem]:
        size = len(op.namespace_prefix)
        found = [entry for ns, entries in self._data.items()
                 if ns[:size] == op.namespace_prefix for entry in entries.values()
                 if not _expired(entry, now) and _filter.matches(entry.item.value, op.filter)]
        query = vectors.queries.get(op.query) if op.query else None
        if query is None:
            ranked: list[tuple[float | None, _Entry]] = [(None, e) for e in found]
        else:
            ranked = rank([(e, list(e.vectors.values())) for e in found], query)
        page = ranked[op.offset: op.offset + op.limit]
        for _, entry in page:
            if op.refresh_ttl:
                _refresh(entry, now)
        return [_search_item(entry.item, score) for score, entry in page]

    def _write(self, op: PutOp, now: datetime, vectors: dict[str, list[float]]) -> None:
        entries = self._data.setdefault(op.namespace, {})
        if op.value is None:
            entries.pop(op.key, None)
            return
        old = self._live(op.namespace, op.key, now)
        created = old.item.created_at if old is not None else now
        item = Item(value=dict(op.value), key=op.key, namespace=op.namespace,
                    created_at=created, updated_at=now)
        expires = None if op.ttl is None else now + timedelta(minutes=op.ttl)
        entries[op.key] = _Entry(item, op.ttl, expires, vectors)


def _expired(entry: _Entry, now: datetime) -> bool:
    return entry.expires_at is not None and entry.expires_at <= now


def _refresh(entry: _Entry, now: datetime) -> None:
    if entry.ttl is not None:
        entry.expires_at = now + timedelta(minutes=entry.ttl)


def _search_item(item: Item, score: float | None) -> SearchItem:
    return SearchItem(item.namespace, item.key, item.value, item.created_at, item.updated_at,
                      score)
