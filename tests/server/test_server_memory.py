"""The server gives the memory a burst of requests left free back to the system once it is
idle (server/_memory.py, hooked into uvicorn's ticks by _uvicorn.py)."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import sys
from pathlib import Path

import pytest
import uvicorn

from hitlgraph.server._memory import IdleTrim, release_free_memory
from hitlgraph.server._uvicorn import _Server


class _Releases:
    """A stand-in for release_free_memory that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return True


def test_memory_is_released_once_after_requests_stop() -> None:
    releases = _Releases()
    trim = IdleTrim(idle_ticks=3, release=releases)
    assert [trim.tick(0) for _ in range(5)] == [False] * 5  # no request yet: nothing to do
    assert [trim.tick(4), trim.tick(4), trim.tick(4)] == [False, False, False]
    assert trim.tick(4) is True  # the third tick without a new request
    assert [trim.tick(4) for _ in range(10)] == [False] * 10  # once per burst
    assert releases.calls == 1


def test_a_request_while_quiet_starts_the_wait_again() -> None:
    releases = _Releases()
    trim = IdleTrim(idle_ticks=3, release=releases)
    for total in (1, 1, 1, 2, 2, 2):
        assert trim.tick(total) is False
    assert trim.tick(2) is True
    assert releases.calls == 1


def test_idle_ticks_must_be_positive() -> None:
    with pytest.raises(ValueError, match="idle_ticks=0 must be at least 1"):
        IdleTrim(idle_ticks=0)


def test_uvicorns_ticks_drive_the_trim() -> None:
    releases = _Releases()
    server = _Server(uvicorn.Config(app=None), on_ready=lambda url: None)
    server.trim = IdleTrim(idle_ticks=2, release=releases)

    async def ticks() -> None:
        server.server_state.total_requests = 5
        for counter in (1, 2, 3, 4):  # not multiples of 10: no date header to refresh
            assert await server.on_tick(counter) is False

    asyncio.run(ticks())
    assert releases.calls == 1


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_free_heap_pages_go_back_to_the_system() -> None:
    """A heap left full of holes (what a burst leaves) shrinks only through the release:
    every 100th block stays allocated, so free() alone cannot return the pages."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(2000) for _ in range(20_000)]  # 40 MB, below mmap's threshold
    for block in blocks:
        ctypes.memset(block, 1, 2000)
    kept = blocks[::100]
    for i, block in enumerate(blocks):
        if i % 100:
            libc.free(block)
    try:
        held = _rss()
        assert release_free_memory() is True
        assert held - _rss() > 20 * 2**20
    finally:
        for block in kept:
            libc.free(block)
