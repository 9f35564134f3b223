"""Shared fixtures.

`run` drives a compiled graph either synchronously (invoke / stream / get_state ...) or through
the asyncio API (ainvoke / astream / aget_state ..., each call under its own asyncio.run), so a
test written once checks both drivers: it runs twice, as `[sync]` and `[async]`.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest

from _run_modes import Runner

if TYPE_CHECKING:
    pass

_threads = itertools.count()


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Runs each test body once with the sync API and once with the async API."""
    return Runner(request.param)


@pytest.fixture
def config() -> dict[str, Any]:
    """A config naming a thread no other test uses."""
    return {"configurable": {"thread_id": f"thread-{next(_threads)}"}}
