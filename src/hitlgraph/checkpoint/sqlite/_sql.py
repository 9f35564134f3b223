"""The SQLite dialect of the storage layer (`checkpoint._store`): SQL text, and the steps
where SQLite's compact schema (`_schema.py`) lays data out its own way.

Values longer than INLINE_MAX bytes live in `blob_data`; a task's writes are packed into one
row of `writes`; a write that repeats the items a channel's delta appends is stored as a
reference to them; ts and the serialized metadata are left out when the id and the JSON copy
hold them. Every statement is a constant string; user data (thread ids, metadata filter keys
and values) only ever travels as bound parameters.
"""

from __future__ import annotations

import functools
import json
import operator
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

import ormsgpack

import hitlgraph.checkpoint.sqlite._pending as _pending
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
from hitlgraph.checkpoint._rows import checkpoint_tuple, row_ts, unpack_record
from hitlgraph.checkpoint._store import rules, writes
from hitlgraph.checkpoint._store.dialect import PAGE_ROWS, Dialect, PutOutcome
from hitlgraph.checkpoint._store.encode import EncodedPut, EncodedValue, EncodedWrites, Slot
from hitlgraph.checkpoint._store.ops import Many, Ops, Statement, nothing
from hitlgraph.checkpoint.base import CheckpointMetadata, CheckpointTuple, Fence, PendingWrite
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.checkpoint.sqlite._filters import INT64, filter_clause
from hitlgraph.checkpoint.sqlite._json_text import load_json
from hitlgraph.checkpoint.sqlite._page import loaded_reads, page_reads
from hitlgraph.checkpoint.sqlite._schema import MIGRATIONS, MIGRATIONS_TABLE

__all__ = ["DIALECT", "INLINE_MAX", "MIGRATIONS", "MIGRATIONS_TABLE", "SqliteDialect"]

_T = TypeVar("_T")

INLINE_MAX: Final = 800
"""Longest value stored in its row of `blobs` or `writes`; a longer one goes to `blob_data`."""

_CHECKPOINT_COLUMNS: Final = (
    "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, ts, record, "
    "metadata_type, metadata, metadata_json"
)
_VALUE: Final = "COALESCE(blob, (SELECT data FROM blob_data WHERE id = data_id))"
_WRITES_VALUE: Final = "COALESCE(writes, (SELECT data FROM blob_data WHERE id = data_id))"
_SELECT_BLOB: Final = (
    f"SELECT type, {_VALUE} FROM blobs "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? AND version = ?"
)
_VALUES_PER_READ: Final = 250
"""Most channels whose values one statement reads (two parameters each: under the 999
parameters older SQLite builds allow)."""
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
_INSERT_NEW_TASK_WRITES: Final = (
    "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, seq, task_path, "
    "writes, data_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id) DO NOTHING"
)
_INSERT_NEW_FENCED_TASK_WRITES: Final = (
    "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, seq, task_path, "
    "writes, data_id) SELECT ?, ?, ?, ?, ?, ?, ?, ? "
    "WHERE (SELECT token FROM fences WHERE key = ?) IS ? "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id) DO NOTHING"
)
"""_INSERT_NEW_TASK_WRITES only while a fence (key, token) holds. (No RETURNING here or
there: it costs more instructions than the read it would save, measured.)"""
_SELECT_TASK_WRITES: Final = (
    f"SELECT seq, {_WRITES_VALUE} FROM writes WHERE thread_id = ? AND checkpoint_ns = ? "
    "AND checkpoint_id = ? AND task_id = ?"
)
_UPSERT_TASK_WRITES: Final = (
    "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, seq, task_path, "
    "writes, data_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id) DO UPDATE SET "
    "seq = excluded.seq, task_path = excluded.task_path, writes = excluded.writes, "
    "data_id = excluded.data_id"
)
_DELETE_AT: Final = "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"


_READ_WRITES: Final = (
    f"SELECT 1, task_id, seq, {_WRITES_VALUE} FROM writes "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
)


@functools.cache
def _select_stored(count: int, *, writes: bool) -> str:
    """One statement reading what a checkpoint row refers to: the values of `count`
    (channel, version) keys of its thread namespace, as rows (0, channel, type, data), and with
    `writes` its pending writes, as rows (1, task_id, seq, packed writes). CROSS JOIN makes
    the keys the outer loop, so each is one lookup of the primary key, not a scan of the
    thread's values."""
    keys = ", ".join(["(?, ?)"] * count)
    parts = [
        "SELECT 0, b.channel, b.type, COALESCE(b.blob, (SELECT data FROM blob_data "
        f"WHERE id = b.data_id)) FROM (VALUES {keys}) AS k CROSS JOIN blobs AS b "
        "WHERE b.thread_id = ? AND b.checkpoint_ns = ? AND b.channel = k.column1 "
        "AND b.version = k.column2"] if count else []
    return " UNION ALL ".join([*parts, _READ_WRITES] if writes else parts)

_first = operator.itemgetter(0)
_seq_lock = threading.Lock()
_last_seq = 0


def _next_seq() -> int:
    """A task row's `seq`: when its first writes came (nanoseconds since the epoch), strictly
    increasing in this process, so a checkpoint's tasks read back in the order they wrote."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(time.time_ns(), _last_seq + 1)
        return _last_seq


def _json_number(value: int | float) -> Any:
    """A number for the JSON copy: SQLite's JSON functions hold 64-bit ints; a larger one
    becomes a marker object."""
    if isinstance(value, float) or INT64[0] <= value <= INT64[1]:
        return value
    return {"__int__": str(value)}


def _merge(entries: list[list[Any]], slots: Sequence[Slot], thread_id: str,
           checkpoint_id: str) -> bool:
    """Merge writes into a task's stored entries ([idx, channel, type, blob]) by their modes;
    whether anything changed. A "claim" of a taken slot raises CheckpointConflictError."""
    position = {entry[0]: i for i, entry in enumerate(entries)}
    changed = False
    for slot in slots:
        at = position.get(slot.idx)
        entry = [slot.idx, slot.channel, slot.type, slot.blob]
        if at is None:
            position[slot.idx] = len(entries)
            entries.append(entry)
            changed = True
        elif slot.mode == "claim":
            raise rules.answered(thread_id, checkpoint_id)
        elif slot.mode == "replace":
            entries[at] = entry
            changed = True
    return changed


def _stored_reads(thread_id: str, ns: str, checkpoint_id: str, versions: Mapping[str, Any]
                  ) -> list[Statement]:
    """The statements (see `_select_stored`) that read a checkpoint's pending writes and the
    value of each channel at its version in `versions` (a delta as its items), the writes and
    _VALUES_PER_READ values in the first, as many values more in each other one."""
    keys = [part for key in versions.items() for part in key]  # channel, version, ...
    step = 2 * _VALUES_PER_READ
    reads = []
    for start in range(0, max(len(keys), 1), step):
        chunk = keys[start:start + step]
        params = (*chunk, thread_id, ns) if chunk else ()
        if start == 0:
            params += (thread_id, ns, checkpoint_id)
        reads.append(Statement(_select_stored(len(chunk) // 2, writes=start == 0), params))
    return reads


class _Missing(Exception):
    """Stored rows a ChainCache asked for that this read has not fetched yet."""

    def __init__(self, key: tuple[str, Any, Any]) -> None:
        self.key = key


class _Chains:
    """A ChainCache of one thread namespace whose rows come from statements the read yields:
    asked for rows it lacks, it raises _Missing, and `resolving` fetches them and retries."""

    def __init__(self, thread_id: str, ns: str) -> None:
        self.thread_id, self.ns = thread_id, ns
        self.fetched: dict[tuple[str, Any, Any], Mapping[Any, tuple[str, bytes]]] = {}
        self.cache = ChainCache(self._fetch)

    def _fetch(self, channel: str, low: Any, high: Any) -> Mapping[Any, tuple[str, bytes]]:
        try:
            return self.fetched[(channel, low, high)]
        except KeyError:
            raise _Missing((channel, low, high)) from None

    def resolving(self, compute: Callable[[], _T]) -> Ops[_T]:
        """`compute()`, once the rows it reads are fetched."""
        while True:
            try:
                return compute()
            except _Missing as missing:
                rows = yield Statement(_SELECT_CHAIN, (self.thread_id, self.ns, *missing.key))
                self.fetched[missing.key] = {row[0]: (row[1], row[2]) for row in rows or ()}


def _chains(cache: dict[Any, Any], thread_id: str, ns: str) -> _Chains:
    """The read's _Chains of a thread namespace, made when a delta or reference first needs
    it (most checkpoints have neither)."""
    chains = cache.get((thread_id, ns))
    if chains is None:
        chains = cache[(thread_id, ns)] = _Chains(thread_id, ns)
    return chains


class SqliteDialect(Dialect):
    """SQLite's SQL (`?` placeholders) over the schema of `_schema.MIGRATIONS`."""

    migrations = MIGRATIONS
    migrations_exist = (
        f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{MIGRATIONS_TABLE}'")
    create_migrations = (
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(v INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
    max_migration = f"SELECT MAX(v) FROM {MIGRATIONS_TABLE}"
    insert_migration = f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (?)"

    compact = True
    select_latest = (
        f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE thread_id = ? "
        "AND checkpoint_ns = ? ORDER BY checkpoint_id DESC LIMIT 1")
    select_by_id = f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints {_DELETE_AT}"
    select_latest_id = (
        "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
        "ORDER BY checkpoint_id DESC LIMIT 1")
    select_exists = f"SELECT 1 FROM checkpoints {_DELETE_AT}"
    fence_token = "SELECT token FROM fences WHERE key = ?"
    fence_and_latest_id = (
        "SELECT (SELECT token FROM fences WHERE key = ?), (SELECT checkpoint_id FROM "
        "checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
        "ORDER BY checkpoint_id DESC LIMIT 1)")
    fence_latest_and_chain = (
        "SELECT (SELECT token FROM fences WHERE key = ?), (SELECT checkpoint_id FROM "
        "checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
        "ORDER BY checkpoint_id DESC LIMIT 1), "
        "(SELECT seq FROM decisions_head), (SELECT hash FROM decisions_head)")
    advance_fence = (
        "INSERT INTO fences (key, token) VALUES (?, 1) "
        "ON CONFLICT (key) DO UPDATE SET token = token + 1 RETURNING token")
    after_clause = "(checkpoint_id, thread_id, checkpoint_ns) < (?, ?, ?)"
    everything = "1"
    fence_read_once = True
    fence_in_writes = True

    def version_key(self, version: Any) -> Any:
        return version  # the column has no type: versions keep theirs

    def metadata_json(self, metadata: CheckpointMetadata, *, exact: bool) -> str:
        """ASCII strict JSON; text verbatim, ints beyond 64 bits as marker objects."""
        if exact:
            return json.dumps(dict(metadata), ensure_ascii=True, allow_nan=False,
                              separators=(",", ":"))
        return _rows.metadata_json(metadata, number=_json_number)

    def condition(self, column: str, op: str) -> str:
        return f"{column} {op} ?"

    filter_clause = staticmethod(filter_clause)

    def select_page(self, where: str) -> str:
        return (f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE {where} "
                "ORDER BY checkpoint_id DESC, thread_id DESC, checkpoint_ns DESC LIMIT ?")

    # -- reading --------------------------------------------------------------------------------

    def load_metadata(self, serde: SerializerProtocol, row: tuple[Any, ...]) -> Any:
        if row[6] is None or row[7] is None:  # the JSON copy is exact
            return load_json(row[8])
        return serde.loads_typed((row[6], row[7]))

    def read_tuple(self, serde: SerializerProtocol, row: tuple[Any, ...], metadata: Any,
                   deltas: DeltaEncoder | None, cache: dict[Any, Any]) -> Ops[CheckpointTuple]:
        """Its values and pending writes, read together; the statements yielded from here
        directly (no helper generator between: each level costs every statement a frame
        resumption)."""
        thread_id, ns, checkpoint_id, parent, ts = row[:5]
        page = cache.get(PAGE_ROWS)
        if page is not None:  # a page of list(): read what all its rows refer to at once
            reads = loaded_reads(cache, thread_id, ns)  # (read by the page's first row)
            if reads is None:
                reads = yield from page_reads(cache, page, thread_id, ns)
            record, stored, tasks = reads.stored(checkpoint_id)
            versions = dict(record["channel_versions"])
        else:
            record = unpack_record(row[5])
            versions = dict(record["channel_versions"])
            stored, tasks = {}, []
            for statement in _stored_reads(thread_id, ns, checkpoint_id, versions):
                for kind, key, type_or_seq, data in (yield statement):
                    if kind:
                        tasks.append((type_or_seq, key, data))
                    else:
                        stored[key] = (type_or_seq, data)
            tasks.sort(key=_first)  # by seq; a stable sort keeps the rows' order for equal ones
        values: dict[str, Any] = {}
        for channel, version in versions.items():
            typed = stored.get(channel)
            if typed is None or typed[0] != DELTA_TAG:
                if typed is not None:
                    values[channel] = serde.loads_typed(typed)
                continue
            if page is None and deltas is not None:  # get_tuple: the value the writer knows
                latest = deltas.full((thread_id, ns, channel), version)
                if latest is not None:
                    values[channel] = serde.loads_typed(latest)
                    continue
            chains = _chains(cache, thread_id, ns)
            if page is not None and deltas is not None:
                # a page: its older checkpoints' values are prefixes of the newest one's
                known = deltas.items((thread_id, ns, channel), version)
                if known is not None:
                    chains.cache.seed_items(channel, version, *known)
            try:  # most values need no rows beyond the page's: no generator for those
                values[channel] = chains.cache.value(channel, version, typed, serde.loads_typed)
            except _Missing:
                values[channel] = yield from chains.resolving(functools.partial(
                    chains.cache.value, channel, version, typed, serde.loads_typed))
        pending: list[PendingWrite] = []
        for _seq, task_id, packed in tasks:
            for _idx, channel, type_, blob in ormsgpack.unpackb(packed):
                if type_ == REF_TAG:
                    value = yield from self._referenced(
                        serde, _chains(cache, thread_id, ns), channel, (type_, blob))
                else:
                    value = serde.loads_typed((type_, blob))
                pending.append((task_id, channel, value))
        return checkpoint_tuple(thread_id, ns, checkpoint_id, parent, row_ts(checkpoint_id, ts),
                                record, versions, values, metadata, pending)

    def _referenced(self, serde: SerializerProtocol, chains: _Chains, channel: str,
                    ref: tuple[str, bytes]) -> Ops[Any]:
        """The value of a pending write stored as a reference to a channel's delta."""
        version, _count = reference_target(ref)
        stored = chains.cache.row(channel, version)
        if stored is None:
            found = yield Statement(_SELECT_BLOB, (chains.thread_id, chains.ns, channel, version))
            stored = (found[0][0], found[0][1]) if found else None

        def whole() -> tuple[str, bytes]:
            assert stored is not None  # referenced_value checks it first
            return chains.cache.full(channel, version, stored)

        def value() -> Any:
            return referenced_value(ref, stored, serde.loads_typed, whole)

        try:  # the usual case reads no further rows: no generator for it
            return value()
        except _Missing:
            return (yield from chains.resolving(value))

    # -- writing --------------------------------------------------------------------------------

    def lock_thread(self, thread_id: str) -> Ops[None]:
        return nothing()  # BEGIN IMMEDIATE holds the database's one write lock already

    def _spill(self, data: bytes) -> Ops[tuple[None, int]]:
        """Store a value longer than INLINE_MAX in `blob_data`: (no inline value, its id)."""
        rows = yield Statement("INSERT INTO blob_data (data) VALUES (?) RETURNING id", (data,))
        return None, int(rows[0][0])

    def _value_row(self, put: EncodedPut, value: EncodedValue) -> Ops[tuple[Any, ...]]:
        """A delta's or a long value's blobs row; a delta whose base version is no longer
        stored (another process pruned it) is stored as its whole value instead."""
        if value.full is not None:
            base = yield Statement(_SELECT_BLOB_EXISTS,
                                   (put.thread_id, put.ns, value.channel, value.base))
            if not base:
                value = value.as_full()
        type_, data = value.stored
        placed = (data, None) if len(data) <= INLINE_MAX else (yield from self._spill(data))
        return (put.thread_id, put.ns, value.channel, value.version, type_, *placed)

    def store_checkpoint(self, put: EncodedPut, *, full: bool,
                         then: Sequence[EncodedWrites] = ()) -> Ops[PutOutcome]:
        """The checks, the checkpoint's row, then every value in one executemany (a short
        whole value, the usual case, is its row as it stands). The compare-and-set stays a
        SELECT of its own: as the insert's condition, it would read the table being inserted
        into, which SQLite does through a temporary table, costing more than the two. That
        SELECT also tells whether the thread has open interrupts for the checkpoint to close
        (without a compare-and-set, a statement closes them whether or not there are any)."""
        has_open = True
        if put.fence is not None and put.expected_latest is not None:  # (one statement)
            found = yield Statement(_pending.FENCE_LATEST_AND_OPEN,
                                    (put.thread_id, put.ns, put.fence.key))
            token, latest, has_open = found[0]
            rules.check_fence(put.thread_id, put.fence, None if token is None else int(token))
            rules.check_latest(put.thread_id, put.expected_latest, latest)
        elif put.fence is not None:
            yield from writes.check_fence(self, put.thread_id, put.fence)
        elif put.expected_latest is not None:
            found = yield Statement(_pending.LATEST_AND_OPEN, (put.thread_id, put.ns))
            latest, has_open = found[0]
            rules.check_latest(put.thread_id, put.expected_latest, latest)
        yield Statement(_INSERT_CHECKPOINT, (
            put.thread_id, put.ns, put.checkpoint_id, put.parent, put.ts, put.record,
            put.metadata_type, put.metadata, put.metadata_json))
        if has_open:
            yield Statement(_pending.CLOSE_OLDER,
                            (put.thread_id, put.ns, put.ns, put.checkpoint_id))
        rows: list[tuple[Any, ...]] = []
        for value in put.values:
            type_, data = value.stored
            if value.full is None and len(data) <= INLINE_MAX:
                rows.append((put.thread_id, put.ns, value.channel, value.version, type_, data,
                             None))
            else:
                rows.append((yield from self._value_row(put, value)))
        if rows:
            yield Many(_INSERT_BLOB, rows)
        return None, 0, True, None

    def store_writes(self, encoded: EncodedWrites, *, fence: Fence | None = None) -> Ops[bool]:
        """Merge a task's writes into its one row (`seq` orders a checkpoint's tasks as their
        writes first came; an update in place keeps a write's position). The statement that
        inserts the row checks `fence`: the token is read only when it inserted nothing."""
        key = (encoded.thread_id, encoded.ns, encoded.checkpoint_id, encoded.task_id)
        entries: list[list[Any]] = []
        _merge(entries, encoded.slots, encoded.thread_id, encoded.checkpoint_id)
        packed = ormsgpack.packb(entries)
        inline, data_id = ((packed, None) if len(packed) <= INLINE_MAX
                           else (yield from self._spill(packed)))
        row = (*key, _next_seq(), encoded.task_path, inline, data_id)
        if (yield (Statement(_INSERT_NEW_TASK_WRITES, row) if fence is None else
                   Statement(_INSERT_NEW_FENCED_TASK_WRITES, (*row, fence.key, fence.token)))):
            return True  # the task's first writes (a finished task's, usually): one statement
        if fence is not None:  # the fence refused them, or the task has its row already
            yield from writes.check_fence(self, encoded.thread_id, fence)
        if data_id is not None:
            yield Statement("DELETE FROM blob_data WHERE id = ?", (data_id,))
        seq, stored = (yield Statement(_SELECT_TASK_WRITES, key))[0]
        entries = ormsgpack.unpackb(stored)
        if _merge(entries, encoded.slots, encoded.thread_id, encoded.checkpoint_id):
            placed = yield from self._place(ormsgpack.packb(entries))
            yield Statement(_UPSERT_TASK_WRITES, (*key, seq, encoded.task_path, *placed))
        return False

    def _place(self, data: bytes) -> Ops[tuple[bytes | None, int | None]]:
        """(inline value, blob_data id) to store `data` as: short values stay in their row."""
        if len(data) <= INLINE_MAX:
            return data, None
        return (yield from self._spill(data))

    def link_writes(self, writes: Sequence[EncodedWrites], put: EncodedPut
                    ) -> Sequence[EncodedWrites]:
        """Each write that is exactly the items a channel's stored delta appends, as a
        reference to that delta (so the items are stored once)."""
        deltas = {value.channel: value for value in put.values if value.full is not None}
        if not deltas:
            return writes
        return [_linked(one, deltas) if one.checkpoint_id == put.parent else one
                for one in writes]

    # -- the index of open interrupts -----------------------------------------------------------

    pending_param = "?"
    pending_table, decisions_table, decisions_head, events_table, events_head = _pending.TABLES
    open_pending, close_task_pending, answer_pending, count_given, set_policy = _pending.CHANGES
    open_entry, unwarned, same_as = "answered = 0", "warned = 0", "IS"
    select_pending = staticmethod(_pending.select_pending)
    interrupt_writes = staticmethod(_pending.interrupt_writes)

    # -- garbage collection ---------------------------------------------------------------------

    def delete_thread(self, thread_id: str) -> Sequence[Statement]:
        return [Statement(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))
                for table in ("checkpoints", "blobs", "writes", "pending_interrupts")]

    def delete_after(self, thread_id: str, ns: str, checkpoint_id: str) -> Sequence[Statement]:
        return [
            *(Statement(f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id > ?",
                        (thread_id, checkpoint_id)) for table in ("checkpoints", "writes")),
            Statement(f"DELETE FROM writes {_DELETE_AT}", (thread_id, ns, checkpoint_id)),
            Statement("DELETE FROM pending_interrupts WHERE thread_id = ? AND (checkpoint_id > ? "
                      "OR (checkpoint_ns = ? AND checkpoint_id = ?))",
                      (thread_id, checkpoint_id, ns, checkpoint_id)),
        ]

    def collect(self, thread_id: str, keep_last: int | None) -> Ops[None]:
        """Per namespace (of its checkpoints, or with keep_last None of its values)."""
        table = "checkpoints" if keep_last is not None else "blobs"
        spaces = yield Statement(
            f"SELECT DISTINCT checkpoint_ns FROM {table} WHERE thread_id = ?", (thread_id,))
        for (ns,) in sorted(spaces or ()):
            rows = yield Statement(
                "SELECT checkpoint_id, record FROM checkpoints WHERE thread_id = ? "
                "AND checkpoint_ns = ? ORDER BY checkpoint_id DESC", (thread_id, ns))
            rows = rows or []
            if keep_last is not None:
                old = [(thread_id, ns, checkpoint_id) for checkpoint_id, _ in rows[keep_last:]]
                if old:
                    yield Many(f"DELETE FROM checkpoints {_DELETE_AT}", old)
                    yield Many(f"DELETE FROM writes {_DELETE_AT}", old)
                rows = rows[:keep_last]
            yield from _collect_values(thread_id, ns, rows)


def _linked(encoded: EncodedWrites, deltas: dict[str, EncodedValue]) -> EncodedWrites:
    slots = list(encoded.slots)
    for i, slot in enumerate(slots):
        value = deltas.get(slot.channel)
        if slot.mode != "insert" or value is None:
            continue
        ref = reference((slot.type, slot.blob), value.stored, value.version)
        if ref is not None:
            slots[i] = slot._replace(type=ref[0], blob=ref[1])
    return encoded._replace(slots=tuple(slots))


def _collect_values(thread_id: str, ns: str, kept_rows: Sequence[tuple[str, bytes]]
                    ) -> Ops[None]:
    """Delete the values of a thread namespace that none of `kept_rows` ((checkpoint_id,
    record) of the checkpoints it keeps) uses: not as a channel value, not through a pending
    write's reference, not as the base of a delta they need."""
    kept = {
        (chan, version)
        for _, record in kept_rows
        for chan, version in unpack_record(record)["channel_versions"].items()
    }
    for checkpoint_id, _ in kept_rows:  # versions kept writes refer to
        for _task, packed in (yield Statement(_SELECT_WRITES, (thread_id, ns, checkpoint_id))):
            for _idx, chan, type_, blob in ormsgpack.unpackb(packed):
                if type_ == REF_TAG:
                    kept.add((chan, reference_target((type_, blob))[0]))
    for chan, version in list(kept):  # a kept delta needs the versions it extends
        while True:
            found = yield Statement(_SELECT_BLOB, (thread_id, ns, chan, version))
            links = delta_links((found[0][0], found[0][1])) if found else None
            if links is None:
                break
            version = links[0]
            kept.add((chan, version))
    stored = yield Statement(
        "SELECT channel, version FROM blobs WHERE thread_id = ? AND checkpoint_ns = ?",
        (thread_id, ns))
    unused = [(thread_id, ns, chan, version) for chan, version in stored
              if (chan, version) not in kept]
    if unused:
        yield Many("DELETE FROM blobs WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? "
                   "AND version = ?", unused)


DIALECT: Final = SqliteDialect()
