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
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from hitlgraph.checkpoint._delta import DeltaEncoder
from hitlgraph.checkpoint._rows import ListCursor, ListPage
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
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.checkpoint.sqlite import _sql

__all__ = ["SqliteSaver"]


def connect(path: str) -> sqlite3.Connection:
    """A connection as the savers want it: usable from any thread, autocommit (the savers open
    their own transactions), waiting up to the busy timeout for another writer."""
    return sqlite3.connect(
        path,
        timeout=_sql.BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        isolation_level=None,
    )


class SqliteSaver(BaseCheckpointSaver):
    """A checkpoint saver backed by SQLite; safe for several threads and processes.

    Args:
        conn: an open connection. Open it with `check_same_thread=False` to share the saver
            between threads, and preferably `isolation_level=None`; the saver begins and ends
            its own transactions, so the connection must not be left inside one.
        serde: the serializer of channel values, writes and metadata (default msgpack).

    The schema is created (or migrated) by `setup()`, which the first use calls if needed.
    """

    conn: sqlite3.Connection

    def __init__(
        self, conn: sqlite3.Connection, *, serde: SerializerProtocol | None = None
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.RLock()
        self.is_setup = False
        self.deltas = DeltaEncoder()

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
        conn = connect(conn_string)
        try:
            saver = cls(conn, serde=serde)
            saver.setup()
            yield saver
        finally:
            conn.close()

    def setup(self) -> None:
        """Configure the connection (WAL, synchronous=NORMAL, busy timeout) and create or
        migrate the tables. Idempotent; safe from several processes at once."""
        with self.lock:
            if self.is_setup:
                return
            _sql.configure(self.conn)
            _sql.migrate(self.conn)
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
        with self.lock:
            self._ensure_setup()
            return _sql.get_tuple(self.conn, self.serde, config, self.deltas)

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

    def _list_page(self, cursor: ListCursor) -> ListPage:
        with self.lock:
            self._ensure_setup()
            return _sql.list_page(self.conn, self.serde, cursor)

    def _iter_pages(self, cursor: ListCursor | None) -> Iterator[CheckpointTuple]:
        while cursor is not None:
            items, cursor = self._list_page(cursor)
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
        with self.lock:
            self._ensure_setup()
            return _sql.write_put(self.conn, encoded)

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
        with self.lock:
            self._ensure_setup()
            return _sql.write_step(self.conn, encoded_writes, encoded)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make the saver's writes inside the block one transaction (one commit)."""
        with self.lock:
            self._ensure_setup()
            with _sql.transaction(self.conn, write=True):
                yield

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
        with self.lock:
            self._ensure_setup()
            _sql.write_writes(self.conn, encoded)

    def rewind(self, config: RunnableConfig, pending_writes: Sequence[PendingWrite]) -> None:
        """Make config's checkpoint the thread's latest again, with `pending_writes` (see
        BaseCheckpointSaver.rewind); one transaction."""
        with self.lock:
            self._ensure_setup()
            _sql.rewind(self.conn, self.serde, config, pending_writes)
            self.deltas.forget_thread(str(config["configurable"]["thread_id"]))

    def advance_fence(self, key: str) -> int:
        """A new token for `key`: writes whose config carries an older token of it (their
        WriteRules.fence) are refused from now on.

        Args:
            key: what the fence guards, e.g. a run id.

        Returns:
            The new token.
        """
        with self.lock:
            self._ensure_setup()
            return _sql.advance_fence(self.conn, key)

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of a thread.

        Args:
            thread_id: the thread to delete.
        """
        with self.lock:
            self._ensure_setup()
            _sql.delete_thread(self.conn, thread_id)

    def prune(self, thread_id: str, *, keep_last: int = 1) -> None:
        """Keep only the newest `keep_last` checkpoints of each namespace of a thread.

        Values still referenced by a kept checkpoint are kept.

        Args:
            thread_id: the thread to prune.
            keep_last: how many checkpoints to keep per namespace (at least 1).

        Raises:
            ValueError: keep_last is below 1.
        """
        with self.lock:
            self._ensure_setup()
            _sql.prune(self.conn, thread_id, keep_last)
