"""list_threads(), written once for the SQL savers: one statement that reads a page of thread
ids from the checkpoints' primary key (thread_id first), sync and async shells over it; and
`ThreadIds`, the sorted ids InMemorySaver pages through the same way.

Each backend supplies its `ThreadSql`: a recursive query that jumps from one thread id to
the next through the key (a few index probes per thread, however many checkpoints each
thread has), then reads each thread's latest top-level checkpoint id and time, also through
the key. Nothing is decoded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right, insort
from collections.abc import AsyncIterator, Callable, Iterator
from typing import ClassVar, NamedTuple, TypeVar

from hitlgraph._offload import to_thread
from hitlgraph.checkpoint._rows import row_ts
from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.ops import Ops, Statement
from hitlgraph.checkpoint.base import ThreadInfo, ThreadQuery, thread_query

__all__ = ["AsyncThreads", "SyncThreads", "ThreadIds", "ThreadSql", "list_page"]

_T = TypeVar("_T")


class ThreadSql(NamedTuple):
    """A backend's statement in two forms, by where the page starts: after a cursor
    (`thread_id > bound`) or at a prefix (`thread_id >= bound`). Both take the parameters
    (bound, prefix length, prefix, limit, prefix length, prefix) and return (thread_id,
    latest checkpoint_id, its stored ts or NULL) rows in thread id order."""

    after: str
    starting: str


def list_page(sql: ThreadSql, query: ThreadQuery) -> Ops[list[ThreadInfo]]:
    """One page of `query`: the threads' ids, latest top-level checkpoints and times."""
    strict, bound = query.start()
    size = len(query.prefix)
    rows = yield Statement(sql.after if strict else sql.starting,
                           (bound, size, query.prefix, query.limit, size, query.prefix))
    return [ThreadInfo(thread_id=str(row[0]), checkpoint_id=str(row[1]),
                       created_at=row_ts(str(row[1]), row[2])) for row in rows or ()]


class SyncThreads(ABC):
    """list_threads() of a saver whose calls run through `_run`; alist_threads() runs it in
    a worker thread (as the sync shell runs a sync saver's other async methods)."""

    thread_sql: ClassVar[ThreadSql]

    @abstractmethod
    def _run(self, call: Call[_T]) -> _T:
        """Carry out `call` (setting the saver up first if needed)."""

    def _threads_call(self, prefix: str | None, limit: int, after: str | None
                      ) -> Call[list[ThreadInfo]]:
        """One page's call (its arguments checked here, before any connection)."""
        query = thread_query(prefix=prefix, limit=limit, after=after)
        return Call(list_page(self.thread_sql, query), write=False)

    def list_threads(self, *, prefix: str | None = None, limit: int = 50,
                     after: str | None = None) -> Iterator[ThreadInfo]:
        """The threads that have a top-level checkpoint, by thread id (code point order): one
        statement reading one page of the checkpoints' key, whatever the number of threads
        or of checkpoints per thread.

        Args:
            prefix: only threads whose id starts with this text (taken literally: no
                wildcards).
            limit: at most this many (one page).
            after: the `cursor` of the last record of the previous page.

        Raises:
            TypeError: `prefix` or `after` is not a string, or `limit` not an int.
            ValueError: `limit` is below 1.
        """
        found: list[ThreadInfo] = self._run(self._threads_call(prefix, limit, after))
        return iter(found)

    async def alist_threads(self, *, prefix: str | None = None, limit: int = 50,
                            after: str | None = None) -> AsyncIterator[ThreadInfo]:
        """list_threads() in a worker thread."""
        call = self._threads_call(prefix, limit, after)
        for item in await to_thread(self._run, call):
            yield item


class AsyncThreads(SyncThreads):
    """alist_threads() awaited through `_arun`, for a saver with async methods of its own."""

    @abstractmethod
    async def _arun(self, call: Call[_T]) -> _T:
        """Carry out `call` (setting the saver up first if needed)."""

    async def alist_threads(self, *, prefix: str | None = None, limit: int = 50,
                            after: str | None = None) -> AsyncIterator[ThreadInfo]:
        """list_threads() without blocking the event loop (see SyncThreads.list_threads)."""
        for item in await self._arun(self._threads_call(prefix, limit, after)):
            yield item


class ThreadIds:
    """Thread ids in code point order (a list kept sorted as threads come and go), so that a
    page is found by bisection and read forward: as cheap at 100,000 threads as at 10."""

    __slots__ = ("ids",)

    def __init__(self) -> None:
        self.ids: list[str] = []

    def add(self, thread_id: str) -> None:
        """A new thread (the caller knows it is not there yet)."""
        insort(self.ids, thread_id)

    def remove(self, thread_id: str) -> None:
        """A deleted thread (nothing when it is not there)."""
        at = bisect_left(self.ids, thread_id)
        if at < len(self.ids) and self.ids[at] == thread_id:
            del self.ids[at]

    def page(self, query: ThreadQuery, listed: Callable[[str], object]) -> list[str]:
        """The ids of `query`'s page, skipping those for which `listed` is falsy (threads
        without a top-level checkpoint)."""
        strict, bound = query.start()
        ids = self.ids
        at = bisect_right(ids, bound) if strict else bisect_left(ids, bound)
        found: list[str] = []
        while at < len(ids) and len(found) < query.limit and ids[at].startswith(query.prefix):
            if listed(ids[at]):
                found.append(ids[at])
            at += 1
        return found
