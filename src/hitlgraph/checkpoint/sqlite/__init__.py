"""SqliteSaver: checkpoints in a SQLite file, shared safely by threads and processes.

The database runs in WAL mode (readers never block the writer), every write is one
`BEGIN IMMEDIATE` transaction and every connection waits on a busy timeout, so several
processes can use one file. `put` checks the compare-and-set rule
(WriteRules.expected_latest) in the same transaction as its inserts: of two runs extending
the same checkpoint, exactly one wins.

Example:
    >>> from hitlgraph.checkpoint.sqlite import SqliteSaver
    >>> with SqliteSaver.from_conn_string("checkpoints.db") as saver:  # doctest: +SKIP
    ...     graph = builder.compile(checkpointer=saver)
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any, Final, TypeVar

from hitlgraph import _faults
from hitlgraph.checkpoint._store import ops, schema
from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.shell import StepStore
from hitlgraph.checkpoint._thread_list import SyncThreads
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.checkpoint.sqlite._sql import DIALECT
from hitlgraph.checkpoint.sqlite._threads import THREAD_SQL

__all__ = ["SqliteSaver"]

_T = TypeVar("_T")

BUSY_TIMEOUT_MS: Final = 30_000
"""How long a connection waits for another writer's lock before giving up."""


STATEMENT_CACHE: Final = 512
"""Prepared statements a connection keeps (sqlite3's default, 128, is about what a server's
shared connection uses: its store's, checkpointer's and review statements together)."""


def connect(path: str) -> sqlite3.Connection:
    """A connection as the savers want it: usable from any thread, autocommit (the savers open
    their own transactions), waiting up to the busy timeout for another writer."""
    return sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        isolation_level=None,
        cached_statements=STATEMENT_CACHE,
    )


def configure(conn: sqlite3.Connection) -> None:
    """Set the per-connection pragmas: busy timeout, WAL journal, synchronous=NORMAL."""
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:  # switching to WAL needs a lock another process may briefly hold
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchall()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    conn.execute("PRAGMA synchronous = NORMAL")


class Transaction:
    """One transaction, as a `with` block: `BEGIN IMMEDIATE` for writes (takes the write lock
    up front, so it waits on busy_timeout instead of failing mid-way), a deferred `BEGIN` (a
    consistent snapshot) for reads. Commits on success, rolls back on any exception. Inside a
    transaction already open, it joins it (the outer one commits).

    A class rather than a @contextmanager generator, which costs twice as much; the saver's
    calls do the same without either (see SqliteSaver._drive).
    """

    __slots__ = ("conn", "own", "write")

    def __init__(self, conn: sqlite3.Connection, *, write: bool) -> None:
        self.conn = conn
        self.write = write
        self.own = False

    def __enter__(self) -> sqlite3.Connection:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE" if self.write else "BEGIN")
            self.own = True
        return self.conn

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if not self.own:
            return
        if kind is None:
            self.conn.commit()
        else:
            self.conn.rollback()


class SqliteSaver(SyncThreads, StepStore[sqlite3.Connection]):
    """A checkpoint saver backed by SQLite; safe for several threads and processes.

    Args:
        conn: an open connection. Open it with `check_same_thread=False` to share the saver
            between threads, and preferably `isolation_level=None`; the saver begins and ends
            its own transactions, so the connection must not be left inside one.
        serde: the serializer of channel values, writes and metadata (default msgpack).

    `setup()`, which the first use calls if needed, configures the connection (WAL,
    synchronous=NORMAL, busy timeout) and creates or migrates the tables.
    """

    dialect = DIALECT
    thread_sql = THREAD_SQL

    @classmethod
    @contextmanager
    def from_conn_string(
        cls, conn_string: str, *, serde: SerializerProtocol | None = None
    ) -> Iterator[SqliteSaver]:
        """A saver on the database file at `conn_string` (":memory:" for a private in-memory
        database), whose connection is closed when the `with` block ends.

        Args:
            conn_string: a file path, or ":memory:".
            serde: the serializer to use (default msgpack).

        Yields:
            The saver, already set up.
        """
        with closing(connect(conn_string)) as conn:
            saver = cls(conn, serde=serde)
            saver.setup()
            yield saver

    def setup(self) -> None:
        """Configure the connection (WAL, synchronous=NORMAL, busy timeout) and create or
        migrate the tables. Idempotent; safe from several processes at once."""
        with self.lock:
            if self.is_setup:
                return
            configure(self.conn)
            if self._drive(Call(schema.schema_version(DIALECT), write=False)) < (
                    schema.latest_version(DIALECT)):
                self._drive(Call(schema.migrate(DIALECT, self.serde), write=True))
            self.is_setup = True

    def _run(self, call: Call[_T]) -> _T:
        with self.lock:
            if not self.is_setup:
                self.setup()
            return self._drive(call)

    def _drive(self, call: Call[_T]) -> _T:
        """`call` in a transaction as `Transaction` makes one (or inside batch()'s), written
        out: every saver call comes here, and a `with` block of the class costs each 1.5 us."""
        conn = self.conn
        if conn.in_transaction or (call.standalone and not call.write):  # (one statement)
            return ops.run(call.ops, self._execute)
        conn.execute("BEGIN IMMEDIATE" if call.write else "BEGIN")
        try:
            result = ops.run(call.ops, self._execute)
            if _faults.ARMED and call.write:
                _faults.hit("checkpoint.before_commit")
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        if _faults.ARMED and call.write:
            _faults.hit("checkpoint.after_commit")
        return result

    def _execute(self, step: ops.Step) -> Any:
        if isinstance(step, ops.Statement):
            cursor = self.conn.execute(step.sql, step.params)
        elif isinstance(step, ops.Many):
            cursor = self.conn.executemany(step.sql, step.rows)
        else:
            return [self._execute(one) for one in step.statements]
        return cursor.fetchall() if cursor.description is not None else cursor.rowcount

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make the saver's writes inside the block one transaction (one commit)."""
        with self.lock:
            if not self.is_setup:
                self.setup()
            with Transaction(self.conn, write=True):
                yield
