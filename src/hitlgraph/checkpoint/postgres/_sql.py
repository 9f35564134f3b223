"""The PostgreSQL dialect of the storage layer (`checkpoint._store`): SQL text, and the steps
where the PostgreSQL schema (`_schema.py`) lays data out its own way.

A checkpoint row names its channels and versions as arrays, so one statement reads a
checkpoint whole (values, the versions their deltas extend, pending writes); a put is one
guarded statement that checks the write rules and stores, sent with its lock in one pipeline;
a prune is one statement. Every statement is a constant string: user data (thread ids,
namespaces, channel names, metadata filter keys and values) only ever travels as bound
parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, cast

import hitlgraph.checkpoint.postgres._pending as _pending
from hitlgraph.checkpoint._delta import DELTA_TAG, DeltaEncoder, resolve
from hitlgraph.checkpoint._rows import by_task, checkpoint_tuple, unpack_record
from hitlgraph.checkpoint._store import rules
from hitlgraph.checkpoint._store.dialect import Dialect, PutOutcome
from hitlgraph.checkpoint._store.encode import EncodedPut, EncodedWrites
from hitlgraph.checkpoint._store.ops import Batch, Ops, Rows, Statement
from hitlgraph.checkpoint.base import (
    ChannelVersions,
    CheckpointMetadata,
    CheckpointTuple,
    Fence,
    PendingWrite,
    WriteMode,
)
from hitlgraph.checkpoint.postgres._filters import filter_clause, metadata_json
from hitlgraph.checkpoint.postgres._schema import (
    BLOBS,
    CHECKPOINTS,
    FENCES,
    LOCK,
    LOCK_CLASS,
    MIGRATION_LOCK,
    MIGRATIONS,
    MIGRATIONS_TABLE,
    PENDING,
    TABLES,
    WRITES,
    thread_lock_key,
)
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["BLOBS", "DIALECT", "MIGRATIONS", "MIGRATIONS_TABLE", "TABLES", "PostgresDialect"]

READ_COMMITTED: Final = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"
"""Run first in a write transaction on a connection not configured for READ COMMITTED: the
compare-and-set and the migrations read what committed while they waited for their lock,
which a REPEATABLE READ snapshot taken before the wait would not show."""
BEGIN: Final = "BEGIN ISOLATION LEVEL READ COMMITTED"
"""How a standalone batch begins its own transaction (see ops.Batch.transaction)."""


def version_key(version: Any) -> str:
    """A channel version as the blobs table keys it."""
    return str(version)


# -- reading -----------------------------------------------------------------------------------

MAX_CHAIN: Final = 1000
"""Deltas followed at most from one value back to a full one (the encoder starts a new full
value every few hundred); a bound, so that corrupt links cannot loop."""


def _blob(channel: str, version: str) -> str:
    """The join of the one blob row of a channel's version named by `channel` and `version`
    (the checkpoint's own, or the base a delta extends)."""
    return f"""CROSS JOIN LATERAL (
            SELECT * FROM {BLOBS} AS b
            WHERE b.thread_id = c.thread_id AND b.checkpoint_ns = c.checkpoint_ns
                AND b.channel = {channel} AND b.version = {version}
            LIMIT 1
        ) AS bl"""


_SELECT: Final = f"""SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id,
    c.parent_checkpoint_id, c.ts, c.record, c.metadata_type, c.metadata,
    b.channels, b.versions, b.types, b.blobs, w.task_ids, w.channels, w.types, w.blobs
FROM {CHECKPOINTS} AS c
CROSS JOIN LATERAL (
    WITH RECURSIVE chain (channel, version, type, blob, base_version, depth) AS (
        SELECT bl.channel, bl.version, bl.type, bl.blob, bl.base_version, 0
        FROM unnest(c.channels, c.versions) AS cv (channel, version)
        {_blob("cv.channel", "cv.version")}
      UNION ALL
        SELECT bl.channel, bl.version, bl.type, bl.blob, bl.base_version, ch.depth + 1
        FROM chain AS ch
        {_blob("ch.channel", "ch.base_version")}
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

# -- writing -----------------------------------------------------------------------------------

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
), {_pending.CLOSE_OLDER}
SELECT (SELECT checkpoint_id FROM latest), (SELECT n FROM missing), EXISTS (SELECT 1 FROM ok),
    (SELECT token FROM fence)"""
"""A checkpoint and its values, stored only if the thread's latest checkpoint is the expected
one (when one is expected), its fence token (if any) is current, and every version a delta
extends is stored; returns the latest, the count of missing versions, whether it stored, and
the fence's current token (the row is share-locked: no advance until the transaction ends).
Run after the thread's lock in the same transaction, it reads what committed while the lock
was awaited (a new statement, a new snapshot under READ COMMITTED)."""


def _value_columns(put: EncodedPut, *, full: bool
                   ) -> tuple[list[str], list[Any], list[str], list[bytes], list[Any]]:
    """The put's values as the guarded insert's arrays: channels, versions, types, blobs,
    bases (with `full`, deltas as their whole values)."""
    values = [value.as_full() for value in put.values] if full else put.values
    return ([value.channel for value in values], [value.version for value in values],
            [value.stored[0] for value in values], [value.stored[1] for value in values],
            [value.base for value in values])


def _put_statements(put: EncodedPut, *, full: bool) -> list[Statement]:
    """The statements of a put: the thread's lock when it compares or stores deltas, then the
    guarded insert."""
    channels, versions, types, data, bases = _value_columns(put, full=full)
    statements = []
    if put.expected_latest is not None or put.has_deltas:
        statements.append(Statement(LOCK, (LOCK_CLASS, thread_lock_key(put.thread_id))))
    statements.append(Statement(_PUT_GUARDED, {
        "thread": put.thread_id, "ns": put.ns, "channels": channels, "versions": versions,
        "types": types, "blobs": data, "bases": bases, "expected": put.expected_latest,
        "id": put.checkpoint_id, "parent": put.parent, "ts": put.ts,
        "all_channels": list(put.versions),
        "all_versions": [version_key(v) for v in put.versions.values()],
        "record": put.record, "metadata_type": put.metadata_type, "metadata": put.metadata,
        "metadata_json": put.metadata_json,
        "fence_key": put.fence.key if put.fence else None,
        "fence_token": put.fence.token if put.fence else None,
    }))
    return statements


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

_WriteGroup = tuple[WriteMode, list[int], list[str], list[str], list[bytes]]
"""Consecutive writes stored the same way: mode, indexes, channels, types, blobs."""


def _groups(encoded: EncodedWrites) -> list[_WriteGroup]:
    """A task's writes in runs of one mode, in order."""
    groups: list[_WriteGroup] = []
    for slot in encoded.slots:
        if not groups or groups[-1][0] != slot.mode:
            groups.append((slot.mode, [], [], [], []))
        _, indexes, chans, types, blobs = groups[-1]
        indexes.append(slot.idx)
        chans.append(slot.channel)
        types.append(slot.type)
        blobs.append(slot.blob)
    return groups


_STORED_GUARD: Final = (
    f"\nWHERE EXISTS (SELECT 1 FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s "
    "AND checkpoint_id = %s)"
)


def _writes_statements(encoded: EncodedWrites, guard: EncodedPut | None = None
                       ) -> list[Statement]:
    """The inserts of a task's writes, one per group of one mode; with `guard`, inserted only
    if that put's checkpoint was stored (by the guarded put earlier in the same
    transaction), so a refused put leaves nothing behind."""
    sql, checks = _INSERT_WRITES, cast("tuple[Any, ...]", ())
    if guard is not None:
        head, tail = _INSERT_WRITES.split("\nORDER BY u.ord")
        sql = head + _STORED_GUARD + "\nORDER BY u.ord" + tail
        checks = (guard.thread_id, guard.ns, guard.checkpoint_id)
    return [
        Statement(sql + _WRITE_CONFLICT[mode], (
            encoded.thread_id, encoded.ns, encoded.checkpoint_id, encoded.task_id,
            encoded.task_path, indexes, chans, types, blobs, *checks))
        for mode, indexes, chans, types, blobs in _groups(encoded)
    ]


# -- garbage collection ------------------------------------------------------------------------

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

_KEEP_ALL: Final = 2**62
"""keep_last for a prune that deletes no checkpoint, only values none of them uses."""


class PostgresDialect(Dialect):
    """PostgreSQL's SQL (psycopg's `%s` placeholders) over the schema of `_schema.MIGRATIONS`,
    with per-thread advisory locks."""

    migrations = MIGRATIONS
    migrations_exist = f"SELECT to_regclass('{MIGRATIONS_TABLE}') IS NOT NULL"
    create_migrations = (
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(v INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
    max_migration = f"SELECT MAX(v) FROM {MIGRATIONS_TABLE}"
    insert_migration = f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (%s)"
    migration_lock = MIGRATION_LOCK

    compact = False
    select_latest = _SELECT_LATEST
    select_by_id = _SELECT_BY_ID
    select_latest_id = (
        f"SELECT checkpoint_id FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s "
        "ORDER BY checkpoint_id DESC LIMIT 1")
    select_exists = (
        f"SELECT 1 FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s "
        "AND checkpoint_id = %s")
    fence_token = f"SELECT token FROM {FENCES} WHERE key = %s FOR SHARE"
    advance_fence = (
        f"INSERT INTO {FENCES} AS f (key, token) VALUES (%s, 1) "
        "ON CONFLICT (key) DO UPDATE SET token = f.token + 1 RETURNING token")
    after_clause = "(c.checkpoint_id, c.thread_id, c.checkpoint_ns) < (%s, %s, %s)"
    everything = "TRUE"
    steps_in_one_batch = True

    version_key = staticmethod(version_key)
    filter_clause = staticmethod(filter_clause)

    def metadata_json(self, metadata: CheckpointMetadata, *, exact: bool) -> str:
        return metadata_json(metadata)

    def condition(self, column: str, op: str) -> str:
        return f"c.{column} {op} %s"

    def select_page(self, where: str) -> str:
        return (f"{_SELECT}\nWHERE {where} "
                "ORDER BY c.checkpoint_id DESC, c.thread_id DESC, c.checkpoint_ns DESC LIMIT %s")

    def load_metadata(self, serde: SerializerProtocol, row: tuple[Any, ...]) -> Any:
        return serde.loads_typed((row[6], bytes(row[7])))

    def read_tuple(self, serde: SerializerProtocol, row: tuple[Any, ...], metadata: Any,
                   deltas: DeltaEncoder | None, cache: dict[Any, Any]) -> Ops[CheckpointTuple]:
        yield from ()  # the row holds every value and write: nothing more to read
        return _to_tuple(serde, row, metadata)

    def lock_thread(self, thread_id: str) -> Ops[None]:
        yield Statement(LOCK, (LOCK_CLASS, thread_lock_key(thread_id)))

    def store_checkpoint(self, put: EncodedPut, *, full: bool,
                         then: Sequence[EncodedWrites] = ()) -> Ops[PutOutcome]:
        """One batch, one round trip: the lock, the guarded insert, then `then`'s writes."""
        statements = _put_statements(put, full=full)
        tail = [st for one in then for st in _writes_statements(one, guard=put)]
        results = yield Batch((*statements, *tail), transaction=True)
        latest, missing, stored, token = results[len(statements) - 1][0]
        return latest, missing, stored, token

    def store_writes(self, encoded: EncodedWrites, *, fence: Fence | None = None) -> Ops[bool]:
        """One insert per run of one mode, in one batch; a "claim" that found its slot taken
        returns fewer rows than it inserts. (Whether they were the task's first is not known
        without another read.)"""
        results: list[Rows | int] = yield Batch(tuple(_writes_statements(encoded)))
        for (mode, indexes, *_), reply in zip(_groups(encoded), results, strict=True):
            if mode == "claim" and len(cast("Rows", reply)) < len(indexes):  # RETURNING idx
                raise rules.answered(encoded.thread_id, encoded.checkpoint_id)
        return False

    pending_param = "%s"
    pending_table, decisions_table, decisions_head, events_table, events_head = _pending.TABLES
    head_lock = " FOR UPDATE"
    open_pending, close_task_pending, answer_pending, count_given, set_policy = _pending.CHANGES
    open_entry, unwarned = "NOT answered", "NOT warned"
    select_pending = staticmethod(_pending.select_pending)
    interrupt_writes = staticmethod(_pending.interrupt_writes)

    def delete_thread(self, thread_id: str) -> Sequence[Statement]:
        return [Statement(
            f"WITH w AS (DELETE FROM {WRITES} WHERE thread_id = %s), "
            f"b AS (DELETE FROM {BLOBS} WHERE thread_id = %s), "
            f"p AS (DELETE FROM {PENDING} WHERE thread_id = %s) "
            f"DELETE FROM {CHECKPOINTS} WHERE thread_id = %s",
            (thread_id, thread_id, thread_id, thread_id))]

    def delete_after(self, thread_id: str, ns: str, checkpoint_id: str) -> Sequence[Statement]:
        return [Statement(
            f"WITH w AS (DELETE FROM {WRITES} WHERE thread_id = %s AND (checkpoint_id > %s "
            "OR (checkpoint_ns = %s AND checkpoint_id = %s))), "
            f"p AS (DELETE FROM {PENDING} WHERE thread_id = %s AND (checkpoint_id > %s "
            "OR (checkpoint_ns = %s AND checkpoint_id = %s))) "
            f"DELETE FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_id > %s",
            (thread_id, checkpoint_id, ns, checkpoint_id, thread_id, checkpoint_id, ns,
             checkpoint_id, thread_id, checkpoint_id))]

    def collect(self, thread_id: str, keep_last: int | None) -> Ops[None]:
        """One statement (with keep_last None, a second for namespaces left with no
        checkpoint)."""
        keep = _KEEP_ALL if keep_last is None else keep_last
        yield Statement(_PRUNE, (thread_id, keep, thread_id, thread_id, keep, thread_id,
                                 thread_id))
        if keep_last is None:
            yield Statement(
                f"DELETE FROM {BLOBS} WHERE thread_id = %s AND checkpoint_ns NOT IN "
                f"(SELECT checkpoint_ns FROM {CHECKPOINTS} WHERE thread_id = %s)",
                (thread_id, thread_id))


DIALECT: Final = PostgresDialect()
