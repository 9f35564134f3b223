"""Ids: time-ordered checkpoint ids (UUID version 6 layout) and deterministic task/interrupt ids."""

from __future__ import annotations

import random
import threading
import time
from hashlib import blake2b

_GREGORIAN_OFFSET = 0x01B21DD213814000  # 100 ns ticks from 1582-10-15 to 1970-01-01
_lock = threading.Lock()
_last = 0


def checkpoint_id() -> str:
    """A new checkpoint id; ids made later in this process sort after earlier ones as strings."""
    global _last
    ticks = time.time_ns() // 100 + _GREGORIAN_OFFSET
    with _lock:
        if ticks <= _last:
            ticks = _last + 1
        _last = ticks
    high, low = ticks >> 12, ticks & 0xFFF
    rand = random.getrandbits(62)
    return (
        f"{high >> 16:08x}-{high & 0xFFFF:04x}-6{low:03x}-"
        f"{0x8000 | (rand >> 48):04x}-{rand & 0xFFFFFFFFFFFF:012x}"
    )


def task_id(*parts: str | int) -> str:
    """A task id that the same checkpoint, step and node always give: resume finds it again."""
    digest = blake2b("\x00".join(map(str, parts)).encode(), digest_size=16).hexdigest()
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
