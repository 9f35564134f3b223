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

from hitlgraph._install import install_command

try:
    import psycopg
    from psycopg import Connection, IsolationLevel
    from psycopg.pq import TransactionStatus
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "hitlgraph.checkpoint.postgres needs psycopg 3 and psycopg-pool, which the `postgres` "
        f"extra installs: {install_command('postgres')} ({exc})"
    ) from exc

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from hitlgraph.checkpoint._delta import DeltaEncoder
from hitlgraph.checkpoint._rows import ListCursor, check_keep_last
from hitlgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    PendingWritesCall,
    RunnableConfig,
)
from hitlgraph.checkpoint.postgres import _sql
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["PostgresSaver"]

_T = TypeVar("_T")


def configure_connection(conn: Connection[Any]) -> None:
    """What the pool of `from_conn_string` does to each new connection: READ COMMITTED for
    the saver's transactions (autocommit is set by the pool's connection arguments)."""
    conn.isolation_level = IsolationLevel.READ_COMMITTED


def drive(cursor: psycopg.Cursor[Any], ops: _sql.Ops[_T], *, standalone: bool = False) -> _T:
    """Run an operation of `_sql` on a cursor: each statement, its rows sent back in.
    `standalone`: the cursor's connection is in autocommit mode and the operation's batches
    marked `transaction` bring their own BEGIN and COMMIT."""
    try:
        statement = next(ops)
        while True:
            if isinstance(statement, _sql.Batch):
                own = standalone and statement.transaction
                statement = ops.send(_pipeline(cursor, statement, own=own))
                continue
            cursor.execute(statement.sql, statement.params or None)
            rows = cursor.fetchall() if cursor.description is not None else None
            statement = ops.send(rows)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _pipeline(cursor: psycopg.Cursor[Any], batch: _sql.Batch, *, own: bool = False
              ) -> list[_sql.Rows | None]:
    """A batch's statements in one pipeline (one round trip), each with a cursor of its own;
    with `own`, between a BEGIN and a COMMIT sent in the same pipeline."""
    conn = cursor.connection
    cursors = [conn.cursor(binary=True) for _ in batch.statements]
    try:
        with conn.pipeline():
            if own:
                cursor.execute(_sql.BEGIN)
            for one, statement in zip(cursors, batch.statements, strict=True):
                one.execute(statement.sql, statement.params or None)
            if own:
                cursor.execute("COMMIT")
    except BaseException:
        if own and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
        raise
    results: list[_sql.Rows | None] = []
    for one in cursors:
        results.append(one.fetchall() if one.description is not None else None)
        one.close()
    return results


class PostgresSaver(BaseCheckpointSaver):
    """A checkpoint saver backed by PostgreSQL; safe for several threads and processes.

    Args:
        conn: a `psycopg_pool.ConnectionPool` (each operation borrows a connection) or one
            `psycopg.Connection` (operations take turns on it). Autocommit connections are
            expected; see the module's documentation.
        serde: the serializer of channel values, writes and metadata (default msgpack).

    The schema is created (or migrated) by `setup()`, which the first use calls if needed.
    """

    conn: Connection[Any] | ConnectionPool[Any]

    def __init__(
        self,
        conn: Connection[Any] | ConnectionPool[Any],
        *,
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.RLock()
        self.is_setup = False
        self.deltas = DeltaEncoder()
        """Stores a list that grew by appending as its new items (see checkpoint._delta)."""

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
            conn_string,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            configure=configure_connection,
            open=False,
        )
        pool.open(wait=True)
        try:
            saver = cls(pool, serde=serde)
            saver.setup()
            yield saver
        finally:
            pool.close()

    @contextmanager
    def _connection(self) -> Iterator[Connection[Any]]:
        if isinstance(self.conn, ConnectionPool):
            with self.conn.connection() as conn:
                yield conn
        else:
            with self.lock:
                yield self.conn

    def _run(self, ops: _sql.Ops[_T], *, write: bool, standalone: bool = False) -> _T:
        with self._connection() as conn:
            if conn.autocommit and (not write or standalone):
                with conn.cursor(binary=True) as cursor:
                    return drive(cursor, ops, standalone=standalone)
            with conn.transaction(), conn.cursor(binary=True) as cursor:
                if write and conn.isolation_level != IsolationLevel.READ_COMMITTED:
                    cursor.execute(_sql.READ_COMMITTED)
                return drive(cursor, ops)

    def setup(self) -> None:
        """Create or migrate the tables. Idempotent; safe from several processes at once."""
        with self.lock:
            if self.is_setup:
                return
            if self._run(_sql.schema_version(), write=False) < len(_sql.MIGRATIONS) - 1:
                self._run(_sql.migrate(), write=True)
            self.is_setup = True

    def _ensure_setup(self) -> None:
        if not self.is_setup:
            self.setup()

    # -- reading -------------------------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint tuple `config` points at (the thread's latest without checkpoint_id).

        Args:
            config: names thread_id, optionally checkpoint_ns and checkpoint_id.

        Returns:
            The tuple with every channel's value and the pending writes, or None.
        """
        self._ensure_setup()
        return self._run(_sql.get_tuple(self.serde, config), write=False)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first: of config's thread (and namespace, if it names one), or of
        all threads with config None.

        Args:
            config: the thread to list, or None for all threads.
            filter: keep only checkpoints whose metadata has these key/value pairs.
            before: keep only checkpoints older than this config's checkpoint_id.
            limit: at most this many.

        Returns:
            An iterator that reads the checkpoints page by page as it is consumed.
        """
        cursor = _sql.list_cursor(config, filter=filter, before=before, limit=limit)
        return self._iter_pages(cursor)

    def _iter_pages(self, cursor: ListCursor | None) -> Iterator[CheckpointTuple]:
        while cursor is not None:
            self._ensure_setup()
            items, cursor = self._run(_sql.list_page(self.serde, cursor), write=False)
            yield from items

    # -- writing -------------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store `checkpoint` as the child of config's checkpoint_id.

        Only the channels named in `new_versions` are stored; the others are found by version
        among earlier checkpoints' values when read.

        Args:
            config: names thread_id, checkpoint_ns, the parent checkpoint_id and optionally
                WriteRules.expected_latest, the id the caller believes is the latest ("" for none).
            checkpoint: the checkpoint, with the values of at least the new channels.
            metadata: stored beside it; list() can filter on it.
            new_versions: the channels written since the parent, with their new versions.

        Returns:
            The config that points at the stored checkpoint.

        Raises:
            CheckpointConflictError: WriteRules.expected_latest was given and the latest is
                another one.
        """
        encoded = _sql.encode_put(self.serde, config, checkpoint, metadata, new_versions,
                                  self.deltas)
        self._ensure_setup()
        return self._run(_sql.put(encoded), write=True, standalone=True)

    def put_step(
        self,
        writes: Sequence[PendingWritesCall],
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """put_writes() for each of `writes`, then put(), in one transaction."""
        encoded_writes = [_sql.encode_writes(self.serde, *call) for call in writes]
        encoded = _sql.encode_put(self.serde, config, checkpoint, metadata, new_versions,
                                  self.deltas)
        self._ensure_setup()
        return self._run(_sql.put_step(encoded_writes, encoded), write=True,
                         standalone=_sql.put_step_standalone(encoded_writes, encoded))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store the writes of one task of the step after config's checkpoint.

        A write to a special channel (error, interrupt, resume) replaces the task's earlier
        one; another write is kept only if the task has none at that index yet.

        Args:
            config: names thread_id, checkpoint_ns and checkpoint_id.
            writes: (channel, value) pairs, in the order the task made them.
            task_id: the task's id.
            task_path: the task's path in the graph.
        """
        encoded = _sql.encode_writes(self.serde, config, writes, task_id, task_path)
        if not encoded.groups and encoded.expected is None:
            return
        self._ensure_setup()
        self._run(_sql.put_writes(encoded), write=True)

    def rewind(self, config: RunnableConfig, pending_writes: Sequence[PendingWrite]) -> None:
        """Make config's checkpoint the thread's latest again, with `pending_writes` (see
        BaseCheckpointSaver.rewind); one transaction."""
        self._ensure_setup()
        self._run(_sql.rewind(self.serde, config, pending_writes), write=True)
        self.deltas.forget_thread(str(config["configurable"]["thread_id"]))

    def advance_fence(self, key: str) -> int:
        """A new token for `key`: writes whose config carries an older token of it (their
        WriteRules.fence) are refused from now on.

        Args:
            key: what the fence guards, e.g. a run id.

        Returns:
            The new token.
        """
        self._ensure_setup()
        return self._run(_sql.advance_fence(key), write=True)

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of a thread.

        Args:
            thread_id: the thread to delete.
        """
        self._ensure_setup()
        self._run(_sql.delete_thread(thread_id), write=True)
        self.deltas.forget_thread(thread_id)

    def prune(self, thread_id: str, *, keep_last: int = 1) -> None:
        """Keep only the newest `keep_last` checkpoints of each namespace of a thread.

        Values still referenced by a kept checkpoint are kept.

        Args:
            thread_id: the thread to prune.
            keep_last: how many checkpoints to keep per namespace (at least 1).

        Raises:
            ValueError: keep_last is below 1.
        """
        check_keep_last(keep_last)
        self._ensure_setup()
        self._run(_sql.prune(thread_id, keep_last), write=True)
        self.deltas.forget_thread(thread_id)
