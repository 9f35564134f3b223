"""Ids: time-ordered checkpoint ids (UUID version 6 layout) and deterministic task/interrupt ids."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timezone

try:  # hashlib's own blake2b is this object; importing hashlib would also load OpenSSL (~12 M
    # instructions at start-up) for nothing, since blake2 never comes from OpenSSL.
    from _blake2 import blake2b
except ImportError:  # a CPython built without its own hash modules
    from hashlib import blake2b

_GREGORIAN_OFFSET = 0x01B21DD213814000  # 100 ns ticks from 1582-10-15 to 1970-01-01
_lock = threading.Lock()
_last = 0


def checkpoint_id() -> str:
    """A new checkpoint id; ids made later in this process sort after earlier ones as strings."""
    return stamp()[0]


def stamp() -> tuple[str, str, int]:
    """A new checkpoint id with its ts_of() and version_of(), worked out from the clock
    reading rather than parsed back from the id (a run's every step takes one)."""
    global _last
    ticks = time.time_ns() // 100 + _GREGORIAN_OFFSET
    with _lock:
        if ticks <= _last:
            ticks = _last + 1
        _last = ticks
    # UUIDv6 layout: 48 high timestamp bits, version 6, 12 low bits, variant, random.
    rand = random.getrandbits(62)
    checkpoint = "%08x-%04x-6%03x-%04x-%012x" % (  # noqa: UP031 - the fastest way here
        ticks >> 28, (ticks >> 12) & 0xFFFF, ticks & 0xFFF, 0x8000 | (rand >> 48),
        rand & 0xFFFFFFFFFFFF,
    )
    # (version_of's 64 bits: the id's first 60 time bits around its version digit 6)
    return (checkpoint, _ts_at(checkpoint, (ticks - _GREGORIAN_OFFSET) // 10),
            ((ticks >> 12) << 16) | 0x6000 | (ticks & 0xFFF))


def ticks_of(checkpoint: str) -> int:
    """The 100 ns ticks since 1582-10-15 that a checkpoint id made here carries.

    Raises ValueError for an id of another shape.
    """
    if len(checkpoint) != 36 or checkpoint[14] != "6":
        raise ValueError(f"Not a time-ordered checkpoint id: {checkpoint!r}")
    return int(checkpoint[:8] + checkpoint[9:13] + checkpoint[15:18], 16)


_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


_last_ts: tuple[str, str] = ("", "")  # the last id formatted, and its ts


def ts_of(checkpoint: str) -> str:
    """The checkpoint's time in ISO 8601, from its id (microseconds, UTC): a checkpoint's `ts`,
    so a saver need not store it. Raises ValueError for an id of another shape."""
    last = _last_ts
    if last[0] == checkpoint:
        return last[1]
    return _ts_at(checkpoint, (ticks_of(checkpoint) - _GREGORIAN_OFFSET) // 10)


def _ts_at(checkpoint: str, micros: int) -> str:
    """The ts of `checkpoint`, made `micros` after 1970 (remembered for ts_of)."""
    global _last_ts, _second
    whole, fraction = divmod(micros, 1_000_000)
    second = _second
    if whole != second[0]:
        text = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _second = second = (whole, text)
    ts = f"{second[1]}.{fraction:06d}+00:00"
    _last_ts = (checkpoint, ts)
    return ts


def version_of(checkpoint: str) -> int:
    """The channel version a checkpoint gives the channels it writes: its id's 64 time bits.

    Ids made in one process are strictly increasing in these bits, so versions are unique per
    thread even across forks, ordered in time, and small to store.
    """
    return int(checkpoint[:8] + checkpoint[9:13] + checkpoint[14:18], 16)


def pull_task_id(checkpoint: str, ns: str, node: str) -> str:
    """The id of the task that runs `node` after `checkpoint` (task_id's common case)."""
    digest = blake2b(f"{checkpoint}\x00{ns}\x00__pregel_pull\x00{node}".encode(),
                     digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def task_id(*parts: str | int) -> str:
    """A task id that the same checkpoint, step and node always give: resume finds it again."""
    key = "\x00".join([p if isinstance(p, str) else str(p) for p in parts])
    digest = blake2b(key.encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def interrupt_id(task: str, index: int) -> str:
    """The id of the `index`-th interrupt() call of a task: 32 hex digits."""
    return blake2b(f"{task}\x00{index}".encode(), digest_size=16).hexdigest()


def is_interrupt_id(value: object) -> bool:
    """Whether `value` has the shape of an interrupt id (32 lowercase hex digits)."""
    if not isinstance(value, str) or len(value) != 32:
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return value == value.lower()
