"""The long-term store behind the server's /store routes: opening it on the server's
database, and the bodies those routes take.

Items live in the server's own database (`store_items` in the SQLite file, or in the
PostgreSQL database), beside threads and checkpoints; each tenant sees its own namespace
tree (`_store_items_scope`).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hitlgraph.store.base import BaseStore, IndexConfig
from hitlgraph.store.sqlite.aio import AsyncSqliteStore

if TYPE_CHECKING:
    from hitlgraph.store.postgres.aio import AsyncPostgresStore

__all__ = ["ItemDelete", "ItemPut", "ItemSearch", "NamespaceList", "open_items_store"]


async def open_items_store(stack: AsyncExitStack, db: str, index: IndexConfig | None = None
                           ) -> BaseStore:
    """The store on `db` (a SQLite path, ":memory:", or a postgresql:// URL), set up, with
    its TTL sweeper running (every 5 minutes), both closed when `stack` closes. With
    `index` (langgraph.json's "store.index", see _store_items_index) a search's query ranks
    items by similarity; on PostgreSQL that needs pgvector, and setup says so without it."""
    store: AsyncSqliteStore | AsyncPostgresStore
    if db.startswith(("postgresql://", "postgres://")):
        from hitlgraph.store.postgres.aio import AsyncPostgresStore

        store = await stack.enter_async_context(
            AsyncPostgresStore.from_conn_string(db, index=index))
    else:
        store = await stack.enter_async_context(
            AsyncSqliteStore.from_conn_string(db, index=index))
    store.start_ttl_sweeper()
    # Stopped from a thread: a sweep in progress may be waiting for this event loop.
    stack.push_async_callback(asyncio.to_thread, store.stop_ttl_sweeper, 30.0)
    return store


MOST = 2**53
"""The bound of a count or a position: PostgreSQL's LIMIT and OFFSET take 64-bit integers (a
larger one was a 500, "bigint out of range", found by fuzzing a server on PostgreSQL), and
2**53 is the largest integer every JSON reader keeps exactly."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemPut(_Body):
    """PUT /store/items."""

    namespace: list[str]
    key: str
    value: dict[str, Any]
    index: Literal[False] | list[str] | None = None
    ttl: float | None = Field(None, gt=0, le=1e9)
    """Minutes until the item expires (none: never); at most 1e9 (about 1,900 years): a
    time past the calendar's end cannot be stored."""


class ItemDelete(_Body):
    """DELETE /store/items."""

    namespace: list[str]
    key: str


class ItemSearch(_Body):
    """POST /store/items/search."""

    namespace_prefix: list[str]
    filter: dict[str, Any] | None = None
    limit: int = Field(10, ge=0, le=MOST)
    offset: int = Field(0, ge=0, le=MOST)
    query: str | None = None
    refresh_ttl: bool | None = None


class NamespaceList(_Body):
    """POST /store/namespaces."""

    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(None, ge=1, le=MOST)
    limit: int = Field(100, ge=0, le=MOST)
    offset: int = Field(0, ge=0, le=MOST)
