"""The cache interface.

A cache maps full keys `(namespace, key)` to values, each kept for its own time to live.
Namespaces are tuples of strings (how hitlgraph names them: `hitlgraph.cache._keys`, whose
names are also importable from here). `clear(namespaces)` drops whole namespaces (all of them
without an argument).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Generic, TypeVar

from hitlgraph.cache._keys import (
    WRITES_NS,
    FullKey,
    Namespace,
    cache_key,
    default_cache_key,
    identifier,
)
from hitlgraph.checkpoint.serde import MsgpackSerializer, SerializerProtocol

__all__ = [
    "WRITES_NS",
    "BaseCache",
    "FullKey",
    "Namespace",
    "cache_key",
    "default_cache_key",
    "identifier",
]

ValueT = TypeVar("ValueT")

class BaseCache(ABC, Generic[ValueT]):
    """Where cached node writes and @task results are kept.

    Subclasses store values through `self.serde` (so a cache may live outside the process)
    and implement the six methods; the async ones may simply call the sync ones.
    """

    serde: SerializerProtocol

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        self.serde = serde if serde is not None else MsgpackSerializer()

    @abstractmethod
    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The values stored under those of `keys` that are present and not expired."""

    @abstractmethod
    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Like get(), without blocking the event loop."""

    @abstractmethod
    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Store each value under its key for `ttl` seconds (None: until cleared)."""

    @abstractmethod
    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Like set(), without blocking the event loop."""

    @abstractmethod
    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Drop every entry of these namespaces (of all namespaces when None)."""

    @abstractmethod
    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Like clear(), without blocking the event loop."""
