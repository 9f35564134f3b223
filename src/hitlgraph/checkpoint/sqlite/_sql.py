"""SQL text, schema migrations and row encoding shared by SqliteSaver and AsyncSqliteSaver.

Plain functions over a `sqlite3.Connection`: the savers add only locking (and, for the async
one, a worker thread). Every statement is a constant string; user data (thread ids, metadata
filter keys and values) only ever travels as bound parameters.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Final

import ormsgpack

from hitlgraph.checkpoint import _rows
from hitlgraph.checkpoint._delta import (
    DELTA_TAG,
    REF_TAG,
    ChainCache,
    DeltaEncoder,
    delta_links,
    reference,
    reference_target,
    referenced_value,
)
from hitlgraph.checkpoint._rows import (
    ListCursor,
    ListPage,
    check_keep_last,
    checkpoint_tuple,
    json_exact,
    json_text_ok,
    make_config,
    matches,
    pack_record,
    row_ts,
    stored_ts,
    thread_ns,
    unpack_record,
)
from hitlgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    RunnableConfig,
    rules_of,
    write_slot,
    writes_by_task,
)
from hitlgraph.checkpoint.serde import SerializerProtocol, dumps_channel
from hitlgraph.errors import CheckpointConflictError, FencedWriteError

BUSY_TIMEOUT_MS: Final = 30_000
"""How long a connection waits for another writer's lock before giving up."""

LIST_PAGE_SIZE: Final = 100
"""Checkpoint rows read per transaction by list()."""

# -- schema ------------------------------------------------------------------------------------

MIGRATIONS_TABLE: Final = "hitlgraph_checkpoint_migrations"

Migration = str | Callable[[sqlite3.Connection], None]

MIGRATIONS: Final[tuple[tuple[Migration, ...], ...]] = (
    # 0: the initial schema.
    (
        """CREATE TABLE IF NOT EXISTS checkpoints (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            parent_checkpoint_id TEXT,
            ts TEXT NOT NULL,
            record BLOB NOT NULL,
            metadata_type TEXT NOT NULL,
            metadata BLOB NOT NULL,
            metadata_json TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        )""",
        """CREATE TABLE IF NOT EXISTS blobs (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL,
            version NOT NULL,
            type TEXT NOT NULL,
            blob BLOB NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
        )""",
        """CREATE TABLE IF NOT EXISTS writes (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            channel TEXT NOT NULL,
            type TEXT NOT NULL,
            blob BLOB NOT NULL,
            task_path TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
        )""",
        # The primary key already serves "latest of a thread" (scanned backwards); this one
        # serves list() across all threads, newest first.
        "CREATE INDEX IF NOT EXISTS checkpoints_by_id ON checkpoints (checkpoint_id DESC)",
    ),
    # 1: compact tables. Clustered on their keys (WITHOUT ROWID: no second copy of each key in
    # an index); ts and the msgpack metadata are NULL when the id or the JSON copy holds them;
    # writes keep their order in `seq`. list() across all threads sorts instead of using an
    # index of its own.
    (
        """CREATE TABLE checkpoints_v1 (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            parent_checkpoint_id TEXT,
            ts TEXT,
            record BLOB NOT NULL,
            metadata_type TEXT,
            metadata BLOB,
            metadata_json TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        ) WITHOUT ROWID""",
        "INSERT INTO checkpoints_v1 SELECT thread_id, checkpoint_ns, checkpoint_id, "
        "parent_checkpoint_id, ts, record, metadata_type, metadata, metadata_json FROM checkpoints",
        "DROP INDEX IF EXISTS checkpoints_by_id",
        "DROP TABLE checkpoints",
        "ALTER TABLE checkpoints_v1 RENAME TO checkpoints",
        # Values longer than INLINE_MAX bytes live in `blob_data` (a rowid table, whose pages
        # hold them whole); a clustered table keeps only short values in its own pages.
        """CREATE TABLE blob_data (
            id INTEGER PRIMARY KEY,
            data BLOB NOT NULL
        )""",
        """CREATE TABLE blobs_v1 (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL,
            version NOT NULL,
            type TEXT NOT NULL,
            blob BLOB,
            data_id INTEGER,
            PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
        ) WITHOUT ROWID""",
        "INSERT INTO blobs_v1 (thread_id, checkpoint_ns, channel, version, type, blob) "
        "SELECT thread_id, checkpoint_ns, channel, version, type, blob FROM blobs",
        "DROP TABLE blobs",
        "ALTER TABLE blobs_v1 RENAME TO blobs",
        # One row per task: its writes packed together (most steps write two or three
        # values per task, and the key columns cost more than the values).
        """CREATE TABLE writes_v1 (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            task_path TEXT NOT NULL DEFAULT '',
            writes BLOB,
            data_id INTEGER,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id)
        ) WITHOUT ROWID""",
        lambda conn: _pack_v0_writes(conn),
        "DROP TABLE writes",
        "ALTER TABLE writes_v1 RENAME TO writes",
        *(statement for table in ("blobs", "writes") for statement in (
            f"CREATE TRIGGER {table}_data_deleted AFTER DELETE ON {table} "
            "WHEN old.data_id IS NOT NULL BEGIN "
            "DELETE FROM blob_data WHERE id = old.data_id; END",
            f"CREATE TRIGGER {table}_data_replaced AFTER UPDATE OF data_id ON {table} "
            "WHEN old.data_id IS NOT NULL AND old.data_id IS NOT new.data_id BEGIN "
            "DELETE FROM blob_data WHERE id = old.data_id; END",
        )),
    ),
    # 2: fences (checkpoint.base.WriteRules.fence): the latest token per key.
    (
        """CREATE TABLE IF NOT EXISTS fences (
            key TEXT PRIMARY KEY,
            token INTEGER NOT NULL
        ) WITHOUT ROWID""",
    ),
)
"""Append-only: the index of an entry is its schema version. Never edit or reorder an entry;
add a new one. Each step (SQL text, or a function of the connection) must be safe inside a
transaction."""


def _pack_v0_writes(conn: sqlite3.Connection) -> None:
    """Migration 1: copy schema 0's writes (a row per write) into writes_v1 (a row per task)."""
    tasks: dict[tuple[str, str, str, str], tuple[int, str, list[list[Any]]]] = {}
    for row in conn.execute(
        "SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, "
        "task_path, rowid FROM writes ORDER BY rowid"
    ):
        key = (row[0], row[1], row[2], row[3])
        if key not in tasks:
            tasks[key] = (row[9], row[8], [])
        tasks[key][2].append([row[4], row[5], row[6], row[7]])
    conn.executemany(
        "INSERT INTO writes_v1 (thread_id, checkpoint_ns, checkpoint_id, task_id, seq, "
        "task_path, writes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*key, seq, path, ormsgpack.packb(entries))
         for key, (seq, path, entries) in tasks.items()],
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


@contextmanager
def transaction(conn: sqlite3.Connection, *, write: bool) -> Iterator[sqlite3.Connection]:
    """One transaction: `BEGIN IMMEDIATE` for writes (takes the write lock up front, so it
    waits on busy_timeout instead of failing mid-way), a deferred `BEGIN` (a consistent
    snapshot) for reads. Commits on success, rolls back on any exception. Inside a transaction
    already open, it joins it (the outer one commits)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied to the database, -1 for none."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
    ).fetchone()
    if exists is None:
        return -1
    row = conn.execute(f"SELECT MAX(v) FROM {MIGRATIONS_TABLE}").fetchone()
    return -1 if row is None or row[0] is None else int(row[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations the database lacks, all in one write transaction.

    Safe to run again and from several processes at once: the write lock serializes them and
    the second one finds nothing left to do. Returns the schema version.
    """
    with transaction(conn, write=False):
        current = schema_version(conn)
    if current >= len(MIGRATIONS) - 1:
        return current
    with transaction(conn, write=True):
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
            "(v INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        current = schema_version(conn)
        for version in range(current + 1, len(MIGRATIONS)):
            for step in MIGRATIONS[version]:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
            conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (?)", (version,))
    return len(MIGRATIONS) - 1


# -- row encoding ------------------------------------------------------------------------------

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _json_number(value: int | float) -> Any:
    """A number for the JSON copy: SQLite's JSON functions hold 64-bit ints; a larger one
    becomes a marker object."""
    if isinstance(value, float) or _INT64_MIN <= value <= _INT64_MAX:
        return value
    return {"__int__": str(value)}


def metadata_json(metadata: CheckpointMetadata | dict[str, Any], *,
                  exact: bool | None = None) -> str:
    """The JSON text copy of metadata that list() filters on (ASCII, strict JSON): text is
    stored verbatim, ints beyond 64 bits become marker objects. `exact`: json_exact(metadata),
    if the caller knows it (then the text is plain json.dumps)."""
    if exact if exact is not None else json_exact(metadata):
        return json.dumps(dict(metadata), ensure_ascii=True, allow_nan=False,
                          separators=(",", ":"))
    return _rows.metadata_json(metadata, number=_json_number)


# -- reading -----------------------------------------------------------------------------------

_CHECKPOINT_COLUMNS: Final = (
    "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, ts, record, "
    "metadata_type, metadata, metadata_json"
)
_Row = tuple[str, str, str, "str | None", "str | None", bytes, "str | None", "bytes | None", str]

_SELECT_LATEST: Final = (
    f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
    "ORDER BY checkpoint_id DESC LIMIT 1"
)
_SELECT_BY_ID: Final = (
    f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
)
_SELECT_LATEST_ID: Final = (
    "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
    "ORDER BY checkpoint_id DESC LIMIT 1"
)
INLINE_MAX: Final = 800
"""Longest value stored in its row of `blobs` or `writes`; a longer one goes to `blob_data`."""

_VALUE: Final = "COALESCE(blob, (SELECT data FROM blob_data WHERE id = data_id))"
_WRITES_VALUE: Final = "COALESCE(writes, (SELECT data FROM blob_data WHERE id = data_id))"

_SELECT_BLOB: Final = (
    f"SELECT type, {_VALUE} FROM blobs "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? AND version = ?"
)
_SELECT_BLOB_EXISTS: Final = (
    "SELECT 1 FROM blobs WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? AND version = ?"
)
_SELECT_CHAIN: Final = (
    f"SELECT version, type, {_VALUE} FROM blobs WHERE thread_id = ? AND checkpoint_ns = ? "
    "AND channel = ? AND version >= ? AND version <= ?"
)
_SELECT_WRITES: Final = (
    f"SELECT task_id, {_WRITES_VALUE} FROM writes "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? ORDER BY seq"
)


def _place(conn: sqlite3.Connection, data: bytes) -> tuple[bytes | None, int | None]:
    """(inline value, blob_data id) to store `data` as: short values stay in their row."""
    if len(data) <= INLINE_MAX:
        return data, None
    cursor = conn.execute("INSERT INTO blob_data (data) VALUES (?)", (data,))
    return None, cursor.lastrowid


def _chains(conn: sqlite3.Connection, thread_id: str, ns: str) -> ChainCache:
    """A cache of one thread namespace's stored deltas, read through `conn`."""

    def fetch(channel: str, low: Any, high: Any) -> dict[Any, tuple[str, bytes]]:
        return {
            row[0]: (row[1], row[2])
            for row in conn.execute(_SELECT_CHAIN, (thread_id, ns, channel, low, high))
        }

    return ChainCache(fetch)


def _to_tuple(
    conn: sqlite3.Connection,
    serde: SerializerProtocol,
    row: _Row,
    metadata: Any,
    deltas: DeltaEncoder | None = None,
    chains: ChainCache | None = None,
) -> CheckpointTuple:
    thread_id, ns, checkpoint_id, parent, ts = row[:5]
    record = unpack_record(row[5])
    versions: ChannelVersions = dict(record["channel_versions"])
    loads = serde.loads_typed
    values: dict[str, Any] = {}
    for channel, version in versions.items():
        found = conn.execute(_SELECT_BLOB, (thread_id, ns, channel, version)).fetchone()
        if found is not None:
            typed = (found[0], found[1])
            if found[0] == DELTA_TAG:
                cached = deltas.full((thread_id, ns, channel), version) if deltas else None
                if cached is None:
                    chains = chains or _chains(conn, thread_id, ns)
                    cached = chains.full(channel, version, typed)
                typed = cached
            values[channel] = loads(typed)
    pending: list[PendingWrite] = []
    for task_id, packed in conn.execute(_SELECT_WRITES, (thread_id, ns, checkpoint_id)):
        for _idx, channel, type_, blob in ormsgpack.unpackb(packed):
            if type_ == REF_TAG:
                chains = chains or _chains(conn, thread_id, ns)
                value = _referenced(conn, serde, thread_id, ns, channel, (type_, blob), chains)
            else:
                value = loads((type_, blob))
            pending.append((task_id, channel, value))
    return checkpoint_tuple(thread_id, ns, checkpoint_id, parent, row_ts(checkpoint_id, ts),
                            record, versions, values, metadata, pending)


def _referenced(conn: sqlite3.Connection, serde: SerializerProtocol, thread_id: str, ns: str,
                channel: str, ref: tuple[str, bytes], chains: ChainCache) -> Any:
    """The value of a pending write stored as a reference to a channel's delta."""
    version, _count = reference_target(ref)
    found = conn.execute(_SELECT_BLOB, (thread_id, ns, channel, version)).fetchone()
    stored = None if found is None else (found[0], found[1])

    def full() -> tuple[str, bytes]:
        assert stored is not None
        return chains.full(channel, version, stored)

    return referenced_value(ref, stored, serde.loads_typed, full)


def _load_metadata(serde: SerializerProtocol, row: _Row) -> Any:
    if row[6] is None or row[7] is None:  # the JSON copy is exact
        return json.loads(row[8])
    return serde.loads_typed((row[6], row[7]))


def get_tuple(
    conn: sqlite3.Connection, serde: SerializerProtocol, config: RunnableConfig,
    deltas: DeltaEncoder | None = None,
) -> CheckpointTuple | None:
    """The checkpoint `config` points at (its thread's latest without checkpoint_id)."""
    thread_id, ns = thread_ns(config)
    checkpoint_id = config["configurable"].get("checkpoint_id")
    with transaction(conn, write=False):
        if checkpoint_id is None:
            row = conn.execute(_SELECT_LATEST, (thread_id, ns)).fetchone()
        else:
            row = conn.execute(_SELECT_BY_ID, (thread_id, ns, str(checkpoint_id))).fetchone()
        if row is None:
            return None
        return _to_tuple(conn, serde, row, _load_metadata(serde, row), deltas)


_SAFE_FILTER_KEY: Final = re.compile(r"[ !#-\[\]-~]+")
"""Printable ASCII without '"' and '\\': such a key is stored verbatim in the JSON copy and can
be named by a quoted JSON path; other keys are matched in Python only."""


def _filter_clause(key: Any, value: Any) -> tuple[str, tuple[Any, ...]] | None:
    """An SQL condition selecting (a superset of) rows whose metadata[key] == value, or None
    when only the exact Python check can decide. The key becomes a bound JSON path."""
    if not isinstance(key, str) or _SAFE_FILTER_KEY.fullmatch(key) is None:
        return None
    path = '$."' + key + '"'
    if value is None:
        return "json_extract(metadata_json, ?) IS NULL", (path,)
    if isinstance(value, str):
        if not json_text_ok(value):  # SQLite's JSON functions cut text at NUL
            return None
        return (
            "(json_type(metadata_json, ?) = 'text' AND json_extract(metadata_json, ?) = ?)",
            (path, path, value),
        )
    if isinstance(value, (bool, int, float)):
        number: int | float
        if isinstance(value, float):
            # Beyond int64 a float may equal an int the JSON copy could not hold as a number.
            if value != value or abs(value) >= 2.0**63:
                return None
            number = value
        else:
            number = int(value)
            if not _INT64_MIN <= number <= _INT64_MAX:
                return None
        return (
            "(json_type(metadata_json, ?) IN ('integer', 'real', 'true', 'false') "
            "AND json_extract(metadata_json, ?) = ?)",
            (path, path, number),
        )
    return None


def list_cursor(
    config: RunnableConfig | None,
    *,
    filter: dict[str, Any] | None = None,
    before: RunnableConfig | None = None,
    limit: int | None = None,
) -> ListCursor | None:
    """The start of a list() with InMemorySaver's arguments (None: nothing to list)."""
    return _rows.list_cursor(
        config, filter=filter, before=before, limit=limit,
        condition=lambda column, op: f"{column} {op} ?", filter_clause=_filter_clause,
        everything="1",
    )


def list_page(
    conn: sqlite3.Connection, serde: SerializerProtocol, cursor: ListCursor
) -> ListPage:
    """The next checkpoints of a list(), newest first, read in one transaction, and the cursor
    for the ones after them (None when there are no more)."""
    where, params = cursor.where, cursor.params
    if cursor.after is not None:
        where += " AND (checkpoint_id, thread_id, checkpoint_ns) < (?, ?, ?)"
        params += cursor.after
    page_size = LIST_PAGE_SIZE
    if cursor.remaining is not None and not cursor.filter:
        page_size = min(page_size, cursor.remaining)
    # `where` is assembled only from the constant fragments above; values are parameters.
    sql = (
        f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE {where} "
        "ORDER BY checkpoint_id DESC, thread_id DESC, checkpoint_ns DESC LIMIT ?"
    )
    found: list[CheckpointTuple] = []
    remaining = cursor.remaining
    chains: dict[tuple[str, str], ChainCache] = {}
    with transaction(conn, write=False):
        rows: list[_Row] = conn.execute(sql, (*params, page_size)).fetchall()
        for row in rows:
            metadata = _load_metadata(serde, row)
            if not matches(metadata, cursor.filter):
                continue
            key = (row[0], row[1])
            if key not in chains:
                chains[key] = _chains(conn, *key)
            found.append(_to_tuple(conn, serde, row, metadata, chains=chains[key]))
            if remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    return found, None
    if len(rows) < page_size:
        return found, None
    last = rows[-1]
    return found, replace(cursor, remaining=remaining, after=(last[2], last[0], last[1]))


# -- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodedPut:
    """A checkpoint serialized for put(): done before taking any lock."""

    thread_id: str
    ns: str
    checkpoint_id: str
    expected_latest: str | None
    checkpoint_row: tuple[Any, ...]
    blob_rows: list[tuple[Any, ...]]
    full_rows: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    """For a blob row stored as a delta (by index): the full row, used when the version the
    delta extends is no longer stored (another process pruned it)."""
    fence: tuple[str, int] | None = None


def encode_put(
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
    deltas: DeltaEncoder | None = None,
) -> EncodedPut:
    """Serialize a put(): the checkpoint row and a blob row for each channel in new_versions
    (a list that grew by appending is stored as its new items when `deltas` is given)."""
    thread_id, ns = thread_ns(config)
    conf = config["configurable"]
    values = checkpoint["channel_values"]
    blob_rows: list[tuple[Any, ...]] = []
    full_rows: dict[int, tuple[Any, ...]] = {}
    for chan, version in new_versions.items():
        if chan not in values:
            continue
        typed = dumps_channel(serde, chan, values[chan])
        stored = deltas.encode((thread_id, ns, chan), version, typed) if deltas else typed
        if stored is not typed:
            full_rows[len(blob_rows)] = (thread_id, ns, chan, version, *typed)
        blob_rows.append((thread_id, ns, chan, version, *stored))
    exact = json_exact(metadata)
    meta_text = metadata_json(metadata, exact=exact)
    meta_type: str | None = None
    meta_blob: bytes | None = None
    if not exact:
        meta_type, meta_blob = serde.dumps_typed(dict(metadata))
    parent = conf.get("checkpoint_id")
    checkpoint_row = (
        thread_id, ns, checkpoint["id"], str(parent) if parent else None, stored_ts(checkpoint),
        pack_record(checkpoint), meta_type, meta_blob, meta_text,
    )
    expected = rules_of(config).expected_latest
    return EncodedPut(
        thread_id=thread_id, ns=ns, checkpoint_id=checkpoint["id"],
        expected_latest=None if expected is None else str(expected),
        checkpoint_row=checkpoint_row, blob_rows=blob_rows, full_rows=full_rows,
        fence=rules_of(config).fence,
    )


_INSERT_BLOB: Final = (
    "INSERT INTO blobs (thread_id, checkpoint_ns, channel, version, type, blob, data_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, checkpoint_ns, channel, version) "
    "DO UPDATE SET type = excluded.type, blob = excluded.blob, data_id = excluded.data_id"
)
_INSERT_CHECKPOINT: Final = (
    "INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, "
    "parent_checkpoint_id, ts, record, metadata_type, metadata, metadata_json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _final_blob_rows(conn: sqlite3.Connection, put: EncodedPut) -> list[tuple[Any, ...]]:
    """The blob rows to store: a delta whose base version is no longer stored (another process
    pruned it) is stored as its full value instead."""
    rows = put.blob_rows
    if put.full_rows:
        rows = list(rows)
        for index, full in put.full_rows.items():
            links = delta_links(rows[index][4:6])
            assert links is not None
            if conn.execute(_SELECT_BLOB_EXISTS, (*full[:3], links[0])).fetchone() is None:
                rows[index] = full
    return rows


def write_put(conn: sqlite3.Connection, put: EncodedPut,
              blob_rows: list[tuple[Any, ...]] | None = None) -> RunnableConfig:
    """Store an encoded checkpoint in one write transaction, after the compare-and-set check.

    Raises:
        CheckpointConflictError: the config's WriteRules named an expected latest checkpoint
            ("" for none) and the thread's latest in that namespace is another one.
    """
    with transaction(conn, write=True):
        check_fence(conn, put.thread_id, put.fence)
        if put.expected_latest is not None:
            row = conn.execute(_SELECT_LATEST_ID, (put.thread_id, put.ns)).fetchone()
            latest: str | None = row[0] if row else None
            if (latest or "") != put.expected_latest:
                raise CheckpointConflictError(
                    put.thread_id, put.expected_latest or None, latest
                )
        rows = _final_blob_rows(conn, put) if blob_rows is None else blob_rows
        if rows:
            conn.executemany(_INSERT_BLOB, [(*row[:5], *_place(conn, row[5])) for row in rows])
        conn.execute(_INSERT_CHECKPOINT, put.checkpoint_row)
    return make_config(put.thread_id, put.ns, put.checkpoint_id)


@dataclass(frozen=True)
class EncodedWrites:
    """A task's writes serialized for put_writes(), in order: (replace, row) pairs, where
    replace is true for the special channels (fixed negative index, a later write replaces)."""

    rows: list[tuple[str, tuple[Any, ...]]]
    expected: str | None = None
    """When set, the writes are stored only if their checkpoint is the thread's latest."""
    fence: tuple[str, int] | None = None


def encode_writes(
    serde: SerializerProtocol,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str = "",
) -> EncodedWrites:
    """Serialize a task's writes; special channels get their fixed negative index."""
    thread_id, ns = thread_ns(config)
    checkpoint_id = str(config["configurable"]["checkpoint_id"])
    rows: list[tuple[str, tuple[Any, ...]]] = []
    for idx, (chan, value) in enumerate(writes):
        index, mode = write_slot(chan, idx, value)
        row = (thread_id, ns, checkpoint_id, task_id, index, chan,
               *dumps_channel(serde, chan, value), task_path)
        rows.append((mode, row))
    expected = rules_of(config).expected_latest
    return EncodedWrites(rows=rows, expected=expected, fence=rules_of(config).fence)


def advance_fence(conn: sqlite3.Connection, key: str) -> int:
    """A new token for `key` (see checkpoint.base.WriteRules), in one write transaction."""
    with transaction(conn, write=True):
        row = conn.execute(
            "INSERT INTO fences (key, token) VALUES (?, 1) "
            "ON CONFLICT (key) DO UPDATE SET token = token + 1 RETURNING token", (str(key),),
        ).fetchone()
    return int(row[0])


def check_fence(conn: sqlite3.Connection, thread_id: str, fence: tuple[str, int] | None) -> None:
    """Raise FencedWriteError unless `fence`'s token is its key's latest (call it inside the
    write transaction, so no advance can come between the check and the write)."""
    if fence is None:
        return
    row = conn.execute("SELECT token FROM fences WHERE key = ?", (fence[0],)).fetchone()
    current = None if row is None else int(row[0])
    if current != fence[1]:
        raise FencedWriteError(thread_id, fence[0], fence[1], current)


_SELECT_TASK_WRITES: Final = (
    f"SELECT seq, {_WRITES_VALUE} FROM writes WHERE thread_id = ? AND checkpoint_ns = ? "
    "AND checkpoint_id = ? AND task_id = ?"
)
_seq_lock = threading.Lock()
_last_seq = 0


def _next_seq() -> int:
    """A task row's `seq`: when its first writes came (nanoseconds since the epoch), strictly
    increasing in this process, so a checkpoint's tasks read back in the order they wrote."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(time.time_ns(), _last_seq + 1)
        return _last_seq


_INSERT_NEW_TASK_WRITES: Final = (
    "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, seq, task_path, "
    "writes, data_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id) DO NOTHING"
)
_UPSERT_TASK_WRITES: Final = (
    "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, seq, task_path, "
    "writes, data_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id) DO UPDATE SET "
    "seq = excluded.seq, task_path = excluded.task_path, writes = excluded.writes, "
    "data_id = excluded.data_id"
)


def write_writes(conn: sqlite3.Connection, writes: EncodedWrites) -> None:
    """Store a task's encoded writes in one write transaction, merged into the task's row
    (`seq` orders a checkpoint's tasks as their writes first came; an update in place keeps
    a write's position)."""
    if not writes.rows:
        return
    thread_id, ns, checkpoint_id, task_id = writes.rows[0][1][:4]
    task_path = writes.rows[0][1][8]
    with transaction(conn, write=True):
        check_fence(conn, thread_id, writes.fence)
        if writes.expected is not None:
            found = conn.execute(_SELECT_LATEST_ID, (thread_id, ns)).fetchone()
            latest = found[0] if found else None
            if latest != checkpoint_id:
                raise CheckpointConflictError(thread_id, checkpoint_id, latest)
        key = (thread_id, ns, checkpoint_id, task_id)
        entries: list[list[Any]] = []
        _merge(entries, writes.rows, thread_id, checkpoint_id)
        inline, data_id = _place(conn, ormsgpack.packb(entries))
        if conn.execute(_INSERT_NEW_TASK_WRITES,
                        (*key, _next_seq(), task_path, inline, data_id)).rowcount == 1:
            return  # the task's first writes (a finished task's, usually): one statement
        if data_id is not None:
            conn.execute("DELETE FROM blob_data WHERE id = ?", (data_id,))
        seq, packed = conn.execute(_SELECT_TASK_WRITES, key).fetchone()
        entries = ormsgpack.unpackb(packed)
        if _merge(entries, writes.rows, thread_id, checkpoint_id):
            conn.execute(_UPSERT_TASK_WRITES, (*key, seq, task_path,
                                               *_place(conn, ormsgpack.packb(entries))))


def _merge(entries: list[list[Any]], rows: Sequence[tuple[str, tuple[Any, ...]]],
           thread_id: str, checkpoint_id: str) -> bool:
    """Merge encoded write rows into a task's stored entries ([idx, channel, type, blob]) by
    their modes; whether anything changed. A "claim" of a taken slot raises
    CheckpointConflictError(answered=True)."""
    position = {entry[0]: i for i, entry in enumerate(entries)}
    changed = False
    for mode, (*_, idx, chan, type_, blob, _path) in rows:
        at = position.get(idx)
        if at is None:
            position[idx] = len(entries)
            entries.append([idx, chan, type_, blob])
            changed = True
        elif mode == "claim":
            raise CheckpointConflictError(thread_id, checkpoint_id, checkpoint_id, answered=True)
        elif mode == "replace":
            entries[at] = [idx, chan, type_, blob]
            changed = True
    return changed


def _link_writes(writes: Sequence[EncodedWrites], put: EncodedPut,
                 blob_rows: list[tuple[Any, ...]]) -> list[EncodedWrites]:
    """The step's writes, each one that is exactly the items a channel's stored delta appends
    replaced by a reference to that delta (so the items are stored once)."""
    deltas = {row[2]: (row[3], (row[4], row[5])) for row in blob_rows if row[4] == DELTA_TAG}
    if not deltas:
        return list(writes)
    parent = put.checkpoint_row[3]
    linked: list[EncodedWrites] = []
    for encoded in writes:
        rows = encoded.rows
        for i, (mode, row) in enumerate(rows):
            found = deltas.get(row[5])
            if mode != "insert" or found is None or row[2] != parent:
                continue
            ref = reference((row[6], row[7]), found[1], found[0])
            if ref is not None:
                if rows is encoded.rows:
                    rows = list(rows)
                rows[i] = (mode, (*row[:6], *ref, row[8]))
        linked.append(encoded if rows is encoded.rows else replace(encoded, rows=rows))
    return linked


def write_step(conn: sqlite3.Connection, writes: Sequence[EncodedWrites], put: EncodedPut
               ) -> RunnableConfig:
    """Store a finished step in one write transaction: its tasks' writes (pending writes of
    the parent checkpoint), then the checkpoint it made."""
    with transaction(conn, write=True):
        check_fence(conn, put.thread_id, put.fence)
        blob_rows = _final_blob_rows(conn, put)
        for encoded in _link_writes(writes, put, blob_rows):
            write_writes(conn, encoded)
        return write_put(conn, put, blob_rows)


def delete_thread(conn: sqlite3.Connection, thread_id: str) -> None:
    """Delete every checkpoint, blob and write of a thread, in one transaction."""
    with transaction(conn, write=True):
        for table in ("checkpoints", "blobs", "writes"):
            conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (str(thread_id),))


def prune(conn: sqlite3.Connection, thread_id: str, keep_last: int) -> None:
    """Keep the newest `keep_last` checkpoints of each namespace of a thread, their writes, and
    the blobs they reference; delete the rest, in one transaction."""
    check_keep_last(keep_last)
    thread_id = str(thread_id)
    with transaction(conn, write=True):
        namespaces = [
            ns for (ns,) in conn.execute(
                "SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = ?", (thread_id,)
            )
        ]
        for ns in namespaces:
            rows = conn.execute(
                "SELECT checkpoint_id, record FROM checkpoints WHERE thread_id = ? "
                "AND checkpoint_ns = ? ORDER BY checkpoint_id DESC",
                (thread_id, ns),
            ).fetchall()
            old = [(thread_id, ns, checkpoint_id) for checkpoint_id, _ in rows[keep_last:]]
            conn.executemany(
                "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
                "AND checkpoint_id = ?", old,
            )
            conn.executemany(
                "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? "
                "AND checkpoint_id = ?", old,
            )
            _collect(conn, thread_id, ns, rows[:keep_last])


def _collect(conn: sqlite3.Connection, thread_id: str, ns: str,
             kept_rows: Sequence[tuple[str, bytes]]) -> None:
    """Delete the blobs of a thread namespace that none of `kept_rows` ((checkpoint_id,
    record) of the checkpoints it keeps) uses: not as a channel value, not through a pending
    write's reference, not as the base of a delta they need."""
    kept = {
        (chan, version)
        for _, record in kept_rows
        for chan, version in unpack_record(record)["channel_versions"].items()
    }
    for checkpoint_id, _ in kept_rows:  # versions kept writes refer to
        for _task, packed in conn.execute(_SELECT_WRITES, (thread_id, ns, checkpoint_id)):
            for _idx, chan, type_, blob in ormsgpack.unpackb(packed):
                if type_ == REF_TAG:
                    kept.add((chan, reference_target((type_, blob))[0]))
    for chan, version in list(kept):  # a kept delta needs the versions it extends
        while True:
            found = conn.execute(_SELECT_BLOB, (thread_id, ns, chan, version)).fetchone()
            links = delta_links((found[0], found[1])) if found else None
            if links is None:
                break
            version = links[0]
            kept.add((chan, version))
    stale = [
        (thread_id, ns, chan, version)
        for chan, version in conn.execute(
            "SELECT channel, version FROM blobs WHERE thread_id = ? AND checkpoint_ns = ?",
            (thread_id, ns),
        )
        if (chan, version) not in kept
    ]
    conn.executemany(
        "DELETE FROM blobs WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? "
        "AND version = ?", stale,
    )


def rewind(conn: sqlite3.Connection, serde: SerializerProtocol, config: RunnableConfig,
           pending_writes: Sequence[PendingWrite]) -> None:
    """See BaseCheckpointSaver.rewind: one write transaction."""
    thread_id, ns = thread_ns(config)
    checkpoint_id = str(config["configurable"]["checkpoint_id"])
    with transaction(conn, write=True):
        if conn.execute(_SELECT_BY_ID, (thread_id, ns, checkpoint_id)).fetchone() is None:
            raise ValueError(f"Thread '{thread_id}' has no checkpoint '{checkpoint_id}' in "
                             f"namespace '{ns}' to rewind to.")
        for table in ("checkpoints", "writes"):
            conn.execute(f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id > ?",
                         (thread_id, checkpoint_id))
        conn.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? "
                     "AND checkpoint_id = ?", (thread_id, ns, checkpoint_id))
        target = make_config(thread_id, ns, checkpoint_id)
        for task_id, writes in writes_by_task(pending_writes):
            write_writes(conn, encode_writes(serde, target, writes, task_id))
        namespaces = {found for (found,) in conn.execute(
            "SELECT DISTINCT checkpoint_ns FROM blobs WHERE thread_id = ?", (thread_id,))}
        for space in sorted(namespaces):
            rows = conn.execute(
                "SELECT checkpoint_id, record FROM checkpoints WHERE thread_id = ? "
                "AND checkpoint_ns = ?", (thread_id, space)).fetchall()
            _collect(conn, thread_id, space, rows)
