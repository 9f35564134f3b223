"""What a page of list() refers to, read in one batch rather than one statement per checkpoint.

A page of history is up to `list_page_size` checkpoints of one thread namespace; each needs its
channels' stored values and its pending writes. Read one checkpoint at a time, that is a
statement (and a trip through the driver) per checkpoint, about a fifth of a whole-history
read. Here the first checkpoint of a thread namespace that a page reads fetches them for every
checkpoint of the page in that namespace: the distinct (channel, version) keys of their records
and the writes of their ids, in chunks under the 999 parameters older SQLite builds allow.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any, Final

from hitlgraph.checkpoint._rows import unpack_record
from hitlgraph.checkpoint._store.ops import Batch, Ops, Statement

__all__ = ["PageReads", "loaded_reads", "page_reads"]

_KEYS_PER_READ: Final = 250
"""Most (channel, version) keys one statement reads: two parameters each."""
_IDS_PER_READ: Final = 400
"""Most checkpoint ids whose writes one statement reads (with 250 keys, 904 parameters)."""
_LOADED: Final = "sqlite page reads"
"""The key of a read cache's PageReads by (thread_id, checkpoint_ns)."""

Typed = tuple[str, bytes]
_first = operator.itemgetter(0)


@functools.cache
def _select(keys: int, ids: int) -> str:
    """One statement reading the values of `keys` (channel, version) keys of a thread
    namespace, as rows (0, channel, version, type, data), and the packed writes of `ids`
    checkpoints, as rows (1, checkpoint_id, task_id, seq, packed writes): a page's reads in
    one trip through the driver rather than one for each. CROSS JOIN makes the keys the outer
    loop: one primary-key lookup each, not a scan of the thread's values."""
    parts = []
    if keys:
        pairs = ", ".join(["(?, ?)"] * keys)
        parts.append(
            "SELECT 0, b.channel, b.version, b.type, COALESCE(b.blob, (SELECT data FROM "
            f"blob_data WHERE id = b.data_id)) FROM (VALUES {pairs}) AS k CROSS JOIN blobs AS b "
            "WHERE b.thread_id = ? AND b.checkpoint_ns = ? AND b.channel = k.column1 "
            "AND b.version = k.column2")
    if ids:
        marks = ", ".join(["?"] * ids)
        parts.append(
            "SELECT 1, checkpoint_id, task_id, seq, COALESCE(writes, (SELECT data FROM "
            "blob_data WHERE id = data_id)) FROM writes WHERE thread_id = ? AND "
            f"checkpoint_ns = ? AND checkpoint_id IN ({marks})")
    return " UNION ALL ".join(parts)


class PageReads:
    """What the checkpoints of one thread namespace on a page refer to. A plain class: a
    dataclass would generate its methods at import (about 2 M instructions) for a record
    nothing compares or prints."""

    __slots__ = ("records", "tasks", "values")

    def __init__(self, records: dict[str, dict[str, Any]],
                 values: dict[tuple[str, Any], Typed],
                 tasks: dict[str, list[tuple[int, str, bytes]]]) -> None:
        self.records = records
        """Each checkpoint's unpacked record, by checkpoint id."""
        self.values = values
        """The stored value of each (channel, version) their records name."""
        self.tasks = tasks
        """Each checkpoint's task writes as (seq, task_id, packed writes), by seq."""

    def stored(self, checkpoint_id: str) -> tuple[dict[str, Any], dict[str, Typed],
                                                  list[tuple[int, str, bytes]]]:
        """A checkpoint's record, its channels' stored values and its task writes."""
        record = self.records[checkpoint_id]
        stored: dict[str, Typed] = {}
        for key in record["channel_versions"].items():
            typed = self.values.get(key)
            if typed is not None:
                stored[key[0]] = typed
        return record, stored, self.tasks.get(checkpoint_id, [])


def _statements(thread_id: str, ns: str, records: dict[str, dict[str, Any]]
                ) -> list[Statement]:
    """The statements of `_select` that read what `records` refer to: all of it in one up to
    _KEYS_PER_READ keys and _IDS_PER_READ checkpoints (under 999 parameters)."""
    keys = list(dict.fromkeys(key for record in records.values()
                              for key in record["channel_versions"].items()))
    ids = list(records)
    statements = []
    for i in range(max(-(-len(keys) // _KEYS_PER_READ), -(-len(ids) // _IDS_PER_READ))):
        chunk = keys[i * _KEYS_PER_READ:(i + 1) * _KEYS_PER_READ]
        some = ids[i * _IDS_PER_READ:(i + 1) * _IDS_PER_READ]
        params: tuple[Any, ...] = ()
        if chunk:
            params = (*(part for key in chunk for part in key), thread_id, ns)
        if some:
            params += (thread_id, ns, *some)
        statements.append(Statement(_select(len(chunk), len(some)), params))
    return statements


def loaded_reads(cache: dict[Any, Any], thread_id: str, ns: str) -> PageReads | None:
    """The PageReads of (thread_id, ns) if this read cache has them already (every row of
    a page but the first): no generator to make and resume for them."""
    loaded = cache.get(_LOADED)
    return None if loaded is None else loaded.get((thread_id, ns))


def page_reads(cache: dict[Any, Any], page: Sequence[tuple[Any, ...]], thread_id: str,
               ns: str) -> Ops[PageReads]:
    """The PageReads of `page`'s checkpoints in (thread_id, ns), read once per read cache."""
    loaded: dict[tuple[str, str], PageReads] = cache.setdefault(_LOADED, {})
    found = loaded.get((thread_id, ns))
    if found is not None:
        return found
    records = {row[2]: unpack_record(row[5]) for row in page
               if row[0] == thread_id and row[1] == ns}
    statements = _statements(thread_id, ns, records)
    results = yield Batch(tuple(statements))
    values: dict[tuple[str, Any], Typed] = {}
    tasks: dict[str, list[tuple[int, str, bytes]]] = {}
    for rows in results:
        for kind, key, version_or_task, type_or_seq, data in rows:
            if kind:
                tasks.setdefault(key, []).append((type_or_seq, version_or_task, data))
            else:
                values[(key, version_or_task)] = (type_or_seq, data)
    for entries in tasks.values():
        entries.sort(key=_first)  # by seq; a stable sort keeps the rows' order for equal ones
    found = loaded[(thread_id, ns)] = PageReads(records, values, tasks)
    return found
