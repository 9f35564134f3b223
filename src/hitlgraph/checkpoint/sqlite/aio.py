"""AsyncSqliteSaver: SqliteSaver for asyncio programs, with no extra dependency.

Each operation runs SqliteSaver's logic on one dedicated worker thread of the saver, so the
event loop never waits on disk or on another process's lock, and operations run in the order
they were awaited.

Example:
    >>> from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    >>> async with AsyncSqliteSaver.from_conn_string("checkpoints.db") as saver:  # doctest: +SKIP
    ...     graph = builder.compile(checkpointer=saver)
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.shell import AsyncStore
from hitlgraph.checkpoint._thread_list import AsyncThreads
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.checkpoint.sqlite import SqliteSaver, connect

__all__ = ["AsyncSqliteSaver"]

_T = TypeVar("_T")


class AsyncSqliteSaver(AsyncThreads, AsyncStore, SqliteSaver):
    """A checkpoint saver backed by SQLite with async methods (aget_tuple, alist, aput, ...).

    The sync methods work too, from any thread; called on the event loop's thread they block
    it, so prefer the async ones there.

    Args:
        conn: an open connection, opened with `check_same_thread=False` (the worker thread
            uses it) and preferably `isolation_level=None`.
        serde: the serializer of channel values, writes and metadata (default msgpack).
    """

    def __init__(
        self, conn: sqlite3.Connection, *, serde: SerializerProtocol | None = None
    ) -> None:
        super().__init__(conn, serde=serde)
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(  # type: ignore[override]
        cls, conn_string: str, *, serde: SerializerProtocol | None = None
    ) -> AsyncIterator[AsyncSqliteSaver]:
        """A saver on the database file at `conn_string` (":memory:" allowed), whose connection
        and worker thread are closed when the `async with` block ends.

        Args:
            conn_string: a file path, or ":memory:".
            serde: the serializer to use (default msgpack).

        Yields:
            The saver, already set up.
        """
        saver = cls(connect(conn_string), serde=serde)
        try:
            await saver.asetup()
            yield saver
        finally:
            await saver._in_worker(saver.conn.close)
            saver._shutdown()

    def _shutdown(self) -> None:
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    async def _in_worker(self, fn: Callable[..., _T], *args: Any) -> _T:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="hitlgraph-sqlite"
                )
            executor = self._executor
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args))

    async def _arun(self, call: Call[_T]) -> _T:
        return await self._in_worker(self._run, call)

    async def asetup(self) -> None:
        """Configure the connection and create or migrate the tables (see `setup`)."""
        await self._in_worker(self.setup)
