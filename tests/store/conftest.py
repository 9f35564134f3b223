"""Store backends for the conformance suite and the store tests: memory, SQLite files and
PostgreSQL without and with pgvector (a fresh schema per store), each sync and async."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from _services import require_postgres
from hitlgraph.store.base import BaseStore, IndexConfig, TTLConfig
from hitlgraph.store.conformance import Backend
from hitlgraph.store.memory import InMemoryStore
from hitlgraph.store.sqlite import SqliteStore, connect
from hitlgraph.store.sqlite.aio import AsyncSqliteStore


def _memory() -> Callable[[IndexConfig | None, TTLConfig | None],
                          contextlib.AbstractAsyncContextManager[BaseStore]]:
    @contextlib.asynccontextmanager
    async def open_(index: IndexConfig | None, ttl: TTLConfig | None
                    ) -> AsyncIterator[BaseStore]:
        yield InMemoryStore(index=index, ttl=ttl)
    return open_


def _sqlite(folder: Path, mode: str) -> Callable[
        [IndexConfig | None, TTLConfig | None], contextlib.AbstractAsyncContextManager[BaseStore]]:
    @contextlib.asynccontextmanager
    async def open_(index: IndexConfig | None, ttl: TTLConfig | None
                    ) -> AsyncIterator[BaseStore]:
        path = str(folder / f"store-{uuid.uuid4().hex}.sqlite")
        if mode == "async":
            async with AsyncSqliteStore.from_conn_string(path, index=index, ttl=ttl) as a:
                yield a
            return
        conn = connect(path)
        try:
            yield SqliteStore(conn, index=index, ttl=ttl)
        finally:
            conn.close()
    return open_


def _postgres(mode: str, *, vectors: bool) -> Callable[
        [IndexConfig | None, TTLConfig | None], contextlib.AbstractAsyncContextManager[BaseStore]]:
    from _store_postgres import open_postgres

    from _services import require_pgvector

    dsn = require_pgvector() if vectors else require_postgres()

    def open_(index: IndexConfig | None, ttl: TTLConfig | None
              ) -> contextlib.AbstractAsyncContextManager[BaseStore]:
        return open_postgres(dsn, mode, index, ttl)
    return open_


@pytest.fixture
def make_backend(tmp_path: Path) -> Callable[[str], Backend]:
    """Backend by name (see BACKEND_NAMES)."""
    def make(name: str) -> Backend:
        kind, mode = name.split("-")
        if kind == "memory":
            return Backend(name, _memory(), mode=mode)  # type: ignore[arg-type]
        if kind == "sqlite":
            return Backend(name, _sqlite(tmp_path, mode), mode=mode)  # type: ignore[arg-type]
        if kind == "pgvector":
            return Backend(name, _postgres(mode, vectors=True),  # type: ignore[arg-type]
                           mode=mode, query_finds_unindexed=False)  # type: ignore[arg-type]
        return Backend(name, _postgres(mode, vectors=False), mode=mode,  # type: ignore[arg-type]
                       similarity=False)
    return make
