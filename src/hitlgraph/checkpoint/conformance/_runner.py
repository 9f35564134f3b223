"""The checks by name, and running them: one check or all of them on fresh savers of a Backend,
async checks on the saver's own event loop when it has one running in another thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any, TypeVar

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.conformance._assignment import (
    check_assignment_claims_at_most_once,
    check_assignment_rules_and_log,
    check_async_assignment_and_expiry,
)
from hitlgraph.checkpoint.conformance._async import check_async_list_many, check_async_round_trip
from hitlgraph.checkpoint.conformance._decisions import (
    check_async_list_decisions,
    check_decisions_chained_and_kept,
    check_decisions_logged_with_their_writes,
    check_decisions_query,
    check_decisions_resolved_by_update,
)
from hitlgraph.checkpoint.conformance._events import (
    check_async_review_events,
    check_review_events_appended_with_their_writes,
    check_review_events_numbered_and_pruned,
)
from hitlgraph.checkpoint.conformance._helpers import Backend
from hitlgraph.checkpoint.conformance._pending import (
    check_async_list_pending,
    check_pending_closed_by_later_checkpoints,
    check_pending_opened_answered_and_withdrawn,
    check_pending_pages_and_filters,
    check_pending_removed_with_threads,
    check_pending_subgraph_recorded_once,
)
from hitlgraph.checkpoint.conformance._policy import (
    check_pending_policy_fields,
    check_pending_policy_filters_and_orders,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_channel_values_rebuilt_from_versions,
    check_channel_without_value_is_absent,
    check_list_filter_before_limit,
    check_list_many,
    check_list_namespaces_and_all_threads,
    check_metadata_filter_is_python_equality,
    check_rich_values,
    check_round_trip,
    check_sql_looking_data_is_data,
)
from hitlgraph.checkpoint.conformance._removal import check_delete_thread, check_prune, check_rewind
from hitlgraph.checkpoint.conformance._threads import check_async_list_threads, check_list_threads
from hitlgraph.checkpoint.conformance._writes import (
    check_compare_and_set,
    check_fences,
    check_growing_lists,
    check_put_writes,
    check_put_writes_claims,
    check_several_threads_share_one_saver,
    check_step_writes_of_growing_lists,
    check_unserializable_value_stores_nothing,
)

_S = TypeVar("_S", bound=BaseCheckpointSaver)


SyncCheck = Callable[[BaseCheckpointSaver, Backend], None]
AsyncCheck = Callable[[BaseCheckpointSaver, Backend], Coroutine[Any, Any, None]]

SYNC_CHECKS: dict[str, SyncCheck] = {
    "round_trip": check_round_trip,
    "rich_values": check_rich_values,
    "channel_values_rebuilt_from_versions": check_channel_values_rebuilt_from_versions,
    "channel_without_value_is_absent": check_channel_without_value_is_absent,
    "list_filter_before_limit": check_list_filter_before_limit,
    "list_namespaces_and_all_threads": check_list_namespaces_and_all_threads,
    "list_many": check_list_many,
    "list_threads": check_list_threads,
    "put_writes": check_put_writes,
    "put_writes_claims": check_put_writes_claims,
    "growing_lists": check_growing_lists,
    "step_writes_of_growing_lists": check_step_writes_of_growing_lists,
    "fences": check_fences,
    "rewind": check_rewind,
    "delete_thread": check_delete_thread,
    "prune": check_prune,
    "compare_and_set": check_compare_and_set,
    "sql_looking_data_is_data": check_sql_looking_data_is_data,
    "metadata_filter_is_python_equality": check_metadata_filter_is_python_equality,
    "unserializable_value_stores_nothing": check_unserializable_value_stores_nothing,
    "several_threads_share_one_saver": check_several_threads_share_one_saver,
    "pending_opened_answered_and_withdrawn": check_pending_opened_answered_and_withdrawn,
    "pending_closed_by_later_checkpoints": check_pending_closed_by_later_checkpoints,
    "pending_subgraph_recorded_once": check_pending_subgraph_recorded_once,
    "pending_removed_with_threads": check_pending_removed_with_threads,
    "pending_pages_and_filters": check_pending_pages_and_filters,
    "pending_policy_fields": check_pending_policy_fields,
    "pending_policy_filters_and_orders": check_pending_policy_filters_and_orders,
    "assignment_rules_and_log": check_assignment_rules_and_log,
    "assignment_claims_at_most_once": check_assignment_claims_at_most_once,
    "decisions_logged_with_their_writes": check_decisions_logged_with_their_writes,
    "decisions_resolved_by_update": check_decisions_resolved_by_update,
    "decisions_chained_and_kept": check_decisions_chained_and_kept,
    "decisions_query": check_decisions_query,
    "review_events_appended_with_their_writes": check_review_events_appended_with_their_writes,
    "review_events_numbered_and_pruned": check_review_events_numbered_and_pruned,
}
ASYNC_CHECKS: dict[str, AsyncCheck] = {
    "async_round_trip": check_async_round_trip,
    "async_list_many": check_async_list_many,
    "async_list_threads": check_async_list_threads,
    "async_list_pending": check_async_list_pending,
    "async_list_decisions": check_async_list_decisions,
    "async_review_events": check_async_review_events,
    "async_assignment_and_expiry": check_async_assignment_and_expiry,
}
CHECKS: dict[str, SyncCheck | AsyncCheck] = {**SYNC_CHECKS, **ASYNC_CHECKS}
"""Every check by name: sync ones first, then async ones."""


def _run_async(saver: BaseCheckpointSaver, coro: Coroutine[Any, Any, None]) -> None:
    loop = getattr(saver, "loop", None)
    if isinstance(loop, asyncio.AbstractEventLoop) and loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            asyncio.run_coroutine_threadsafe(coro, loop).result()
            return
    asyncio.run(coro)


def run(backend: Backend, check: str | SyncCheck | AsyncCheck) -> None:
    """Run one check (by name or function) on a fresh saver of `backend`.

    Raises:
        AssertionError: the saver broke the contract; the message says where.
    """
    fn = CHECKS[check] if isinstance(check, str) else check
    with backend.open() as saver:
        if asyncio.iscoroutinefunction(fn):
            _run_async(saver, fn(saver, backend))
        else:
            fn(saver, backend)


def run_all(backend: Backend, *, skip: Iterable[str] = ()) -> None:
    """Run every check but those named in `skip`, each on a fresh saver; stop at the first
    failure, its message prefixed with the backend's and the check's names."""
    skipped = set(skip)
    for name, fn in CHECKS.items():
        if name in skipped:
            continue
        try:
            run(backend, fn)
        except AssertionError as exc:
            raise AssertionError(f"{backend.name}: {name}: {exc}") from exc


@contextmanager
def on_loop_thread(
    open: Callable[[], AbstractAsyncContextManager[_S]],
) -> Iterator[_S]:
    """A saver made by an async context manager, living on an event loop that runs in a
    thread of its own for the `with` block: its sync methods can then be called from this
    thread, and its async checks run on that loop.

    Example:
        >>> Backend("async", open=lambda: on_loop_thread(  # doctest: +SKIP
        ...     lambda: AsyncPostgresSaver.from_conn_string(DSN)))
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="hitlgraph-saver-loop", daemon=True)
    thread.start()
    manager = open()

    async def enter() -> _S:
        return await manager.__aenter__()

    async def leave() -> None:
        await manager.__aexit__(None, None, None)

    try:
        saver = asyncio.run_coroutine_threadsafe(enter(), loop).result()
        try:
            yield saver
        finally:
            asyncio.run_coroutine_threadsafe(leave(), loop).result()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
