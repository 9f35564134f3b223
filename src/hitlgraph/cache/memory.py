"""InMemoryCache: a cache kept in this process, for nodes and @task calls with a CachePolicy.

Example:
    >>> from hitlgraph.cache.memory import InMemoryCache
    >>> cache = InMemoryCache()
    >>> cache.set({(("ns",), "k"): ({"answer": 42}, None)})
    >>> cache.get([(("ns",), "k"), (("ns",), "missing")])
    {(('ns',), 'k'): {'answer': 42}}
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from hitlgraph.cache.base import BaseCache, FullKey, Namespace
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["InMemoryCache"]


class InMemoryCache(BaseCache[Any]):
    """Entries live in a dict, serialized (so a cached value is a copy, never shared), each
    until its time to live runs out (checked when it is read). Safe to share between threads
    and graphs."""

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self._entries: dict[Namespace, dict[str, tuple[tuple[str, bytes], float | None]]] = {}
        self._lock = threading.Lock()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        found: dict[FullKey, tuple[str, bytes]] = {}
        now = time.time()
        with self._lock:
            for ns, key in keys:
                entries = self._entries.get(tuple(ns))
                entry = entries.get(key) if entries is not None else None
                if entry is None:
                    continue
                data, expires = entry
                if expires is not None and now >= expires:
                    del entries[key]  # type: ignore[union-attr]
                    continue
                found[(tuple(ns), key)] = data
        return {k: self.serde.loads_typed(v) for k, v in found.items()}

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        return self.get(keys)

    def set(self, pairs: Mapping[FullKey, tuple[Any, int | None]]) -> None:
        now = time.time()
        encoded = {
            (tuple(ns), key): (self.serde.dumps_typed(value),
                               None if ttl is None else now + ttl)
            for (ns, key), (value, ttl) in pairs.items()
        }
        with self._lock:
            for (ns, key), entry in encoded.items():
                self._entries.setdefault(ns, {})[key] = entry

    async def aset(self, pairs: Mapping[FullKey, tuple[Any, int | None]]) -> None:
        self.set(pairs)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._entries.clear()
                return
            for ns in namespaces:
                self._entries.pop(tuple(ns), None)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        self.clear(namespaces)
