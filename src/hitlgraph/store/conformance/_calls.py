"""What the checks share: the Backend under test, `Calls` (one check body drives a store's
sync methods or its async ones), and the embedding function the index checks use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal

from hitlgraph.store.base import BaseStore, IndexConfig, Item, Op, Result, SearchItem, TTLConfig

__all__ = ["EVIL", "INDEX", "Backend", "Calls", "Mode", "Opener", "embed_words"]

Mode = Literal["sync", "async"]
"""Which methods the checks call: "sync" (put, get, ...) or "async" (aput, aget, ...)."""

Opener = Callable[[IndexConfig | None, TTLConfig | None],
                  AbstractAsyncContextManager[BaseStore]]
"""Makes a fresh, empty store with this index and TTL config (both may be None), entered in
the event loop the check runs in and closed when the `async with` block ends."""

EVIL = "x'; DROP TABLE store; --"
"""Text that would end a quoted SQL string and drop a table if a store pasted it into SQL."""

WORDS = ("cat", "dog", "fish")


def embed_words(texts: Sequence[str]) -> list[list[float]]:
    """A tiny deterministic embedding: how often each of cat, dog, fish occurs in a text."""
    return [[float(text.count(word)) for word in WORDS] for text in texts]


INDEX: IndexConfig = {"dims": len(WORDS), "embed": embed_words, "fields": ["text"]}
"""The index the similarity checks open their store with."""


@dataclass(frozen=True)
class Backend:
    """A store under test.

    Attributes:
        name: shown in reports.
        open: see Opener.
        mode: the methods to call.
        similarity: whether the store takes an index (similarity checks are skipped if not).
        query_finds_unindexed: whether a search with a query lists the items stored without
            vectors, unscored, after the ranked ones (LangGraph's InMemoryStore does; its
            PostgresStore, whose database ranks, leaves them out).
    """

    name: str
    open: Opener
    mode: Mode = "sync"
    similarity: bool = True
    query_finds_unindexed: bool = True


class Calls:
    """A store's methods as coroutines: the sync ones called directly ("sync" mode), or the
    async ones awaited, so each check is written once for both."""

    def __init__(self, store: BaseStore, mode: Mode, *, query_finds_unindexed: bool = True
                 ) -> None:
        self.store = store
        self.mode = mode
        self.query_finds_unindexed = query_finds_unindexed

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            return getattr(self.store, name)(*args, **kwargs)
        return await getattr(self.store, f"a{name}")(*args, **kwargs)

    async def put(self, namespace: tuple[str, ...], key: str, value: dict[str, Any],
                  **kwargs: Any) -> None:
        await self._call("put", namespace, key, value, **kwargs)

    async def get(self, namespace: tuple[str, ...], key: str, **kwargs: Any) -> Item | None:
        found: Item | None = await self._call("get", namespace, key, **kwargs)
        return found

    async def delete(self, namespace: tuple[str, ...], key: str) -> None:
        await self._call("delete", namespace, key)

    async def search(self, prefix: tuple[str, ...], **kwargs: Any) -> list[SearchItem]:
        found: list[SearchItem] = await self._call("search", prefix, **kwargs)
        return found

    async def list_namespaces(self, **kwargs: Any) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = await self._call("list_namespaces", **kwargs)
        return found

    async def batch(self, ops: list[Op]) -> list[Result]:
        found: list[Result] = await self._call("batch", ops)
        return found

    async def sweep_ttl(self) -> int:
        """The store's sweep_ttl (or asweep_ttl), which every hitlgraph store has."""
        found: int = await self._call("sweep_ttl")
        return found
