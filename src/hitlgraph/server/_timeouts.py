"""Waiting with a time limit without losing a cancellation.

On Python 3.10 and 3.11, `asyncio.wait_for` can swallow the cancellation of the task that
awaits it: when what it waits for finishes at the moment the task is cancelled, it returns
the result and the CancelledError is gone (CPython gh-86296, fixed in 3.12). A worker's lease
watcher cancelled just as a notification woke it then went on renewing its lease for ever,
and the run it watched never ended. These helpers wait with `asyncio.wait`, which never
swallows a cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = ["within"]

_T = TypeVar("_T")


async def within(work: Awaitable[_T], seconds: float | None) -> _T:
    """The result of `work`, or asyncio.TimeoutError once `seconds` passed (None: no limit;
    the work is cancelled and waited for). A cancellation of the caller cancels the work and
    is raised, always."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except BaseException:
        task.cancel()
        raise
    if not done:
        task.cancel()
        # Let it finish cancelling (it may hold a connection), but not for long: psycopg
        # cancels a query by asking the server, which a database that stopped answering
        # never does (30 s, the cancel request's own timeout); it finishes in the background.
        await asyncio.wait({task}, timeout=CANCEL_SECONDS)
        task.add_done_callback(_retrieved)  # (no "exception never retrieved" if it fails)
        raise asyncio.TimeoutError
    return task.result()


def _retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


CANCEL_SECONDS = 2.0
"""How long `within` waits for timed-out work to finish cancelling before it gives up."""
