"""Caches for node and @task results: `compile(cache=InMemoryCache())` with
`add_node(..., cache_policy=CachePolicy(ttl=...))` reuses a node's writes for the same input.

`BaseCache` is imported on first use (PEP 562): `import hitlgraph.types` loads this package for
the default cache key, and the cache classes need the serializer, which it does not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hitlgraph._lazy import lazy_names

if TYPE_CHECKING:
    from hitlgraph.cache.base import BaseCache

__all__ = ["BaseCache"]

__getattr__, __dir__ = lazy_names("hitlgraph.cache", {"BaseCache": "hitlgraph.cache.base"},
                                  globals())
