"""Compact storage of lists that grow by appending (a chat's messages, a log).

A saver stores each changed channel value per version. Written whole, a list that gains one
item a step costs O(n^2) bytes over n steps. Here a new version whose msgpack bytes extend the
previous version's bytes (the same items, then more) is stored as just the new items plus a
pointer to the version it extends. A full value is stored again once the deltas since the last
full one add up to `growth` times its size (at least `min_snapshot` bytes), or after `max_chain`
deltas. Reading a value then touches at most `max_chain` + 1 rows however long the history, and
full copies cost at most (1 + 1/growth) times the final size in all.

Correctness does not depend on the caller: a delta is written only after comparing the stored
bytes, and it names the exact version it extends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import ormsgpack

from hitlgraph.checkpoint.serde._errors import SerializationError

__all__ = [
    "DELTA_TAG",
    "REF_TAG",
    "ChainCache",
    "DeltaEncoder",
    "delta_links",
    "reference",
    "referenced_value",
    "resolve",
]

DELTA_TAG = "delta"
"""Tag of a stored value that is a delta: msgpack of [base version, root version, count, items]."""

REF_TAG = "ref"
"""Tag of a stored pending write that is a reference: msgpack of [version, count], meaning "the
`count` items that channel's value gained at `version`" (see `reference`)."""

Typed = tuple[str, bytes]


_ARRAY_HEADS = frozenset([*range(0x90, 0xA0), 0xDC, 0xDD])
"""The first bytes of msgpack arrays (fixarray, array 16, array 32)."""


def _array(data: bytes) -> tuple[int, int] | None:
    """(item count, offset of the first item) of msgpack array bytes, or None."""
    if not data:
        return None
    head = data[0]
    if 0x90 <= head <= 0x9F:
        return head & 0x0F, 1
    if head == 0xDC and len(data) >= 3:
        return int.from_bytes(data[1:3], "big"), 3
    if head == 0xDD and len(data) >= 5:
        return int.from_bytes(data[1:5], "big"), 5
    return None


def _header(count: int) -> bytes:
    if count < 16:
        return bytes([0x90 | count])
    if count < 0x10000:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


class _Last:
    """The last value seen under one key. A plain class: a dataclass would generate its
    methods at import (about 2 M instructions) for a record nothing compares or prints."""

    __slots__ = ("added", "body", "chain", "count", "root", "root_size", "version")

    def __init__(self, version: Any, body: bytes, count: int, chain: int, root: Any,
                 root_size: int, added: int) -> None:
        self.version = version
        self.body = body
        self.count = count
        self.chain = chain
        self.root = root
        self.root_size = root_size
        self.added = added
        """Bytes stored as deltas since the root (the last full value)."""


class DeltaEncoder:
    """Decides, per (thread, namespace, channel), whether a new value is stored as a delta.

    It remembers the bytes of the last value it saw per key (at most `max_entries` keys, least
    recently used first out); a saver in a new process starts each chain with a full value.
    """

    def __init__(self, *, max_chain: int = 400, growth: int = 2, min_snapshot: int = 4096,
                 max_entries: int = 2048) -> None:
        self.max_chain = max_chain
        self.growth = growth
        self.min_snapshot = min_snapshot
        self.max_entries = max_entries
        self._last: OrderedDict[Hashable, _Last] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, key: Hashable, version: Any, typed: Typed) -> Typed:
        """What to store for `typed` (the serialized value) at `version` of `key`."""
        tag, data = typed
        # (a value that is no msgpack array, the usual one, is told by its first byte)
        shape = _array(data) if tag == "msgpack" and data and data[0] in _ARRAY_HEADS else None
        if shape is None:
            if key in self._last:
                with self._lock:
                    self._last.pop(key, None)
            return typed
        with self._lock:
            count, offset = shape
            body = data[offset:]
            last = self._last.get(key)
            if (
                last is not None
                and last.chain < self.max_chain
                and last.added < max(last.root_size * self.growth, self.min_snapshot)
                and count >= last.count
                and body.startswith(last.body)
                and last.version != version
            ):
                added = body[len(last.body):]
                stored = ormsgpack.packb([last.version, last.root, count - last.count, added])
                self._last[key] = _Last(version, body, count, last.chain + 1, last.root,
                                        last.root_size, last.added + len(added))
                self._last.move_to_end(key)
                return DELTA_TAG, stored
            self._last[key] = _Last(version, body, count, 0, version, len(data), 0)
            self._last.move_to_end(key)
            if len(self._last) > self.max_entries:
                self._last.popitem(last=False)
            return typed

    def full(self, key: Hashable, version: Any) -> Typed | None:
        """The full serialized value of `key` at `version`, if it is the last one this encoder
        saw (so reading the latest state needs no walk along its deltas)."""
        with self._lock:
            last = self._last.get(key)
            if last is None or last.version != version:
                return None
            return "msgpack", _header(last.count) + last.body

    def items(self, key: Hashable, version: Any) -> tuple[int, bytes] | None:
        """Like `full`, as (item count, the items' bytes) without the array header: the
        bytes the encoder holds, not a copy of the whole value with a header put before it."""
        with self._lock:
            last = self._last.get(key)
            if last is None or last.version != version:
                return None
            return last.count, last.body

    def forget(self, match: Callable[[Hashable], bool]) -> None:
        """Drop remembered values whose key matches (after deleting or pruning a thread)."""
        with self._lock:
            for key in [k for k in self._last if match(k)]:
                del self._last[key]

    def forget_thread(self, thread_id: str) -> None:
        """Drop the remembered values of a thread (keys are (thread_id, ns, channel) tuples)."""
        thread_id = str(thread_id)
        self.forget(lambda key: isinstance(key, tuple) and key[0] == thread_id)


def delta_links(typed: Typed) -> tuple[Any, Any] | None:
    """(base version, root version) of a stored delta, or None for a full value."""
    if typed[0] != DELTA_TAG:
        return None
    base, root, _count, _items = ormsgpack.unpackb(typed[1])
    return base, root


def broken_chain(channel: Any, version: Any, why: str) -> SerializationError:
    """The error of a stored delta chain that cannot be followed (tampered or corrupt rows)."""
    return SerializationError(
        f"Stored value of channel {channel!r} at version {version!r} cannot be read: {why}. "
        "The checkpoint's stored rows were changed or damaged; restore them from a backup, or "
        "rewind the thread to an earlier checkpoint.",
        reason=f"a broken delta chain ({why})", key=None if channel is None else str(channel))


def resolve(typed: Typed, fetch: Callable[[Any], Typed] | Mapping[Any, Typed], *,
            channel: Any = None) -> Typed:
    """The full serialized value of a stored one, following deltas back to a full value.

    `fetch` gives the stored value of another version of the same channel. A chain that comes
    back to a version it passed (a delta based on itself, or a cycle) raises
    SerializationError instead of looping.
    """
    if typed[0] != DELTA_TAG:
        return typed
    get = fetch.__getitem__ if isinstance(fetch, Mapping) else fetch
    parts: list[bytes] = []
    added_total = 0
    current = typed
    seen: set[Any] = set()
    while current[0] == DELTA_TAG:
        base, _root, added, items = ormsgpack.unpackb(current[1])
        if base in seen:
            raise broken_chain(channel, base, "its deltas form a cycle")
        seen.add(base)
        parts.append(items)
        added_total += added
        current = get(base)
    shape = _array(current[1])
    if shape is None:  # pragma: no cover - a delta only ever extends an array
        raise ValueError("Stored delta extends a value that is not a list.")
    count, offset = shape
    parts.append(current[1][offset:])
    parts.reverse()
    return "msgpack", _header(count + added_total) + b"".join(parts)


def reference(write: Typed, stored: Typed, version: Any) -> Typed | None:
    """A reference to store instead of a task's write, when the write is exactly the items a
    channel's delta (`stored`, at `version`) appends: a step's appended messages are then
    stored once, in the channel's value, and the write names them. None otherwise."""
    if write[0] != "msgpack" or stored[0] != DELTA_TAG:
        return None
    _base, _root, count, items = ormsgpack.unpackb(stored[1])
    if write[1] != _header(count) + items:
        return None
    return REF_TAG, ormsgpack.packb([version, count])


def reference_target(ref: Typed) -> tuple[Any, int]:
    """(version, item count) a stored reference names."""
    version, count = ormsgpack.unpackb(ref[1])
    return version, int(count)


def referenced_value(
    ref: Typed, stored: Typed | None, loads: Callable[[Typed], Any],
    full: Callable[[], Typed],
) -> Any:
    """The value of a write stored as a reference. `stored` is the channel's stored value at
    the version the reference names (None when missing); `full` gives that version's full
    value (following its deltas) for the rare case where it was stored another way."""
    version, count = reference_target(ref)
    if stored is None:
        raise ValueError(
            f"Corrupt pending write: it refers to version {version!r} of its channel, which is "
            "not stored."
        )
    if stored[0] == DELTA_TAG:
        _base, _root, added, items = ormsgpack.unpackb(stored[1])
        if added == count:
            return loads(("msgpack", _header(count) + items))
    value = loads(full())
    if not isinstance(value, list) or len(value) < count:
        raise ValueError(
            f"Corrupt pending write: version {version!r} of its channel is not a list of at "
            f"least {count} items."
        )
    return value[len(value) - count:]


_Link = tuple[Any, int, bytes]
"""A stored value, decoded: (the version it extends or None for a full value, the items it
adds (a full value: all its items; -1 if it is not a list), the bytes of those items)."""

_Known = tuple[bytes, int, int]
"""A version's full value inside a joined chain: (the items of the chain, joined; where this
version's items end in them; how many items it has)."""


_SCALARS = frozenset({str, int, float, bool, bytes, type(None)})
"""Types of list items whose objects a page may share between its checkpoints' values."""


class ChainCache:
    """Full values of one thread namespace's stored deltas, for reading many checkpoints at once
    (a page of history): each stored row is fetched and decoded once, however many checkpoints
    need it. A walk along a chain remembers where every version it passed ends in the joined
    items, so the older versions of a page (read newest first) cost a slice each rather than
    another walk back to the full value (which made a history read quadratic).

    `fetch(channel, low, high)` gives the stored values of a channel's versions from low to
    high (inclusive), as {version: (tag, bytes)}.
    """

    def __init__(self, fetch: Callable[[str, Any, Any], Mapping[Any, Typed]]) -> None:
        self._fetch = fetch
        self._rows: dict[str, dict[Any, Typed]] = {}
        self._known: dict[str, dict[Any, _Known]] = {}
        self._decoded: dict[str, list[Any]] = {}
        """Per channel, the longest value decoded: [joined items, end, value, whether its items
        are all scalars (None: not checked yet)]."""

    def full(self, channel: str, version: Any, stored: Typed) -> Typed:
        """The full serialized value of `channel` at `version`, stored as `stored`."""
        if stored[0] != DELTA_TAG:
            return stored
        body, end, count = self._span(channel, version, stored)
        return "msgpack", b"".join((_header(count), memoryview(body)[:end]))  # one copy

    def value(self, channel: str, version: Any, stored: Typed,
              loads: Callable[[Typed], Any]) -> Any:
        """The value of `channel` at `version` (stored as `stored`), decoded with `loads`.

        A list whose items are all immutable scalars (str, int, ...) is decoded once per chain:
        an older version's value is a new list of the first items of a newer one's, which no
        program can tell from a list decoded on its own (its items cannot change)."""
        if stored[0] != DELTA_TAG:
            return loads(stored)
        body, end, count = self._span(channel, version, stored)
        decoded = self._decoded.get(channel)
        if decoded is not None and decoded[0] is body and end <= decoded[1]:
            if decoded[3] is None:  # checked once a second version asks (get_tuple never does)
                newest = decoded[2]
                decoded[3] = type(newest) is list and set(map(type, newest)) <= _SCALARS
            if decoded[3]:
                return decoded[2][:count]
        value = loads(("msgpack", b"".join((_header(count), memoryview(body)[:end]))))
        if decoded is None or decoded[0] is not body or end > decoded[1]:
            self._decoded[channel] = [body, end, value, None]
        return value

    def _span(self, channel: str, version: Any, stored: Typed) -> _Known:
        """Where `version`'s items end in its chain's joined items. The version it extends is
        then known too, as a prefix of this one: a page read newest first finds each older
        checkpoint's value that way, with no walk."""
        known = self._known.setdefault(channel, {})
        found = known.get(version)
        if found is None:
            found = self._walk(channel, version, stored, known)
        self._rows.setdefault(channel, {}).setdefault(version, stored)
        body, end, count = found
        base, _root, added, items = ormsgpack.unpackb(stored[1])
        if base not in known:
            known[base] = (body, end - len(items), count - added)
        return found

    def seed(self, channel: str, version: Any, full: Typed) -> None:
        """Make `full` (the serialized value the writer remembers, see DeltaEncoder.full) the
        value of `channel` at `version`, so the newest checkpoint of a page needs no walk."""
        shape = _array(full[1]) if full[0] == "msgpack" else None
        if shape is not None:
            count, offset = shape
            body = full[1][offset:]
            self._known.setdefault(channel, {}).setdefault(version, (body, len(body), count))

    def seed_items(self, channel: str, version: Any, count: int, body: bytes) -> None:
        """`seed` with the value as DeltaEncoder.items gives it (no copy of its bytes made)."""
        self._known.setdefault(channel, {}).setdefault(version, (body, len(body), count))

    def row(self, channel: str, version: Any) -> Typed | None:
        """The stored value of `channel` at `version`, if a walk fetched it already (a
        pending write of the page's next checkpoint names it, most of the time)."""
        return self._rows.get(channel, {}).get(version)

    def _walk(self, channel: str, version: Any, stored: Typed, known: dict[Any, _Known]
              ) -> _Known:
        """Follow `version`'s deltas back to a full value (or to a version already known),
        then remember every version passed."""
        rows = self._rows.setdefault(channel, {})
        if version not in rows:
            root = ormsgpack.unpackb(stored[1])[1]
            rows.update(self._fetch(channel, root, version))
            rows[version] = stored
        passed: list[tuple[Any, int, bytes]] = []  # (version, items added, their bytes)
        base: _Known = (b"", 0, 0)
        at: Any = version
        seen: set[Any] = set()
        while at is not None:
            if at in seen:
                raise broken_chain(channel, at, "its deltas form a cycle")
            seen.add(at)
            if at in known:
                base = known[at]
                break
            typed = rows.get(at)
            if typed is None:  # a base outside what was fetched: fetch its own chain
                typed = self._fetch(channel, at, at).get(at)
                if typed is None:
                    raise ValueError(f"Stored delta of {channel!r} extends version {at!r}, "
                                     "which is not stored.")
                rows[at] = typed
                if typed[0] == DELTA_TAG:
                    self.full(channel, at, typed)
                    base = known[at]
                    break
            extends, count, items = _parse(typed)
            if count < 0:
                raise ValueError(f"Stored delta of {channel!r} extends a value that is not a "
                                 "list.")
            passed.append((at, count, items))
            at = extends
        body, end, total = base
        parts = [body[:end]]
        marks: list[tuple[Any, int, int]] = []
        for at, count, items in reversed(passed):
            parts.append(items)
            end, total = end + len(items), total + count
            marks.append((at, end, total))
        joined = b"".join(parts)
        for at, end, total in marks:
            known[at] = (joined, end, total)
        return known[version]


def _parse(typed: Typed) -> _Link:
    if typed[0] == DELTA_TAG:
        base, _root, count, items = ormsgpack.unpackb(typed[1])
        return base, count, items
    shape = _array(typed[1]) if typed[0] == "msgpack" else None
    if shape is None:  # no delta can extend it
        return None, -1, b""
    return None, shape[0], typed[1][shape[1]:]
