"""The server's SQLite checkpointer: its calls run on the event loop when the file is free.

AsyncSqliteSaver carries every call to a thread of its own and back: two GIL hand-overs and
a wake-up of the loop per call, about ten calls per run, more than the call itself costs on
a local file (a read or a write transaction of a few statements: tens of microseconds). The
server makes these calls from its event loop, so `LoopSqliteSaver` runs a call there, on
the saver's connection, unless something would make the loop wait:

- the saver's thread has calls queued (this one must not pass them) or another thread is
  using the connection (its lock is taken): the call goes to the thread, in order;
- another connection holds the file's write lock (another process, or the server's own
  store): with the busy timeout at 0 the call's BEGIN fails at once, before any of its
  statements ran, and the call goes to the thread, whose connection waits for the lock.

Everything else is AsyncSqliteSaver's: the same transaction per call (`_drive`), the same
connection, the same results. The floor app of bench/bench_server.py writes on its loop too.

Its commits checkpoint no write-ahead log: a `WalCheckpoints` does, on a thread of its own
(see server/store/_wal.py), so that the copy never stalls the loop inside a call.

The connection's busy timeout is 0 while calls run on the loop and the saver's own (30 s)
while they run anywhere else: it is set only when a call runs on the other side from the
one before (a PRAGMA each way around every call would be two statements more per call).

The server builds it on its store's loop connection (`sharing`): one connection on the loop
for the file, whose page cache no commit of the other invalidates (server/store/_loop_conn.py
holds the lock, the busy timeout's side and the WAL checkpoints both use).
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar, cast

from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.ops import Ops, Statement
from hitlgraph.checkpoint.base import CheckpointTuple, RunnableConfig
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.checkpoint.sqlite import BUSY_TIMEOUT_MS
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.server.store._loop_conn import LoopConnection
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store.sqlite import SqliteStore

__all__ = ["LoopSqliteSaver", "store_steps"]

_T = TypeVar("_T")
_U = TypeVar("_U")
_LOCKED = ("locked", "busy")
"""What SQLite says when another connection holds the lock a statement needs."""


class LoopSqliteSaver(AsyncSqliteSaver):
    """AsyncSqliteSaver whose calls run on the calling event loop when that cannot wait.

    Args:
        conn: its connection.
        serde: the serializer (default msgpack).
        shared: `conn` as a store's loop connection (see `sharing`); None: the saver's own.
    """

    def __init__(self, conn: sqlite3.Connection, *, serde: SerializerProtocol | None = None,
                 shared: LoopConnection | None = None) -> None:
        super().__init__(conn, serde=serde)
        self._queued = 0
        """Calls handed to the saver's thread and not yet done."""
        self._loop = shared
        """The lock, busy-timeout side and WAL checkpoints of the connection (for a saver
        of its own, made at setup)."""
        self._owns_loop = shared is None
        if shared is not None:
            self.lock = shared.lock

    @classmethod
    @asynccontextmanager
    async def sharing(cls, store: SqliteStore, *, serde: SerializerProtocol | None = None
                      ) -> AsyncIterator[LoopSqliteSaver]:
        """A saver in `store`'s file, on the store's loop connection, which stays the
        store's (close the store after the saver). A private ":memory:" store has none:
        the saver gets a private database of its own, as `from_conn_string` makes."""
        shared = store.loop_connection()
        if shared is None:
            async with cls.from_conn_string(store.path, serde=serde) as own:
                assert isinstance(own, LoopSqliteSaver)
                yield own
            return
        saver = cls(shared.conn, serde=serde, shared=shared)
        try:
            await saver.asetup()
            yield saver
        finally:
            saver._shutdown()

    def setup(self) -> None:
        with self.lock:
            if self.is_setup:
                return
            super().setup()  # (gives the connection the saver's busy timeout)
            if self._loop is None:
                (_, _, path), *_ = self.conn.execute("PRAGMA database_list").fetchall()
                self._loop = LoopConnection(self.conn, path or ":memory:",
                                            "hitlgraph-sqlite-wal", waits=True)
            self._loop.waits = True

    def _shutdown(self) -> None:
        super()._shutdown()
        if self._owns_loop and self._loop is not None:
            self._loop.wal.close()  # (from_conn_string closes the connection)

    async def _arun(self, call: Call[_T]) -> _T:
        loop = self._loop
        # (inside this thread's batch(), the call joins its transaction, as SqliteSaver's)
        if self._queued == 0 and self.is_setup and loop is not None and loop.take(joins=True):
            try:
                return self._here(call, loop)
            except _FileLocked:
                pass
            finally:
                loop.release()
        self._queued += 1
        try:
            return await super()._arun(call)
        finally:
            self._queued -= 1

    def shares(self, store: SqliteStore) -> bool:
        """Whether this saver is on `store`'s loop connection (one file, one connection:
        a transaction can hold writes of both)."""
        return not self._owns_loop and self._loop is store.loop_connection()

    async def afence_read_then(
            self, key: str, config: RunnableConfig, store: SqliteStore,
            then: Callable[[CheckpointTuple | None], Op[_U]],
    ) -> tuple[int, CheckpointTuple | None, _U]:
        """`aadvance_fence_and_get_tuple(key, config)`, then `store`'s operation `then(latest)`
        in the same transaction (a commit fewer): only for the store it `shares`."""

        def operation() -> Ops[tuple[int, CheckpointTuple | None, _U]]:
            token, latest = yield from self._fence_get_call(key, config).ops
            done = yield from store_steps(store, then(latest))
            return token, latest, done

        return await self.awrite_with(store, operation())

    async def awrite_with(self, store: SqliteStore, operation: Ops[_T]) -> _T:
        """`operation` (this saver's steps and `store`'s, through `store_steps`) in one
        write transaction on the connection they share: only for the store it `shares`."""
        assert self.shares(store), "the store's operation needs the store's connection"
        return await self._arun(Call(operation, write=True))

    def _here(self, call: Call[_T], loop: LoopConnection) -> _T:
        """`call`'s result, run on this thread without waiting for a lock.

        Raises:
            _FileLocked: the file was locked before any of its statements ran.
        """
        conn = self.conn
        try:
            result = self._drive(call)
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:  # (a failed COMMIT leaves it open)
                conn.rollback()
            if not _locked(exc) or not _unstarted(call.ops):
                raise
            raise _FileLocked from exc
        if call.write:
            loop.wal.committed()
        return result

    def _wait_for_locks(self) -> None:
        """Give the connection its busy timeout back (the caller holds the lock): every use
        off the loop waits for another connection's lock, as AsyncSqliteSaver's does."""
        if self._loop is not None:
            self._loop.wait_for_locks(int(BUSY_TIMEOUT_MS))

    def _run(self, call: Call[_T]) -> _T:
        with self.lock:
            self._wait_for_locks()
            return super()._run(call)

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.lock:
            self._wait_for_locks()
            with super().batch():
                yield


def store_steps(store: SqliteStore, op: Op[_U]) -> Ops[_U]:
    """The store's operation `op` as a saver's steps (its SQL in the store's dialect), for a
    transaction of `LoopSqliteSaver.awrite_with`."""
    render = store.dialect.render
    try:
        sql, params = next(op)
        while True:
            reply = yield Statement(render(sql), cast(dict[str, Any], params))
            # (the store's operations are sent rows; the saver's driver sends a statement
            # without result columns its rowcount)
            sql, params = op.send(reply if isinstance(reply, list) else [])
    except StopIteration as done:
        result: _U = done.value
        return result


class _FileLocked(Exception):
    """A call that found the file locked before it began: for the saver's thread."""


def _locked(exc: sqlite3.OperationalError) -> bool:
    return any(word in str(exc).lower() for word in _LOCKED)


def _unstarted(ops: Any) -> bool:
    """Whether none of an operation's statements was sent yet (so it can go elsewhere)."""
    return inspect.isgenerator(ops) and (
        inspect.getgeneratorstate(ops) == inspect.GEN_CREATED)
