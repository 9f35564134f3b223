"""What the conformance suite leaves to each backend: search order, reopening a file, the
calling async stores from the wrong place (PostgreSQL with an index: test_pgvector_store)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from _services import require_postgres
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.store.base import BaseStore
from hitlgraph.store.memory import InMemoryStore
from hitlgraph.store.sqlite import SqliteStore


def _put_three(store: BaseStore) -> None:
    for key in ("a", "b", "c"):
        store.put(("o",), key, {"k": key})
    store.put(("o",), "a", {"k": "a2"})


def test_sql_search_is_most_recently_updated_first(tmp_path: Path) -> None:
    with SqliteStore.from_conn_string(str(tmp_path / "s.sqlite")) as store:
        _put_three(store)
        assert [i.key for i in store.search(("o",))] == ["a", "c", "b"]


def test_memory_search_is_first_written_first() -> None:
    store = InMemoryStore()
    _put_three(store)
    assert [i.key for i in store.search(("o",))] == ["a", "b", "c"]


def test_sqlite_store_reopens_its_file_beside_a_saver(tmp_path: Path) -> None:
    path = str(tmp_path / "both.sqlite")
    with SqliteSaver.from_conn_string(path) as saver:
        saver.setup()
    with SqliteStore.from_conn_string(path) as store:
        store.put(("u",), "k", {"v": 1})
    with SqliteStore.from_conn_string(path) as store:
        store.setup()  # again: nothing to migrate
        item = store.get(("u",), "k")
        assert item is not None and item.value == {"v": 1}
        versions = store.conn.execute("SELECT v FROM store_migrations").fetchall()
        assert [v for (v,) in versions] == list(range(len(store.dialect.migrations)))


def test_async_embed_function_needs_the_async_methods() -> None:
    async def embed(texts: object) -> list[list[float]]:
        return [[1.0]]

    store = InMemoryStore(index={"dims": 1, "embed": embed})
    with pytest.raises(TypeError, match="aput, asearch, abatch"):
        store.put(("n",), "k", {"t": "x"})
    asyncio.run(store.aput(("n",), "k", {"t": "x"}))
    assert store.get(("n",), "k") is not None


def test_async_postgres_store_sync_methods_work_off_its_loop_only() -> None:
    from _store_postgres import open_postgres

    dsn = require_postgres()
    seen: list[object] = []

    async def main() -> None:
        async with open_postgres(dsn, "async", None, None) as store:
            await store.aput(("x",), "k", {"v": 1})
            with pytest.raises(RuntimeError, match="async ones"):
                store.get(("x",), "k")
            worker = threading.Thread(target=lambda: seen.append(store.get(("x",), "k")))
            worker.start()
            while worker.is_alive():
                await asyncio.sleep(0.01)

    asyncio.run(main())
    assert [getattr(i, "value", None) for i in seen] == [{"v": 1}]


def test_the_ttl_sweeper_deletes_expired_items_in_the_background(tmp_path: Path) -> None:
    memory = InMemoryStore()
    with SqliteStore.from_conn_string(str(tmp_path / "swept.sqlite")) as sqlite:
        for store in (memory, sqlite):
            store.put(("s",), "gone", {"v": 1}, ttl=0.001)  # 60 ms
            store.put(("s",), "kept", {"v": 2})
            done = store.start_ttl_sweeper(sweep_interval_minutes=0.002)  # every 120 ms
            assert store.start_ttl_sweeper() is done, "a second sweeper was started"
        deadline = time.monotonic() + 10
        while sqlite.conn.execute("SELECT count(*) FROM store_items").fetchone()[0] > 1 \
                or any(len(entries) > 1 for entries in memory._data.values()):
            assert time.monotonic() < deadline, "the sweeper deleted nothing"
            time.sleep(0.05)
        for store in (memory, sqlite):
            assert store.stop_ttl_sweeper(timeout=5)
            assert store.get(("s",), "kept") is not None
        assert done.done()
