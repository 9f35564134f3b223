"""Giving memory back to the system once a burst of requests is over.

A burst (several clients creating and resuming threads at once) makes glibc's malloc grow its
heap; when the burst's objects are freed, malloc keeps the pages for later instead of
returning them. In a server holding 10,000 paused threads that is about a third of its
growth (bench/bench_server_memory.py: 2.2 of 7 MB free in the heap after the burst), memory
that no thread uses. `malloc_trim(0)` hands the free pages back; `IdleTrim` calls it once
the server has had no new request for a second after some came, so a server at rest holds
what its threads need, and a busy one is not slowed (no trim while requests keep coming).

Elsewhere than glibc (macOS, musl) there is no malloc_trim and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from typing import Final

__all__ = ["IDLE_TICKS", "IdleTrim", "release_free_memory"]

IDLE_TICKS: Final = 10
"""Ticks (uvicorn's, 0.1 s each) without a new request before the free memory is returned."""


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Return malloc's free pages to the system now; False where that cannot be done."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


class IdleTrim:
    """Calls `release` once requests have come and then none for `idle_ticks` ticks.

    `tick(total)` is called every tick with the count of requests served so far; it says
    whether it released memory at this tick.
    """

    def __init__(self, idle_ticks: int = IDLE_TICKS,
                 release: Callable[[], bool] = release_free_memory) -> None:
        if idle_ticks < 1:
            raise ValueError(f"idle_ticks={idle_ticks!r} must be at least 1.")
        self.idle_ticks = idle_ticks
        self.release = release
        self._seen = 0
        """The request count at the last tick."""
        self._quiet = 0
        """Ticks since the count last moved."""
        self._pending = False
        """Requests came since the last release."""

    def tick(self, total: int) -> bool:
        if total != self._seen:
            self._seen, self._quiet, self._pending = total, 0, True
            return False
        self._quiet += 1
        if not self._pending or self._quiet < self.idle_ticks:
            return False
        self._pending = False
        return self.release()
