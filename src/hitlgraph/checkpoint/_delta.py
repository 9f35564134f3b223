"""Compact storage of lists that grow by appending (a chat's messages, a log).

A saver stores each changed channel value per version. Written whole, a list that gains one
item a step costs O(n^2) bytes over n steps. Here a new version whose msgpack bytes extend the
previous version's bytes (the same items, then more) is stored as just the new items plus a
pointer to the version it extends. Every `max_chain` deltas a full value is stored again, so
reading a value touches at most `max_chain` + 1 rows however long the history.

Correctness does not depend on the caller: a delta is written only after comparing the stored
bytes, and it names the exact version it extends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import ormsgpack

__all__ = ["DELTA_TAG", "DeltaEncoder", "delta_links", "resolve"]

DELTA_TAG = "delta"
"""Tag of a stored value that is a delta: msgpack of [base version, root version, count, items]."""

Typed = tuple[str, bytes]


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


@dataclass(slots=True)
class _Last:
    version: Any
    body: bytes
    count: int
    chain: int
    root: Any
    root_size: int
    added: int
    """Bytes stored as deltas since the root (the last full value)."""


class DeltaEncoder:
    """Decides, per (thread, namespace, channel), whether a new value is stored as a delta.

    It remembers the bytes of the last value it saw per key (at most `max_entries` keys, least
    recently used first out); a saver in a new process starts each chain with a full value.
    """

    def __init__(self, *, max_chain: int = 400, max_entries: int = 2048) -> None:
        self.max_chain = max_chain
        self.max_entries = max_entries
        self._last: OrderedDict[Hashable, _Last] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, key: Hashable, version: Any, typed: Typed) -> Typed:
        """What to store for `typed` (the serialized value) at `version` of `key`."""
        tag, data = typed
        shape = _array(data) if tag == "msgpack" else None
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
                and last.added < max(last.root_size, 4096)
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


def resolve(typed: Typed, fetch: Callable[[Any], Typed] | Mapping[Any, Typed]) -> Typed:
    """The full serialized value of a stored one, following deltas back to a full value.

    `fetch` gives the stored value of another version of the same channel.
    """
    if typed[0] != DELTA_TAG:
        return typed
    get = fetch.__getitem__ if isinstance(fetch, Mapping) else fetch
    parts: list[bytes] = []
    added_total = 0
    current = typed
    while current[0] == DELTA_TAG:
        base, _root, added, items = ormsgpack.unpackb(current[1])
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
