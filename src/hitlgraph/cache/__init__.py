"""Caches for node and @task results: `compile(cache=InMemoryCache())` with
`add_node(..., cache_policy=CachePolicy(ttl=...))` reuses a node's writes for the same input."""

from hitlgraph.cache.base import BaseCache

__all__ = ["BaseCache"]
