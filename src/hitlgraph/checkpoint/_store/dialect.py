"""What a database supplies to the storage layer: its SQL text, and the few steps where its
schema lays data out its own way.

The operations (`reads`, `writes`, `gc`, `schema`) are written once over this interface.
The SQLite and PostgreSQL schemas differ (SQLite packs a task's writes into one row and keeps
long values apart; PostgreSQL keeps a row per write, and a checkpoint's channels as arrays so
that one statement reads a checkpoint whole), and the on-disk schemas must not change: those
differences are the dialect's methods, each a generator of statements like the operations.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from hitlgraph.checkpoint._delta import DeltaEncoder
from hitlgraph.checkpoint._store.encode import EncodedPut, EncodedWrites
from hitlgraph.checkpoint._store.ops import Ops, Statement
from hitlgraph.checkpoint.base import CheckpointMetadata, CheckpointTuple, Fence
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["PAGE_ROWS", "Dialect", "InterruptWrite", "Migration", "PutOutcome"]

PAGE_ROWS = "page rows"
"""The key of a list() page's checkpoint rows in the cache `Dialect.read_tuple` is given."""

Migration = str | Callable[["Dialect", SerializerProtocol], Ops[None]]
"""One step of a migration: SQL text, or an operation (for a step SQL alone cannot do), made
from the dialect and the saver's serializer (to read stored values)."""

InterruptWrite = tuple[str, str, str, str, str, str, tuple[str, bytes], str]
"""An `__interrupt__` or `__resume__` write of a latest checkpoint, for the index's backfill:
(thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, channel, (type, data), the
checkpoint's ts)."""

PutOutcome = tuple["str | None", int, bool, "int | None"]
"""What storing a checkpoint found: (the latest checkpoint id, how many versions its deltas
extend are missing, whether it stored, the fence's current token)."""


class Dialect(ABC):
    """SQL text and schema-specific steps of one database. Placeholders are the driver's
    (`?` for sqlite3, `%s` for psycopg); every value travels as a bound parameter."""

    # -- schema ---------------------------------------------------------------------------------
    migrations: ClassVar[tuple[tuple[Migration, ...], ...]]
    """Append-only: the index of an entry is its schema version."""
    migrations_exist: ClassVar[str]
    """One row whose first column is true when the migrations table exists."""
    create_migrations: ClassVar[str]
    max_migration: ClassVar[str]
    insert_migration: ClassVar[str]
    migration_lock: ClassVar[Statement | None] = None
    """Taken before migrating, where the write transaction alone does not serialize it."""

    # -- rows -----------------------------------------------------------------------------------
    compact: ClassVar[bool]
    """Rows leave out what can be rebuilt: ts when the checkpoint id carries it, and the
    serialized metadata when its JSON copy reads back exactly."""
    list_page_size: ClassVar[int] = 100
    """Checkpoint rows read per statement by list()."""
    select_latest: ClassVar[str]
    select_by_id: ClassVar[str]
    select_latest_id: ClassVar[str]
    select_exists: ClassVar[str]
    fence_token: ClassVar[str]
    fence_and_latest_id: ClassVar[str | None] = None
    """fence_token and select_latest_id as one statement of one row (key, thread, ns), where
    the database has no thread lock to take between them (None: two statements)."""
    fence_latest_and_chain: ClassVar[str | None] = None
    """fence_and_latest_id's columns, then the decision log's head (seq, hash): a decision's
    guards and the chain's head in one statement (key, thread, ns), where reading the head
    takes no lock (`head_lock` empty). None: the head is read on its own."""
    advance_fence: ClassVar[str]
    after_clause: ClassVar[str]
    """list()'s keyset condition: (checkpoint_id, thread_id, checkpoint_ns) below the last."""
    everything: ClassVar[str]
    """A condition that is always true."""
    steps_in_one_batch: ClassVar[bool] = False
    """put_step() sends a step's checkpoint and writes as one batch when it can."""
    fence_read_once: ClassVar[bool] = False
    """A fence token read in a write transaction is its key's latest until the transaction
    ends (SQLite's write transaction holds the whole file), so put_step() reads it once."""
    fence_in_writes: ClassVar[bool] = False
    """store_writes(fence=...) checks a fence in the statement that stores the writes, so
    put_writes() of writes without an expected latest reads no token of its own."""

    @abstractmethod
    def version_key(self, version: Any) -> Any:
        """A channel version as the values table keys it."""

    @abstractmethod
    def metadata_json(self, metadata: CheckpointMetadata, *, exact: bool) -> str:
        """The JSON copy of metadata list() filters on (`exact`: json_exact(metadata))."""

    @abstractmethod
    def condition(self, column: str, op: str) -> str:
        """One bound comparison of a checkpoints column, for list()."""

    @abstractmethod
    def filter_clause(self, key: Any, value: Any) -> tuple[str, tuple[Any, ...]] | None:
        """A condition selecting (a superset of) rows whose metadata[key] == value, or None
        when only the exact check in Python can decide."""

    @abstractmethod
    def select_page(self, where: str) -> str:
        """list()'s statement: checkpoint rows matching `where`, newest first, LIMIT bound."""

    # -- reading --------------------------------------------------------------------------------

    @abstractmethod
    def load_metadata(self, serde: SerializerProtocol, row: tuple[Any, ...]) -> Any:
        """The metadata of a checkpoint row."""

    @abstractmethod
    def read_tuple(self, serde: SerializerProtocol, row: tuple[Any, ...], metadata: Any,
                   deltas: DeltaEncoder | None, cache: dict[Any, Any]) -> Ops[CheckpointTuple]:
        """The tuple of a checkpoint row: its values and pending writes. `cache` lives as long
        as one read (a page of list()) for what several rows share; in a page, it holds the
        page's rows under PAGE_ROWS, so a dialect may read what they refer to at once."""

    # -- writing --------------------------------------------------------------------------------

    @abstractmethod
    def lock_thread(self, thread_id: str) -> Ops[None]:
        """Take the thread's lock for the rest of the transaction, where a write transaction
        alone does not exclude every other writer of the thread."""

    @abstractmethod
    def store_checkpoint(self, put: EncodedPut, *, full: bool,
                         then: Sequence[EncodedWrites] = ()) -> Ops[PutOutcome]:
        """Store a checkpoint and its values if the write rules allow it; with `full`, deltas
        as their whole values. `then`: writes stored after it only if it was stored (only
        when `steps_in_one_batch`)."""

    @abstractmethod
    def store_writes(self, writes: EncodedWrites, *, fence: Fence | None = None) -> Ops[bool]:
        """Store a task's writes by their slots' modes (rules checked already, but for
        `fence`: given only where `fence_in_writes`, it is checked here, before a claim);
        a "claim" of a taken slot raises CheckpointConflictError(answered=True). Returns True
        when they were surely the task's first (False when unknown): the index of open
        interrupts then has none of the task's to replace."""

    def link_writes(self, writes: Sequence[EncodedWrites], put: EncodedPut
                    ) -> Sequence[EncodedWrites]:
        """A step's writes as this schema stores them beside its checkpoint (SQLite stores a
        write that repeats a delta's items as a reference to them)."""
        return writes

    # -- the index of open interrupts (_store.pending) -------------------------------------------
    pending_param: ClassVar[str]
    """The placeholder of a bound parameter."""
    open_pending: ClassVar[str]
    """Index an interrupt unless its thread has it already (a subgraph's, recorded where it
    was raised); parameters as `pending._open_rows` makes them, the last three naming the
    checkpoint whose metadata gives graph_id. Returns the (interrupt_id, graph_id) it
    stored (no row when the thread had it)."""
    close_task_pending: ClassVar[str]
    """Drop a task's entries (thread, ns, checkpoint, task): its interrupts were replaced.
    Returns the interrupt_id of each dropped."""
    answer_pending: ClassVar[str]
    """Mark an entry answered or not: (answered, thread_id, interrupt_id)."""
    count_given: ClassVar[str]
    """Set the principals a k-of-n entry counts so far: (JSON list, thread_id, interrupt_id)."""
    open_entry: ClassVar[str]
    """The condition of an open (unanswered) entry, as the index's partial indexes state it."""
    unwarned: ClassVar[str]
    """The condition of an entry whose warning was not sent, as its partial index states it."""
    same_as: ClassVar[str] = "IS NOT DISTINCT FROM"
    """The comparison for which NULL equals NULL."""
    set_policy: ClassVar[str]
    """Store an entry's policy columns (_pending_policy.PolicyColumns, then thread_id,
    interrupt_id, ns, checkpoint_id, task_id: only the task's own entry)."""

    @abstractmethod
    def select_pending(self, where: str, *, with_metadata: bool, order: str = "created"
                       ) -> str:
        """Open entries matching `where` (on `p`, the index, and `c`, their checkpoint) in
        `order` (review.PendingOrder), LIMIT bound, as rows (thread_id, ns, checkpoint_id,
        interrupt_id, node, graph_id, then the checkpoint's metadata columns where
        `load_metadata` reads them in a checkpoint row (NULL without `with_metadata`),
        created_at, value type, value, response_schema, expires_at, warn_at, assignee,
        group_name, approvals, policy type, policy value, due)."""

    @abstractmethod
    def interrupt_writes(self) -> Ops[list[InterruptWrite]]:
        """The interrupt and resume writes the index would hold (the latest checkpoint's of
        each namespace; of a subgraph's namespace, only if newer than its thread's root
        namespace's latest), in the order they were stored."""

    # -- the decision log (_store.decisions) -----------------------------------------------------
    pending_table: ClassVar[str]
    """The index of open interrupts' table (a decision reads who asked from it)."""
    decisions_table: ClassVar[str]
    decisions_head: ClassVar[str]
    """The one-row table holding the chain's last seq and hash."""
    head_lock: ClassVar[str] = ""
    """What a SELECT of the head appends to lock it until the transaction ends, where the write
    transaction alone does not exclude other writers (PostgreSQL: " FOR UPDATE")."""

    # -- the review event outbox (_store.events) -------------------------------------------------
    events_table: ClassVar[str]
    events_head: ClassVar[str]
    """The one-row table holding the outbox's last seq (never lowered by a prune)."""

    # -- garbage collection ---------------------------------------------------------------------

    @abstractmethod
    def delete_thread(self, thread_id: str) -> Sequence[Statement]:
        """Statements that delete every row of a thread."""

    @abstractmethod
    def delete_after(self, thread_id: str, ns: str, checkpoint_id: str) -> Sequence[Statement]:
        """Statements that delete a thread's checkpoints after `checkpoint_id` (in every
        namespace) with their writes, and the writes of that checkpoint."""

    @abstractmethod
    def collect(self, thread_id: str, keep_last: int | None) -> Ops[None]:
        """Keep the newest `keep_last` checkpoints of each namespace of a thread (None: all)
        and their writes; delete the rest, and the values no kept checkpoint uses."""
