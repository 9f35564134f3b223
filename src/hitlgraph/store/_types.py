"""The store's plain records: items, the four operations, and the index and TTL settings.

They mirror `langgraph.store.base` name for name and field for field, because user code
builds them (``GetOp(("users",), "u1")``), reads them (``item.value``, ``item.dict()``) and
passes the settings as dicts. The operations are named tuples, as there, so positional
construction keeps working.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypedDict

__all__ = [
    "NOT_PROVIDED", "AEmbeddingsFunc", "EmbeddingsFunc", "GetOp", "IndexConfig",
    "InvalidNamespaceError", "Item", "ListNamespacesOp", "MatchCondition", "NamespaceMatchType",
    "NamespacePath", "NotProvided", "Op", "PutOp", "Result", "SearchItem", "SearchOp",
    "TTLConfig",
]


class NotProvided:
    """The type of NOT_PROVIDED: "the caller gave no ttl" (None means "no expiry")."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_PROVIDED = NotProvided()


def _as_datetime(value: datetime | str) -> datetime:
    # An Item sent as JSON comes back with ISO strings; accept them as LangGraph does.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Item:
    """A stored value with its place and timestamps.

    Args:
        value: the stored dict.
        key: the item's key within its namespace.
        namespace: the item's namespace, a tuple of labels.
        created_at: when the key was first written (kept across updates).
        updated_at: when it was last written.
    """

    __slots__ = ("created_at", "key", "namespace", "updated_at", "value")

    def __init__(self, *, value: dict[str, Any], key: str, namespace: tuple[str, ...],
                 created_at: datetime | str, updated_at: datetime | str) -> None:
        self.value = value
        self.key = key
        self.namespace = tuple(namespace)
        self.created_at = _as_datetime(created_at)
        self.updated_at = _as_datetime(updated_at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Item):
            return False
        return (self.value, self.key, self.namespace, self.created_at, self.updated_at) == (
            other.value, other.key, other.namespace, other.created_at, other.updated_at)

    def __hash__(self) -> int:
        return hash((self.namespace, self.key))

    def dict(self) -> dict[str, Any]:
        """The item as JSON-ready data (namespace as a list, timestamps as ISO strings)."""
        return {"namespace": list(self.namespace), "key": self.key, "value": self.value,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.dict().items())
        return f"Item({fields})"  # a SearchItem too, as LangGraph prints them


class SearchItem(Item):
    """An item found by search, with its similarity `score` (None unless a query ranked it).

    Args:
        namespace: the item's namespace.
        key: its key.
        value: its value.
        created_at: when it was first written.
        updated_at: when it was last written.
        score: cosine similarity to the query, or None.
    """

    __slots__ = ("score",)

    def __init__(self, namespace: tuple[str, ...], key: str, value: dict[str, Any],
                 created_at: datetime | str, updated_at: datetime | str,
                 score: float | None = None) -> None:
        super().__init__(value=value, key=key, namespace=namespace, created_at=created_at,
                         updated_at=updated_at)
        self.score = score

    def dict(self) -> dict[str, Any]:
        """As Item.dict(), plus "score"."""
        return {**super().dict(), "score": self.score}


class GetOp(NamedTuple):
    """Read one item."""

    namespace: tuple[str, ...]
    key: str
    refresh_ttl: bool = True
    """Restart the item's TTL (if it has one) on this read."""


class SearchOp(NamedTuple):
    """Find items under a namespace prefix, by filter and, with an index, by similarity."""

    namespace_prefix: tuple[str, ...]
    filter: dict[str, Any] | None = None
    """Top-level value keys to match: a value for equality, or {"$op": value} with $eq, $ne,
    $gt, $gte, $lt, $lte."""
    limit: int = 10
    offset: int = 0
    query: str | None = None
    """Text to rank by similarity (needs an index; ignored without one)."""
    refresh_ttl: bool = True


NamespacePath = tuple[str, ...]
"""A namespace pattern: labels, where "*" matches any one label."""

NamespaceMatchType = Literal["prefix", "suffix"]
"""Where a MatchCondition's path must match: "prefix" from the first label, "suffix" from
the last."""


class MatchCondition(NamedTuple):
    """A pattern a listed namespace must match."""

    match_type: NamespaceMatchType
    path: NamespacePath


class ListNamespacesOp(NamedTuple):
    """List the namespaces that hold items, sorted, optionally cut to `max_depth` labels."""

    match_conditions: tuple[MatchCondition, ...] | None = None
    max_depth: int | None = None
    limit: int = 100
    offset: int = 0


class PutOp(NamedTuple):
    """Write one item, or delete it (value None)."""

    namespace: tuple[str, ...]
    key: str
    value: Mapping[str, Any] | None
    index: Literal[False] | list[str] | None = None  # type: ignore[assignment]  # LangGraph's field name shadows tuple.index
    """Fields to embed: None for the index's own fields, False for none, or a list of paths."""
    ttl: float | None = None
    """Minutes until the item expires after its last write (or refreshing read)."""


Op = GetOp | SearchOp | PutOp | ListNamespacesOp
Result = Item | list[Item] | list[SearchItem] | list[tuple[str, ...]] | None


class InvalidNamespaceError(ValueError):
    """A namespace the store cannot hold: empty, a label that is empty, not a string, or
    holds "." or a NUL byte, or (for writes) a first label "langgraph"."""


EmbeddingsFunc = Callable[[Sequence[str]], list[list[float]]]
"""A function from texts to one vector each."""
AEmbeddingsFunc = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
"""The same as a coroutine function."""


class TTLConfig(TypedDict, total=False):
    """How a store treats time-to-live (minutes)."""

    refresh_on_read: bool
    """Reads restart an item's TTL unless they say otherwise (default True)."""
    omit_expired: bool
    """Accepted for LangGraph's sake: hitlgraph's stores always leave expired items out."""
    default_ttl: float | None
    """The TTL of a put that gives none (default None: no expiry)."""
    sweep_interval_minutes: int | None
    """How often start_ttl_sweeper() deletes expired items (default 5)."""


class IndexConfig(TypedDict, total=False):
    """Similarity search settings."""

    dims: int
    """Length of each embedding vector."""
    embed: Any
    """A function texts -> vectors (sync or async), an object with embed_documents and
    embed_query (a LangChain Embeddings), or a "provider:model" string (needs langchain)."""
    fields: list[str] | None
    """Paths of the text to embed in each value (default ["$"], the whole value)."""
