"""PostgresSaver: checkpoints in PostgreSQL, shared safely by threads, processes and machines.

Needs the `postgres` extra (psycopg 3 and psycopg-pool): ``pip install -e '.[postgres]'`` from
the repository.

Every write is one transaction. `put` checks the compare-and-set rule (WriteRules.expected_latest)
under a per-thread advisory lock (`pg_advisory_xact_lock`) in the same transaction as its
inserts: of two runs extending the same checkpoint, in any processes, exactly one wins.

Example:
    >>> from hitlgraph.checkpoint.postgres import PostgresSaver
    >>> DSN = "postgresql://me@localhost:5432/app"
    >>> with PostgresSaver.from_conn_string(DSN) as saver:  # doctest: +SKIP
    ...     graph = builder.compile(checkpointer=saver)

Connections you pass in should be in autocommit mode (the saver opens its own transactions;
on a connection left inside a transaction its writes would wait for your commit) and use
READ COMMITTED, PostgreSQL's default (on another level the saver switches its own write
transactions to READ COMMITTED, at the cost of one statement).
"""

from __future__ import annotations

from hitlgraph._install import missing_extra

try:
    import psycopg
    from psycopg import Connection, IsolationLevel
    from psycopg.pq import ExecStatus, TransactionStatus
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_extra("hitlgraph.checkpoint.postgres", "psycopg 3 and psycopg-pool", "postgres",
                        exc) from exc

from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any, TypeVar

from hitlgraph import _faults
from hitlgraph.checkpoint._pg_connection import BorrowsConnection
from hitlgraph.checkpoint._store import ops, schema
from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.shell import StepStore
from hitlgraph.checkpoint._thread_list import SyncThreads
from hitlgraph.checkpoint.postgres._sql import BEGIN, DIALECT, READ_COMMITTED
from hitlgraph.checkpoint.postgres._threads import THREAD_SQL
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["PostgresSaver"]

_T = TypeVar("_T")
TUPLES_OK = ExecStatus.TUPLES_OK


def configure_connection(conn: Connection[Any]) -> None:
    """What the pool of `from_conn_string` does to each new connection: READ COMMITTED for
    the saver's transactions (autocommit is set by the pool's connection arguments)."""
    conn.isolation_level = IsolationLevel.READ_COMMITTED


def pool_settings(max_size: int, configure: Callable[[Any], Any]) -> dict[str, Any]:
    """The pool `from_conn_string` opens, sync or async: one to `max_size` autocommit
    connections, each set up by `configure`; the caller opens it (and waits for it)."""
    return {"min_size": 1, "max_size": max_size, "kwargs": {"autocommit": True},
            "configure": configure, "open": False}


def answered_rows(cursor: psycopg.Cursor[Any] | psycopg.AsyncCursor[Any]) -> bool:
    """Whether the cursor's last statement answered rows (a SELECT, a RETURNING), as
    `cursor.description is not None` says without building a description of every column:
    that was a twentieth of the server's own time per operation on PostgreSQL."""
    result = cursor.pgresult
    return result is not None and bool(result.nfields or result.status == TUPLES_OK)


def drive(cursor: psycopg.Cursor[Any], operation: ops.Ops[_T], *, standalone: bool = False
          ) -> _T:
    """Run an operation of `_store` on a cursor: each statement, its rows sent back in.
    `standalone`: the cursor's connection is in autocommit mode and the operation's batches
    marked `transaction` bring their own BEGIN and COMMIT."""

    def execute(step: ops.Step) -> Any:
        if isinstance(step, ops.Batch):
            return _pipeline(cursor, step, own=standalone and step.transaction)
        if isinstance(step, ops.Many):
            cursor.executemany(step.sql, step.rows)
        else:
            cursor.execute(step.sql, step.params or None)
        return cursor.fetchall() if answered_rows(cursor) else cursor.rowcount

    return ops.run(operation, execute)


def _pipeline(cursor: psycopg.Cursor[Any], batch: ops.Batch, *, own: bool = False
              ) -> list[ops.Rows | int]:
    """A batch's statements in one pipeline (one round trip), each with a cursor of its own;
    with `own`, between a BEGIN and a COMMIT sent in the same pipeline."""
    conn = cursor.connection
    cursors = [conn.cursor(binary=True) for _ in batch.statements]
    try:
        with conn.pipeline():
            if own:
                cursor.execute(BEGIN)
            for one, statement in zip(cursors, batch.statements, strict=True):
                one.execute(statement.sql, statement.params or None)
            if own:
                if _faults.ARMED:
                    _faults.hit("checkpoint.before_commit")
                cursor.execute("COMMIT")
    except BaseException:
        if own and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
        raise
    results: list[ops.Rows | int] = []
    for one in cursors:
        results.append(one.fetchall() if answered_rows(one) else one.rowcount)
        one.close()
    return results


class PostgresSaver(SyncThreads, StepStore["Connection[Any] | ConnectionPool[Any]"],
                    BorrowsConnection):
    """A checkpoint saver backed by PostgreSQL; safe for several threads and processes.

    Args:
        conn: a `psycopg_pool.ConnectionPool` (each operation borrows a connection) or one
            `psycopg.Connection` (operations take turns on it). Autocommit connections are
            expected; see the module's documentation.
        serde: the serializer of channel values, writes and metadata (default msgpack).

    `setup()`, which the first use calls if needed, creates or migrates the tables (one
    process at a time: others wait on an advisory lock).
    """

    dialect = DIALECT
    thread_sql = THREAD_SQL

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        serde: SerializerProtocol | None = None,
        max_size: int = 10,
    ) -> Iterator[PostgresSaver]:
        """A saver on a pool of connections to `conn_string`, closed when the `with` block ends.

        Args:
            conn_string: a libpq connection string or URL (postgresql://user@host:port/db).
            serde: the serializer to use (default msgpack).
            max_size: the most connections the pool opens at once.

        Yields:
            The saver, already set up.
        """
        pool: ConnectionPool[Connection[Any]] = ConnectionPool(
            conn_string, **pool_settings(max_size, configure_connection))
        pool.open(wait=True)
        with closing(pool):
            saver = cls(pool, serde=serde)
            saver.setup()
            yield saver

    def _drive(self, call: Call[_T]) -> _T:
        with self._connection() as conn:
            if conn.autocommit and (not call.write or call.standalone):
                with conn.cursor(binary=True) as cursor:
                    result = drive(cursor, call.ops, standalone=call.standalone)
            else:
                with conn.transaction(), conn.cursor(binary=True) as cursor:
                    if call.write and conn.isolation_level != IsolationLevel.READ_COMMITTED:
                        cursor.execute(READ_COMMITTED)
                    result = drive(cursor, call.ops)
                    if _faults.ARMED and call.write:
                        _faults.hit("checkpoint.before_commit")
        if _faults.ARMED and call.write:
            _faults.hit("checkpoint.after_commit")
        return result

    def _run(self, call: Call[_T]) -> _T:
        if not self.is_setup:
            self.setup()
        return self._drive(call)

    def setup(self) -> None:
        """Create or migrate the tables. Idempotent; safe from several processes at once."""
        with self.lock:
            if self.is_setup:
                return
            if self._drive(Call(schema.schema_version(DIALECT), write=False)) < (
                    schema.latest_version(DIALECT)):
                self._drive(Call(schema.migrate(DIALECT, self.serde), write=True))
            self.is_setup = True
