"""BaseStore, the long-term memory interface: items in namespaces, shared across threads.

A node reaches the store its graph was compiled with (`compile(store=...)`); any code may
also use one directly. A store implements `batch` and `abatch` over the four operations
(GetOp, PutOp, SearchOp, ListNamespacesOp); the convenience methods here build those
operations, so a store written for LangGraph's BaseStore works the same way here.

Example:
    >>> from hitlgraph.store.memory import InMemoryStore
    >>> store = InMemoryStore()
    >>> store.put(("users", "u1"), "prefs", {"tone": "short"})
    >>> store.get(("users", "u1"), "prefs").value
    {'tone': 'short'}
    >>> [item.key for item in store.search(("users",), filter={"tone": "short"})]
    ['prefs']
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from hitlgraph.store._namespace import check_labels, check_op, check_writable
from hitlgraph.store._types import (
    NOT_PROVIDED,
    AEmbeddingsFunc,
    EmbeddingsFunc,
    GetOp,
    IndexConfig,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    NamespaceMatchType,
    NamespacePath,
    NotProvided,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)

__all__ = [
    "NOT_PROVIDED", "AEmbeddingsFunc", "BaseStore", "EmbeddingsFunc", "GetOp", "IndexConfig",
    "InvalidNamespaceError", "Item", "ListNamespacesOp", "MatchCondition", "NamespaceMatchType",
    "NamespacePath", "NotProvided", "Op", "PutOp", "Result", "SearchItem", "SearchOp",
    "TTLConfig", "validate_op_namespace",
]

validate_op_namespace = check_op


class BaseStore(ABC):
    """A key-value store of JSON-like dicts, organised in namespaces (tuples of labels).

    Subclasses implement `batch` and `abatch`: run the operations and return one result per
    operation, in order (an Item or None for GetOp, a list of SearchItem for SearchOp, a
    list of namespaces for ListNamespacesOp, None for PutOp). Reads in a batch see the
    store as it was before the batch's writes; of several puts to one key, the last wins.
    """

    supports_ttl: bool = False
    """Whether put(..., ttl=...) is honoured; a store without TTLs refuses one."""
    ttl_config: TTLConfig | None = None
    """Default TTL and refresh behaviour (see TTLConfig)."""

    __slots__ = ("__weakref__",)

    @abstractmethod
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` and return their results in order."""

    @abstractmethod
    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` from async code and return their results in order."""

    def get(self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
            ) -> Item | None:
        """The item at `namespace`/`key`, or None.

        Args:
            namespace: the item's namespace.
            key: its key.
            refresh_ttl: restart the item's TTL (default: the ttl_config's refresh_on_read,
                else True).
        """
        return self.batch([self._get_op(namespace, key, refresh_ttl)])[0]  # type: ignore[return-value]

    async def aget(self, namespace: tuple[str, ...], key: str, *,
                   refresh_ttl: bool | None = None) -> Item | None:
        """get() for async code."""
        return (await self.abatch([self._get_op(namespace, key, refresh_ttl)]))[0]  # type: ignore[return-value]

    def search(self, namespace_prefix: tuple[str, ...], /, *, query: str | None = None,
               filter: dict[str, Any] | None = None, limit: int = 10, offset: int = 0,
               refresh_ttl: bool | None = None) -> list[SearchItem]:
        """Items under `namespace_prefix` that pass `filter`, ranked by similarity to
        `query` when the store has an index.

        Args:
            namespace_prefix: the namespace to search in, with everything below it.
            query: text to rank by (needs an index; without one it is ignored).
            filter: see SearchOp.filter.
            limit: at most this many items.
            offset: skip this many first.
            refresh_ttl: restart the TTLs of the items returned.
        """
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return self.batch([op])[0]  # type: ignore[return-value]

    async def asearch(self, namespace_prefix: tuple[str, ...], /, *, query: str | None = None,
                      filter: dict[str, Any] | None = None, limit: int = 10, offset: int = 0,
                      refresh_ttl: bool | None = None) -> list[SearchItem]:
        """search() for async code."""
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return (await self.abatch([op]))[0]  # type: ignore[return-value]

    def put(self, namespace: tuple[str, ...], key: str, value: Mapping[str, Any],
            index: Literal[False] | list[str] | None = None, *,
            ttl: float | NotProvided | None = NOT_PROVIDED) -> None:
        """Store `value` at `namespace`/`key`, replacing what was there.

        Args:
            namespace: where to store it (not empty, first label not "langgraph").
            key: its key.
            value: a dict of JSON-serializable values.
            index: fields to embed (None: the index's fields; False: none).
            ttl: minutes until it expires (None: never; default: the ttl_config's default).

        Raises:
            InvalidNamespaceError: for a namespace the store cannot hold.
            NotImplementedError: for a ttl on a store without TTL support.
        """
        self.batch([self._put_op(namespace, key, value, index, ttl)])

    async def aput(self, namespace: tuple[str, ...], key: str, value: Mapping[str, Any],
                   index: Literal[False] | list[str] | None = None, *,
                   ttl: float | NotProvided | None = NOT_PROVIDED) -> None:
        """put() for async code."""
        await self.abatch([self._put_op(namespace, key, value, index, ttl)])

    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        """Remove the item at `namespace`/`key` (nothing happens if there is none)."""
        check_labels(namespace)
        self.batch([PutOp(namespace, str(key), None)])

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        """delete() for async code."""
        check_labels(namespace)
        await self.abatch([PutOp(namespace, str(key), None)])

    def list_namespaces(self, *, prefix: NamespacePath | None = None,
                        suffix: NamespacePath | None = None, max_depth: int | None = None,
                        limit: int = 100, offset: int = 0) -> list[tuple[str, ...]]:
        """The namespaces holding items, sorted; "*" in prefix or suffix matches any label.

        Args:
            prefix: keep namespaces starting with these labels.
            suffix: keep namespaces ending with these labels.
            max_depth: cut each namespace to this many labels (merging duplicates).
            limit: at most this many.
            offset: skip this many first.
        """
        op = _list_op(prefix, suffix, max_depth, limit, offset)
        return self.batch([op])[0]  # type: ignore[return-value]

    async def alist_namespaces(self, *, prefix: NamespacePath | None = None,
                               suffix: NamespacePath | None = None,
                               max_depth: int | None = None, limit: int = 100,
                               offset: int = 0) -> list[tuple[str, ...]]:
        """list_namespaces() for async code."""
        op = _list_op(prefix, suffix, max_depth, limit, offset)
        return (await self.abatch([op]))[0]  # type: ignore[return-value]

    def _refresh(self, refresh_ttl: bool | None) -> bool:
        if refresh_ttl is not None:
            return refresh_ttl
        return (self.ttl_config or {}).get("refresh_on_read", True)

    def _get_op(self, namespace: tuple[str, ...], key: str, refresh: bool | None) -> GetOp:
        check_labels(namespace)
        return GetOp(namespace, str(key), self._refresh(refresh))

    def _search_op(self, prefix: tuple[str, ...], query: str | None,
                   filter: dict[str, Any] | None, limit: int, offset: int,
                   refresh: bool | None) -> SearchOp:
        check_labels(prefix)
        return SearchOp(prefix, filter, limit, offset, query, self._refresh(refresh))

    def _put_op(self, namespace: tuple[str, ...], key: str, value: Mapping[str, Any],
                index: Literal[False] | list[str] | None, ttl: float | NotProvided | None
                ) -> PutOp:
        check_writable(namespace)
        if ttl is not NOT_PROVIDED and ttl is not None and not self.supports_ttl:
            raise NotImplementedError(
                f"{type(self).__name__} does not support TTLs; pass ttl=None, or use a "
                "store that does (InMemoryStore, SqliteStore, PostgresStore).")
        if isinstance(ttl, NotProvided):
            ttl = (self.ttl_config or {}).get("default_ttl")
        return PutOp(namespace, str(key), value, index=index, ttl=ttl)


def _list_op(prefix: NamespacePath | None, suffix: NamespacePath | None,
             max_depth: int | None, limit: int, offset: int) -> ListNamespacesOp:
    check_labels(tuple(label for label in prefix or () if label != "*"))
    check_labels(tuple(label for label in suffix or () if label != "*"))
    conditions = [MatchCondition("prefix", prefix)] if prefix else []
    if suffix:
        conditions.append(MatchCondition("suffix", suffix))
    return ListNamespacesOp(tuple(conditions), max_depth, limit, offset)
