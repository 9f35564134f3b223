"""Ids of threads, runs and crons as LangGraph's server makes them: UUID version 7, which
begin with the time they were made, so that sorting threads by thread_id sorts them by
creation as on LangGraph's server. (Python's uuid module has uuid7() only from 3.14.)"""

from __future__ import annotations

import secrets
import threading
import time

__all__ = ["uuid7"]

_lock = threading.Lock()
_last = 0


def uuid7() -> str:
    """A new UUID version 7: 48 bits of Unix milliseconds, then 12 bits that count within
    the millisecond (ids made later in this process sort after earlier ones), then 62
    random bits."""
    global _last
    with _lock:
        stamp = max(time.time_ns() // 1_000_000 << 12, _last + 1)
        _last = stamp
    rand = secrets.randbits(62)
    return "%08x-%04x-7%03x-%04x-%012x" % (  # noqa: UP031 - as checkpoint ids are written
        stamp >> 28, (stamp >> 12) & 0xFFFF, stamp & 0xFFF, 0x8000 | (rand >> 48),
        rand & 0xFFFFFFFFFFFF)
