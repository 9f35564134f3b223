"""A PostgresStore over a scratch table `t (k, n)`, for tests of how the store sends an
operation's statements (pipeline, COMMIT riding with the last write)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


def on_store(pg_url: str, body: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `body(store)` on a fresh store whose database has an empty table `t`."""
    from hitlgraph.server.store.postgres import PostgresStore

    async def main() -> Any:
        store = PostgresStore.from_conn_string(pg_url, max_size=2)
        await store.pool.open(wait=True)
        try:
            async with store.pool.connection() as conn:
                await conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL)")
            return await body(store)
        finally:
            await store.close()
    return asyncio.run(main())


async def table_rows(store: Any) -> list[tuple[str, int]]:
    """What `t` holds, by key, read on a pooled connection outside any operation."""
    async with store.pool.connection() as conn:
        rows: list[tuple[str, int]] = await (await conn.execute(
            "SELECT k, n FROM t ORDER BY k")).fetchall()
        return rows
