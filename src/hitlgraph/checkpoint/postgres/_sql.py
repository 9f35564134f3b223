"""SQL text, schema migrations and row encoding shared by PostgresSaver and AsyncPostgresSaver.

Plain functions with no database driver in them. Every operation is written once, as a
generator of `Statement`s (an `Ops`): the shell executes each statement and sends the rows it
returned (None for a statement that returns none) back into the generator, whose return value
is the operation's result. The sync shell drives it with a psycopg cursor, the async shell
with an async cursor, inside one transaction when the operation writes.

Every statement is a constant string: user data (thread ids, namespaces, channel names,
metadata filter keys and values) only ever travels as bound parameters.

Tables carry a ``hitlgraph_`` prefix, so they never meet another library's ``checkpoints``
table in a shared database. Key columns use the "C" collation: ids then sort by code point,
as Python compares them, whatever the database's locale.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from hashlib import blake2b
from typing import Any, Final, TypeVar

from hitlgraph.checkpoint import _rows
from hitlgraph.checkpoint._delta import DELTA_TAG, DeltaEncoder, delta_links, resolve
from hitlgraph.checkpoint._rows import (
    ListCursor,
    ListPage,
    by_task,
    check_keep_last,
    checkpoint_tuple,
    json_text_ok,
    make_config,
    matches,
    pack_record,
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
    WriteMode,
    rules_of,
    write_slot,
    writes_by_task,
)
from hitlgraph.checkpoint.serde import SerializerProtocol, dumps_channel
from hitlgraph.errors import CheckpointConflictError, FencedWriteError

_T = TypeVar("_T")

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Statement:
    """One SQL statement and its parameters (psycopg's %s placeholders)."""

    sql: str
    params: tuple[Any, ...] | dict[str, Any] = ()


@dataclass(frozen=True)
class Batch:
    """Statements sent together (a pipeline: one round trip), none of which needs the rows of
    another; the operation is sent the rows of each, in order."""

    statements: tuple[Statement, ...]
    transaction: bool = False
    """The batch is a whole transaction: in an operation run standalone (see
    `put_step_standalone`), the driver sends BEGIN before it and COMMIT after it in the same
    pipeline; otherwise it runs inside the operation's transaction like any batch."""


Ops = Generator["Statement | Batch", Any, _T]
"""An operation: yields statements (or batches of them), is sent each one's rows (None if it
returned no rows; for a batch, a list of those), returns the operation's result."""

LIST_PAGE_SIZE: Final = 100
"""Checkpoint rows read per statement by list()."""

READ_COMMITTED: Final = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"
BEGIN: Final = "BEGIN ISOLATION LEVEL READ COMMITTED"
"""How a standalone batch begins its own transaction (see Batch.transaction)."""
"""Run first in a write transaction on a connection not configured for READ COMMITTED: the
compare-and-set and the migrations read what committed while they waited for their lock,
which a REPEATABLE READ snapshot taken before the wait would not show."""

# -- schema ------------------------------------------------------------------------------------

CHECKPOINTS: Final = "hitlgraph_checkpoints"
BLOBS: Final = "hitlgraph_checkpoint_blobs"
WRITES: Final = "hitlgraph_checkpoint_writes"
MIGRATIONS_TABLE: Final = "hitlgraph_checkpoint_migrations"
FENCES: Final = "hitlgraph_checkpoint_fences"
TABLES: Final = (CHECKPOINTS, BLOBS, WRITES, FENCES, MIGRATIONS_TABLE)

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 0: the initial schema.
    (
        f"""CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
            thread_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
            checkpoint_id TEXT COLLATE "C" NOT NULL,
            parent_checkpoint_id TEXT COLLATE "C",
            ts TEXT NOT NULL,
            channels TEXT[] COLLATE "C" NOT NULL,
            versions TEXT[] COLLATE "C" NOT NULL,
            record BYTEA NOT NULL,
            metadata_type TEXT NOT NULL,
            metadata BYTEA NOT NULL,
            metadata_json JSONB NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        )""",
        f"""CREATE TABLE IF NOT EXISTS {BLOBS} (
            thread_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
            channel TEXT COLLATE "C" NOT NULL,
            version TEXT COLLATE "C" NOT NULL,
            type TEXT NOT NULL,
            blob BYTEA NOT NULL,
            base_version TEXT COLLATE "C",  -- a delta's: the version it extends
            PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
        )""",
        f"""CREATE TABLE IF NOT EXISTS {WRITES} (
            thread_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
            checkpoint_id TEXT COLLATE "C" NOT NULL,
            task_id TEXT COLLATE "C" NOT NULL,
            idx INTEGER NOT NULL,
            channel TEXT NOT NULL,
            type TEXT NOT NULL,
            blob BYTEA NOT NULL,
            task_path TEXT NOT NULL DEFAULT '',
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
        )""",
        # The primary key serves "latest of a thread" (scanned backwards); this index serves
        # list() across all threads, newest first; the GIN one serves metadata filters.
        f"CREATE INDEX IF NOT EXISTS {CHECKPOINTS}_by_id ON {CHECKPOINTS} (checkpoint_id DESC)",
        f"CREATE INDEX IF NOT EXISTS {CHECKPOINTS}_metadata ON {CHECKPOINTS} "
        "USING gin (metadata_json jsonb_path_ops)",
    ),
    # 1: fences (checkpoint.base.WriteRules.fence): the latest token per key.
    (
        f"""CREATE TABLE IF NOT EXISTS {FENCES} (
            key TEXT COLLATE "C" PRIMARY KEY,
            token BIGINT NOT NULL
        )""",
    ),
)
"""Append-only: the index of an entry is its schema version. Never edit or reorder an entry;
add a new one. Each statement must be safe inside a transaction."""

LOCK_CLASS: Final = 0x68676C70
"""First key of every advisory lock hitlgraph takes ("hglp"), apart from other users'."""

_MIGRATION_LOCK: Final = 0


def thread_lock_key(thread_id: str) -> int:
    """The second advisory-lock key of a thread: a stable signed 32-bit hash of its id."""
    digest = blake2b(thread_id.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    key = int.from_bytes(digest, "big", signed=True)
    return key if key != _MIGRATION_LOCK else 1


_LOCK: Final = "SELECT pg_advisory_xact_lock(%s::integer, %s::integer)"


def schema_version() -> Ops[int]:
    """The highest migration applied, -1 for none (a read)."""
    rows = yield Statement("SELECT to_regclass(%s) IS NOT NULL", (MIGRATIONS_TABLE,))
    if not rows or not rows[0][0]:
        return -1
    rows = yield Statement(f"SELECT MAX(v) FROM {MIGRATIONS_TABLE}")
    return -1 if not rows or rows[0][0] is None else int(rows[0][0])


def migrate() -> Ops[int]:
    """Apply the migrations the database lacks (run it in one write transaction).

    An advisory lock serializes concurrent callers, from any process: the second finds
    nothing left to do. Returns the schema version.
    """
    yield Statement(_LOCK, (LOCK_CLASS, _MIGRATION_LOCK))
    yield Statement(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(v INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    rows = yield Statement(f"SELECT MAX(v) FROM {MIGRATIONS_TABLE}")
    current = -1 if not rows or rows[0][0] is None else int(rows[0][0])
    for version in range(current + 1, len(MIGRATIONS)):
        for sql in MIGRATIONS[version]:
            yield Statement(sql)
        yield Statement(f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (%s)", (version,))
    return len(MIGRATIONS) - 1


# -- row encoding ------------------------------------------------------------------------------


def _json_number(value: int | float) -> int | float:
    """A number for the JSON copy: an integral float as the int it equals, so that jsonb's
    exact decimal comparison agrees with Python's (2.0**70 == 2**70, but the float's shortest
    decimal, 1.1805916207174113e+21, is not the int's). jsonb holds ints of any size."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return int(value) if isinstance(value, int) else float(value)


def metadata_json(metadata: CheckpointMetadata | dict[str, Any]) -> str:
    """The JSON text copy of metadata that list() filters on, as jsonb holds it: text with a
    NUL or not valid UTF-8 becomes a marker object (and such keys are left out)."""
    return _rows.metadata_json(metadata, text_ok=json_text_ok, number=_json_number)


def version_key(version: Any) -> str:
    """A channel version as the blobs table keys it."""
    return str(version)


# -- reading -----------------------------------------------------------------------------------

MAX_CHAIN: Final = 1000
"""Deltas followed at most from one value back to a full one (the encoder starts a new full
value every few hundred); a bound, so that corrupt links cannot loop."""

_SELECT: Final = f"""SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id,
    c.parent_checkpoint_id, c.ts, c.record, c.metadata_type, c.metadata,
    b.channels, b.versions, b.types, b.blobs, w.task_ids, w.channels, w.types, w.blobs
FROM {CHECKPOINTS} AS c
CROSS JOIN LATERAL (
    WITH RECURSIVE chain (channel, version, type, blob, base_version, depth) AS (
        SELECT bl.channel, bl.version, bl.type, bl.blob, bl.base_version, 0
        FROM unnest(c.channels, c.versions) AS cv (channel, version)
        CROSS JOIN LATERAL (
            SELECT * FROM {BLOBS} AS b
            WHERE b.thread_id = c.thread_id AND b.checkpoint_ns = c.checkpoint_ns
                AND b.channel = cv.channel AND b.version = cv.version
            LIMIT 1
        ) AS bl
      UNION ALL
        SELECT bl.channel, bl.version, bl.type, bl.blob, bl.base_version, ch.depth + 1
        FROM chain AS ch
        CROSS JOIN LATERAL (
            SELECT * FROM {BLOBS} AS b
            WHERE b.thread_id = c.thread_id AND b.checkpoint_ns = c.checkpoint_ns
                AND b.channel = ch.channel AND b.version = ch.base_version
            LIMIT 1
        ) AS bl
        WHERE ch.depth < {MAX_CHAIN}
    )
    SELECT array_agg(channel) AS channels, array_agg(version) AS versions,
        array_agg(type) AS types, array_agg(blob) AS blobs
    FROM chain
) AS b
CROSS JOIN LATERAL (
    SELECT array_agg(wr.task_id ORDER BY wr.seq) AS task_ids,
        array_agg(wr.channel ORDER BY wr.seq) AS channels,
        array_agg(wr.type ORDER BY wr.seq) AS types,
        array_agg(wr.blob ORDER BY wr.seq) AS blobs
    FROM {WRITES} AS wr
    WHERE wr.thread_id = c.thread_id AND wr.checkpoint_ns = c.checkpoint_ns
        AND wr.checkpoint_id = c.checkpoint_id
) AS w"""
"""A checkpoint row with its pending writes and its channels' stored values, including the
values that deltas among them extend, back to full values: one statement, one snapshot.
(LIMIT 1 keeps each value lookup an index probe on the primary key, whatever the statistics.)"""

_SELECT_LATEST: Final = (
    f"{_SELECT}\nWHERE c.thread_id = %s AND c.checkpoint_ns = %s "
    "ORDER BY c.checkpoint_id DESC LIMIT 1"
)
_SELECT_BY_ID: Final = (
    f"{_SELECT}\nWHERE c.thread_id = %s AND c.checkpoint_ns = %s AND c.checkpoint_id = %s"
)


def _fetcher(stored: dict[tuple[str, str], tuple[str, bytes]], channel: str
             ) -> Callable[[Any], tuple[str, bytes]]:
    """The stored value of another version of `channel`, for resolve()."""
    def fetch(version: Any) -> tuple[str, bytes]:
        return stored[(channel, version_key(version))]
    return fetch


def _to_tuple(serde: SerializerProtocol, row: tuple[Any, ...], metadata: Any) -> CheckpointTuple:
    (thread_id, ns, checkpoint_id, parent, ts, record_bytes, _mtype, _mblob,
     b_channels, b_versions, b_types, b_blobs, w_tasks, w_channels, w_types, w_blobs) = row
    record = unpack_record(bytes(record_bytes))
    versions: ChannelVersions = dict(record["channel_versions"])
    stored: dict[tuple[str, str], tuple[str, bytes]] = {
        (channel, version): (type_, bytes(blob))
        for channel, version, type_, blob in zip(
            b_channels or (), b_versions or (), b_types or (), b_blobs or (), strict=True
        )
    }
    loads = serde.loads_typed
    # channel_values in channel_versions order, as InMemorySaver returns them
    values: dict[str, Any] = {}
    for channel, version in versions.items():
        typed = stored.get((channel, version_key(version)))
        if typed is None:
            continue
        if typed[0] == DELTA_TAG:
            typed = resolve(typed, _fetcher(stored, channel), channel=channel)
        values[channel] = loads(typed)
    pending: list[PendingWrite] = [
        (task_id, channel, loads((type_, bytes(blob))))
        for task_id, channel, type_, blob in zip(
            w_tasks or (), w_channels or (), w_types or (), w_blobs or (), strict=True
        )
    ]
    return checkpoint_tuple(thread_id, ns, checkpoint_id, parent, ts, record, versions, values,
                            metadata, by_task(pending))


def _load_metadata(serde: SerializerProtocol, row: tuple[Any, ...]) -> Any:
    return serde.loads_typed((row[6], bytes(row[7])))


def get_tuple(serde: SerializerProtocol, config: RunnableConfig) -> Ops[CheckpointTuple | None]:
    """The checkpoint `config` points at (its thread's latest without checkpoint_id)."""
    thread_id, ns = thread_ns(config)
    checkpoint_id = config["configurable"].get("checkpoint_id")
    if checkpoint_id is None:
        rows = yield Statement(_SELECT_LATEST, (thread_id, ns))
    else:
        rows = yield Statement(_SELECT_BY_ID, (thread_id, ns, str(checkpoint_id)))
    if not rows:
        return None
    return _to_tuple(serde, rows[0], _load_metadata(serde, rows[0]))


def _filter_clause(key: Any, value: Any) -> tuple[str, tuple[Any, ...]] | None:
    """A jsonb containment test selecting (a superset of) the rows whose metadata[key] ==
    value, or None when only the exact Python check can decide. Key and value travel as one
    bound JSON document."""
    if not isinstance(key, str) or not json_text_ok(key):
        return None
    candidates: list[Any]
    if isinstance(value, bool):
        candidates = [value, int(value)]  # True == 1 == 1.0 in Python
    elif isinstance(value, str):
        if not json_text_ok(value):
            return None
        candidates = [value]
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        number = _json_number(value)
        candidates = [number]
        if number in (0, 1):
            candidates.append(bool(number))
    else:
        return None  # None also matches a missing key; lists and dicts compare loosely
    docs = [json.dumps({key: c}, ensure_ascii=True, allow_nan=False) for c in candidates]
    if len(docs) == 1:
        return "c.metadata_json @> %s::jsonb", (docs[0],)
    return "c.metadata_json @> ANY(%s::jsonb[])", (docs,)


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
        condition=lambda column, op: f"c.{column} {op} %s", filter_clause=_filter_clause,
        everything="TRUE",
    )


def list_page(serde: SerializerProtocol, cursor: ListCursor) -> Ops[ListPage]:
    """The next checkpoints of a list(), newest first, and the cursor for the ones after them
    (None when there are no more)."""
    where, params = cursor.where, cursor.params
    if cursor.after is not None:
        where += " AND (c.checkpoint_id, c.thread_id, c.checkpoint_ns) < (%s, %s, %s)"
        params += cursor.after
    page_size = LIST_PAGE_SIZE
    if cursor.remaining is not None and not cursor.filter:
        page_size = min(page_size, cursor.remaining)
    # `where` is assembled only from the constant fragments above; values are parameters.
    rows = yield Statement(
        f"{_SELECT}\nWHERE {where} "
        "ORDER BY c.checkpoint_id DESC, c.thread_id DESC, c.checkpoint_ns DESC LIMIT %s",
        (*params, page_size),
    )
    rows = rows or []
    found: list[CheckpointTuple] = []
    remaining = cursor.remaining
    for row in rows:
        metadata = _load_metadata(serde, row)
        if not matches(metadata, cursor.filter):
            continue
        found.append(_to_tuple(serde, row, metadata))
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
    """A checkpoint serialized for put(): done before taking a connection.

    The value rows are columns (channel, version, type, blob, base version); `full` holds, by
    row index, the whole value of a row stored as a delta, used instead when the version the
    delta extends is no longer stored (pruned, maybe by another process).
    """

    thread_id: str
    ns: str
    checkpoint_id: str
    expected_latest: str | None
    blobs: tuple[list[str], list[str], list[str], list[bytes], list[str | None]]
    full: dict[int, tuple[str, bytes]]
    checkpoint_params: tuple[Any, ...]
    fence: tuple[str, int] | None = None


def encode_put(
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
    deltas: DeltaEncoder | None = None,
) -> EncodedPut:
    """Serialize a put(): the checkpoint row and a value row for each channel in new_versions
    (a list that grew by appending is stored as its new items when `deltas` is given)."""
    thread_id, ns = thread_ns(config)
    conf = config["configurable"]
    values = checkpoint["channel_values"]
    channels: list[str] = []
    versions_: list[str] = []
    types: list[str] = []
    data: list[bytes] = []
    bases: list[str | None] = []
    full: dict[int, tuple[str, bytes]] = {}
    for chan, version in new_versions.items():
        if chan not in values:
            continue
        typed = dumps_channel(serde, chan, values[chan])
        stored = deltas.encode((thread_id, ns, chan), version, typed) if deltas else typed
        links = delta_links(stored)
        if links is not None:
            full[len(channels)] = typed
        channels.append(chan)
        versions_.append(version_key(version))
        types.append(stored[0])
        data.append(stored[1])
        bases.append(None if links is None else version_key(links[0]))
    meta_type, meta_blob = serde.dumps_typed(dict(metadata))
    parent = conf.get("checkpoint_id")
    versions = checkpoint["channel_versions"]
    checkpoint_params = (
        thread_id, ns, checkpoint["id"], str(parent) if parent else None, checkpoint["ts"],
        list(versions), [version_key(v) for v in versions.values()], pack_record(checkpoint),
        meta_type, meta_blob, metadata_json(metadata),
    )
    expected = rules_of(config).expected_latest
    return EncodedPut(
        thread_id=thread_id, ns=ns, checkpoint_id=checkpoint["id"],
        expected_latest=None if expected is None else str(expected),
        blobs=(channels, versions_, types, data, bases), full=full,
        checkpoint_params=checkpoint_params, fence=rules_of(config).fence,
    )


_SELECT_LATEST_ID: Final = (
    f"SELECT checkpoint_id FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s "
    "ORDER BY checkpoint_id DESC LIMIT 1"
)
_PUT_GUARDED: Final = f"""WITH fence AS (
    SELECT token FROM {FENCES} WHERE key = %(fence_key)s FOR SHARE
), latest AS (
    SELECT checkpoint_id FROM {CHECKPOINTS} WHERE thread_id = %(thread)s AND checkpoint_ns = %(ns)s
    ORDER BY checkpoint_id DESC LIMIT 1
), u AS (
    SELECT * FROM unnest(%(channels)s::text[], %(versions)s::text[], %(types)s::text[],
        %(blobs)s::bytea[], %(bases)s::text[]) AS u (channel, version, type, blob, base_version)
), missing AS (
    SELECT count(*) AS n FROM u
    WHERE u.base_version IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM {BLOBS} AS b WHERE b.thread_id = %(thread)s AND b.checkpoint_ns = %(ns)s
            AND b.channel = u.channel AND b.version = u.base_version)
), ok AS (
    SELECT 1 WHERE (%(expected)s::text IS NULL
            OR COALESCE((SELECT checkpoint_id FROM latest), '') = %(expected)s::text)
        AND (%(fence_key)s::text IS NULL
            OR (SELECT token FROM fence) IS NOT DISTINCT FROM %(fence_token)s::bigint)
        AND (SELECT n FROM missing) = 0
), new_blobs AS (
    INSERT INTO {BLOBS} (thread_id, checkpoint_ns, channel, version, type, blob, base_version)
    SELECT %(thread)s, %(ns)s, u.channel, u.version, u.type, u.blob, u.base_version
    FROM u WHERE EXISTS (SELECT 1 FROM ok)
    ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO UPDATE SET
        type = excluded.type, blob = excluded.blob, base_version = excluded.base_version
), new_checkpoint AS (
    INSERT INTO {CHECKPOINTS} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
        ts, channels, versions, record, metadata_type, metadata, metadata_json)
    SELECT %(thread)s, %(ns)s, %(id)s, %(parent)s, %(ts)s, %(all_channels)s::text[],
        %(all_versions)s::text[], %(record)s, %(metadata_type)s, %(metadata)s,
        %(metadata_json)s::jsonb
    WHERE EXISTS (SELECT 1 FROM ok)
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
        parent_checkpoint_id = excluded.parent_checkpoint_id, ts = excluded.ts,
        channels = excluded.channels, versions = excluded.versions, record = excluded.record,
        metadata_type = excluded.metadata_type, metadata = excluded.metadata,
        metadata_json = excluded.metadata_json
)
SELECT (SELECT checkpoint_id FROM latest), (SELECT n FROM missing), EXISTS (SELECT 1 FROM ok),
    (SELECT token FROM fence)"""
"""A checkpoint and its values, stored only if the thread's latest checkpoint is the expected
one (when one is expected), its fence token (if any) is current, and every version a delta
extends is stored; returns the latest, the count of missing versions, whether it stored, and
the fence's current token (the row is share-locked: no advance until the transaction ends).
Run after the thread's lock in the same transaction, it reads what committed while the lock
was awaited (a new statement, a new snapshot under READ COMMITTED)."""


def _put_statements(encoded: EncodedPut, *, full: bool = False) -> list[Statement]:
    """The statements of a put: the thread's lock when it compares or stores deltas, then the
    guarded insert (with `full`, deltas are stored as their full values)."""
    channels, versions, types, data, bases = encoded.blobs
    if full and encoded.full:
        types, data, bases = list(types), list(data), list(bases)
        for i, (type_, blob) in encoded.full.items():
            types[i], data[i], bases[i] = type_, blob, None
    (thread, ns, checkpoint_id, parent, ts, all_channels, all_versions, record, metadata_type,
     metadata, meta_json) = encoded.checkpoint_params
    statements = []
    if encoded.expected_latest is not None or encoded.full:
        statements.append(Statement(_LOCK, (LOCK_CLASS, thread_lock_key(encoded.thread_id))))
    statements.append(Statement(_PUT_GUARDED, {
        "thread": thread, "ns": ns, "channels": channels, "versions": versions, "types": types,
        "blobs": data, "bases": bases, "expected": encoded.expected_latest, "id": checkpoint_id,
        "parent": parent, "ts": ts, "all_channels": all_channels, "all_versions": all_versions,
        "record": record, "metadata_type": metadata_type, "metadata": metadata,
        "metadata_json": meta_json,
        "fence_key": encoded.fence[0] if encoded.fence else None,
        "fence_token": encoded.fence[1] if encoded.fence else None,
    }))
    return statements


def _put_outcome(encoded: EncodedPut, row: tuple[Any, ...]) -> bool:
    """Whether the guarded insert stored; raises CheckpointConflictError when the latest was
    not the expected one. False means a delta's base is missing: put again with full values."""
    latest, missing, stored, token = row
    if stored:
        return True
    if encoded.fence is not None and token != encoded.fence[1]:
        raise FencedWriteError(encoded.thread_id, *encoded.fence, token)
    expected = encoded.expected_latest
    if expected is not None and (latest or "") != expected:
        raise CheckpointConflictError(encoded.thread_id, expected or None, latest)
    assert missing
    return False


def put(encoded: EncodedPut) -> Ops[RunnableConfig]:
    """Store an encoded checkpoint (run it in one write transaction): one round trip.

    With WriteRules.expected_latest, or with values stored as deltas, it first takes the thread's
    advisory lock: then the latest is checked, and the versions deltas extend are looked up,
    with no other compare-and-set put or prune of the thread in between.

    Raises:
        CheckpointConflictError: the config's WriteRules named an expected latest checkpoint
            ("" for none) and the thread's latest in that namespace is another one.
    """
    results = yield Batch(tuple(_put_statements(encoded)), transaction=True)
    if not _put_outcome(encoded, results[-1][0]):
        retry = yield Batch(tuple(_put_statements(encoded, full=True)), transaction=True)
        _put_outcome(encoded, retry[-1][0])
    return make_config(encoded.thread_id, encoded.ns, encoded.checkpoint_id)


_WriteGroup = tuple[WriteMode, list[int], list[str], list[str], list[bytes]]
"""Consecutive writes stored the same way: mode, indexes, channels, types, blobs."""


@dataclass(frozen=True)
class EncodedWrites:
    """A task's writes serialized for put_writes(), in groups of one mode, in order."""

    thread_id: str
    ns: str
    checkpoint_id: str
    task_id: str
    task_path: str
    groups: list[_WriteGroup]
    expected: str | None
    """When set, the writes are stored only if their checkpoint is the thread's latest."""
    fence: tuple[str, int] | None = None


def encode_writes(
    serde: SerializerProtocol,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str = "",
) -> EncodedWrites:
    """Serialize a task's writes, each at the index and in the mode `write_slot` gives it.

    A slot written twice in one call keeps its first position: an "insert" its first value,
    a "replace" its last; a "claim" raises CheckpointConflictError(answered=True).
    """
    thread_id, ns = thread_ns(config)
    conf = config["configurable"]
    checkpoint_id = str(conf["checkpoint_id"])
    slots: dict[int, tuple[WriteMode, str, str, bytes]] = {}
    for idx, (chan, value) in enumerate(writes):
        index, mode = write_slot(chan, idx, value)
        type_, data = dumps_channel(serde, chan, value)
        if index in slots:
            if mode == "insert":
                continue
            if mode == "claim":
                raise CheckpointConflictError(thread_id, checkpoint_id, checkpoint_id,
                                              answered=True)
        slots[index] = (mode, chan, type_, data)
    groups: list[_WriteGroup] = []
    for index, (mode, chan, type_, data) in slots.items():
        if not groups or groups[-1][0] != mode:
            groups.append((mode, [], [], [], []))
        _, indexes, chans, types, blobs = groups[-1]
        indexes.append(index)
        chans.append(chan)
        types.append(type_)
        blobs.append(data)
    expected = rules_of(config).expected_latest
    return EncodedWrites(
        thread_id=thread_id, ns=ns, checkpoint_id=checkpoint_id, task_id=task_id,
        task_path=task_path, groups=groups, expected=None if expected is None else str(expected),
        fence=rules_of(config).fence,
    )


_INSERT_WRITES: Final = f"""INSERT INTO {WRITES}
    (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT %s, %s, %s, %s, %s, u.idx, u.channel, u.type, u.blob
FROM unnest(%s::integer[], %s::text[], %s::text[], %s::bytea[]) WITH ORDINALITY
    AS u (idx, channel, type, blob, ord)
ORDER BY u.ord
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)"""
_WRITE_CONFLICT: Final[dict[WriteMode, str]] = {
    "insert": " DO NOTHING",
    "replace": " DO UPDATE SET channel = excluded.channel, type = excluded.type, "
               "blob = excluded.blob, task_path = excluded.task_path",
    "claim": " DO NOTHING RETURNING idx",
}
"""An "insert" is kept only if the task has no write at its index yet; a "replace" replaces
the earlier one in place; a "claim" that finds one stored already is a conflict. `seq`,
assigned in the writes' order, is the order pending writes are read back in."""


def _writes_statements(encoded: EncodedWrites) -> list[Statement]:
    """The inserts of a task's writes, one per group of one mode."""
    return [
        Statement(_INSERT_WRITES + _WRITE_CONFLICT[mode], (
            encoded.thread_id, encoded.ns, encoded.checkpoint_id, encoded.task_id,
            encoded.task_path, indexes, chans, types, blobs))
        for mode, indexes, chans, types, blobs in encoded.groups
    ]


def _check_claims(encoded: EncodedWrites, results: Sequence[Rows | None]) -> None:
    """Raise CheckpointConflictError(answered=True) if a "claim" group found a slot taken
    (`results`: the rows of `_writes_statements`, in order)."""
    for (mode, indexes, *_), rows in zip(encoded.groups, results, strict=True):
        if mode == "claim" and len(rows or ()) < len(indexes):
            raise CheckpointConflictError(encoded.thread_id, encoded.checkpoint_id,
                                          encoded.checkpoint_id, answered=True)


_FENCE_TOKEN: Final = f"SELECT token FROM {FENCES} WHERE key = %s FOR SHARE"


def _check_fence(thread_id: str, fence: tuple[str, int] | None) -> Ops[None]:
    """Raise FencedWriteError unless `fence`'s token is current; share-locks the fence row, so
    no advance can come before the transaction ends."""
    if fence is None:
        return
    rows = yield Statement(_FENCE_TOKEN, (fence[0],))
    current = rows[0][0] if rows else None
    if current != fence[1]:
        raise FencedWriteError(thread_id, fence[0], fence[1], current)


def advance_fence(key: str) -> Ops[int]:
    """A new token for `key` (see checkpoint.base.WriteRules); run it in a write transaction."""
    rows = yield Statement(
        f"INSERT INTO {FENCES} AS f (key, token) VALUES (%s, 1) "
        "ON CONFLICT (key) DO UPDATE SET token = f.token + 1 RETURNING token", (str(key),))
    return int(rows[0][0])


def put_writes(encoded: EncodedWrites) -> Ops[None]:
    """Store encoded writes (run it in one write transaction: a conflict stores none).

    Raises:
        CheckpointConflictError: WriteRules.expected_latest was given and the writes'
            checkpoint is not the thread's latest in its namespace, or an answer slot ("claim") was
            taken already.
    """
    thread_id, ns, checkpoint_id = encoded.thread_id, encoded.ns, encoded.checkpoint_id
    yield from _check_fence(thread_id, encoded.fence)
    if encoded.expected is not None:
        yield Statement(_LOCK, (LOCK_CLASS, thread_lock_key(thread_id)))
        rows = yield Statement(_SELECT_LATEST_ID, (thread_id, ns))
        latest: str | None = rows[0][0] if rows else None
        if latest != checkpoint_id:
            raise CheckpointConflictError(thread_id, checkpoint_id, latest)
    statements = _writes_statements(encoded)
    if statements:
        _check_claims(encoded, (yield Batch(tuple(statements))))


def delete_thread(thread_id: str) -> Ops[None]:
    """Delete every checkpoint, value and write of a thread (under the thread's lock)."""
    thread_id = str(thread_id)
    yield Statement(_LOCK, (LOCK_CLASS, thread_lock_key(thread_id)))
    yield Statement(
        f"WITH w AS (DELETE FROM {WRITES} WHERE thread_id = %s), "
        f"b AS (DELETE FROM {BLOBS} WHERE thread_id = %s) "
        f"DELETE FROM {CHECKPOINTS} WHERE thread_id = %s",
        (thread_id, thread_id, thread_id),
    )


_PRUNE: Final = f"""WITH RECURSIVE ranked AS (
    SELECT checkpoint_ns, checkpoint_id, channels, versions,
        row_number() OVER (PARTITION BY checkpoint_ns ORDER BY checkpoint_id DESC) AS rn
    FROM {CHECKPOINTS} WHERE thread_id = %s
), kept (checkpoint_ns, channel, version) AS (
    SELECT r.checkpoint_ns, cv.channel, cv.version
    FROM ranked AS r, unnest(r.channels, r.versions) AS cv (channel, version)
    WHERE r.rn <= %s
  UNION
    SELECT k.checkpoint_ns, k.channel, b.base_version
    FROM kept AS k CROSS JOIN LATERAL (
        SELECT bl.base_version FROM {BLOBS} AS bl
        WHERE bl.thread_id = %s AND bl.checkpoint_ns = k.checkpoint_ns
            AND bl.channel = k.channel AND bl.version = k.version
        LIMIT 1
    ) AS b
    WHERE b.base_version IS NOT NULL
), old AS (
    DELETE FROM {CHECKPOINTS} AS c USING ranked AS r
    WHERE c.thread_id = %s AND c.checkpoint_ns = r.checkpoint_ns
        AND c.checkpoint_id = r.checkpoint_id AND r.rn > %s
    RETURNING c.checkpoint_ns, c.checkpoint_id
), old_writes AS (
    DELETE FROM {WRITES} AS w USING old
    WHERE w.thread_id = %s AND w.checkpoint_ns = old.checkpoint_ns
        AND w.checkpoint_id = old.checkpoint_id
)
DELETE FROM {BLOBS} AS b
WHERE b.thread_id = %s AND b.checkpoint_ns IN (SELECT checkpoint_ns FROM ranked)
    AND NOT EXISTS (
        SELECT 1 FROM kept AS k WHERE k.checkpoint_ns = b.checkpoint_ns
            AND k.channel = b.channel AND k.version = b.version
    )"""
"""Kept: the values the kept checkpoints name, and the versions their deltas extend."""


def prune(thread_id: str, keep_last: int) -> Ops[None]:
    """Keep the newest `keep_last` checkpoints of each namespace of a thread, their writes, and
    the values they use; delete the rest (run it in one write transaction; it takes the
    thread's lock, so no compare-and-set put or delta of the thread interleaves)."""
    check_keep_last(keep_last)
    thread_id = str(thread_id)
    yield Statement(_LOCK, (LOCK_CLASS, thread_lock_key(thread_id)))
    yield Statement(_PRUNE, (thread_id, keep_last, thread_id, thread_id, keep_last, thread_id,
                             thread_id))


_KEEP_ALL: Final = 2**62
"""keep_last for a prune that deletes no checkpoint, only values none of them uses."""


def rewind(serde: SerializerProtocol, config: RunnableConfig,
           pending_writes: Sequence[PendingWrite]) -> Ops[None]:
    """See BaseCheckpointSaver.rewind (run it in one write transaction; it takes the thread's
    lock)."""
    thread_id, ns = thread_ns(config)
    checkpoint_id = str(config["configurable"]["checkpoint_id"])
    yield Statement(_LOCK, (LOCK_CLASS, thread_lock_key(thread_id)))
    found = yield Statement(
        f"SELECT 1 FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s "
        "AND checkpoint_id = %s", (thread_id, ns, checkpoint_id))
    if not found:
        raise ValueError(f"Thread '{thread_id}' has no checkpoint '{checkpoint_id}' in "
                         f"namespace '{ns}' to rewind to.")
    yield Statement(
        f"WITH w AS (DELETE FROM {WRITES} WHERE thread_id = %s AND (checkpoint_id > %s "
        "OR (checkpoint_ns = %s AND checkpoint_id = %s))) "
        f"DELETE FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_id > %s",
        (thread_id, checkpoint_id, ns, checkpoint_id, thread_id, checkpoint_id))
    target = make_config(thread_id, ns, checkpoint_id)
    for task_id, writes in writes_by_task(pending_writes):
        yield from put_writes(encode_writes(serde, target, writes, task_id))
    yield Statement(_PRUNE, (thread_id, _KEEP_ALL, thread_id, thread_id, _KEEP_ALL, thread_id,
                             thread_id))
    yield Statement(
        f"DELETE FROM {BLOBS} WHERE thread_id = %s AND checkpoint_ns NOT IN "
        f"(SELECT checkpoint_ns FROM {CHECKPOINTS} WHERE thread_id = %s)",
        (thread_id, thread_id))


_STORED_GUARD: Final = (
    f"\nWHERE EXISTS (SELECT 1 FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s "
    "AND checkpoint_id = %s)"
)


def _step_writes_statements(one: EncodedWrites, encoded: EncodedPut) -> list[Statement]:
    """A finished task's writes, inserted only if the step's checkpoint was stored (by the
    guarded put earlier in the same transaction): a refused put leaves nothing behind."""
    head, tail = _INSERT_WRITES.split("\nORDER BY u.ord")
    sql = head + _STORED_GUARD + "\nORDER BY u.ord" + tail
    guard = (encoded.thread_id, encoded.ns, encoded.checkpoint_id)
    return [
        Statement(sql + _WRITE_CONFLICT[mode], (
            one.thread_id, one.ns, one.checkpoint_id, one.task_id, one.task_path,
            indexes, chans, types, blobs, *guard))
        for mode, indexes, chans, types, blobs in one.groups
    ]


def put_step_standalone(writes: Sequence[EncodedWrites], encoded: EncodedPut) -> bool:
    """Whether put_step() is one self-contained transaction (one round trip, BEGIN and COMMIT
    included): none of the writes claims an answer slot or compares the latest itself, and
    they carry the put's fence."""
    return all(
        one.expected is None and one.fence == encoded.fence
        and all(group[0] != "claim" for group in one.groups)
        for one in writes
    )


def put_step(writes: Sequence[EncodedWrites], encoded: EncodedPut) -> Ops[RunnableConfig]:
    """A finished step in one transaction: its tasks' writes, then its checkpoint. Standalone
    (see put_step_standalone), the checkpoint goes first and the writes follow only if it was
    stored, all in one batch; otherwise the writes are stored (and checked) first."""
    if not put_step_standalone(writes, encoded):
        for one in writes:
            yield from put_writes(one)
        return (yield from put(encoded))
    tail = [st for one in writes for st in _step_writes_statements(one, encoded)]
    full = False
    while True:
        statements = _put_statements(encoded, full=full)
        results = yield Batch((*statements, *tail), transaction=True)
        if _put_outcome(encoded, results[len(statements) - 1][0]):
            return make_config(encoded.thread_id, encoded.ns, encoded.checkpoint_id)
        full = True
