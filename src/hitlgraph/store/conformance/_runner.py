"""The checks by name, and running them on fresh stores of a Backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from hitlgraph.store.base import IndexConfig, TTLConfig
from hitlgraph.store.conformance._calls import INDEX, Backend, Calls
from hitlgraph.store.conformance._items import (
    check_batch_reads_before_writes,
    check_namespace_rules,
    check_put_get_delete,
    check_update_keeps_created_at,
    check_values_round_trip,
)
from hitlgraph.store.conformance._search import (
    check_list_namespaces,
    check_search_filters,
    check_search_pages,
    check_search_prefix,
)
from hitlgraph.store.conformance._similarity import (
    check_similarity_index_choices,
    check_similarity_ranks_and_filters,
)
from hitlgraph.store.conformance._ttl import (
    DEFAULT_TTL,
    check_default_ttl,
    check_ttl_expiry_and_refresh,
)

__all__ = ["CHECKS", "Check", "applies", "run", "run_all"]


@dataclass(frozen=True)
class Check:
    """One check and the store it needs."""

    fn: Callable[[Calls], Coroutine[Any, Any, None]]
    index: IndexConfig | None = None
    ttl: TTLConfig | None = None


CHECKS: dict[str, Check] = {
    "put_get_delete": Check(check_put_get_delete),
    "update_keeps_created_at": Check(check_update_keeps_created_at),
    "values_round_trip": Check(check_values_round_trip),
    "namespace_rules": Check(check_namespace_rules),
    "batch_reads_before_writes": Check(check_batch_reads_before_writes),
    "search_prefix": Check(check_search_prefix),
    "search_filters": Check(check_search_filters),
    "search_pages": Check(check_search_pages),
    "list_namespaces": Check(check_list_namespaces),
    "ttl_expiry_and_refresh": Check(check_ttl_expiry_and_refresh),
    "default_ttl": Check(check_default_ttl, ttl=DEFAULT_TTL),
    "similarity_ranks_and_filters": Check(check_similarity_ranks_and_filters, index=INDEX),
    "similarity_index_choices": Check(check_similarity_index_choices, index=INDEX),
}
"""Every check by name."""


def applies(backend: Backend, name: str) -> bool:
    """Whether check `name` is meant for `backend` (similarity needs a store with indexes)."""
    return CHECKS[name].index is None or backend.similarity


async def _arun(backend: Backend, check: Check) -> None:
    async with backend.open(check.index, check.ttl) as store:
        await check.fn(Calls(store, backend.mode,
                             query_finds_unindexed=backend.query_finds_unindexed))


def run(backend: Backend, name: str) -> None:
    """Run check `name` on a fresh store of `backend`, in a new event loop.

    Raises:
        AssertionError: the store broke the contract; the message says where.
    """
    asyncio.run(_arun(backend, CHECKS[name]))


def run_all(backend: Backend, *, skip: Iterable[str] = ()) -> None:
    """Run every check that applies but those in `skip`; stop at the first failure, its
    message prefixed with the backend's and the check's names."""
    skipped = set(skip)
    for name in CHECKS:
        if name in skipped or not applies(backend, name):
            continue
        try:
            run(backend, name)
        except AssertionError as exc:
            raise AssertionError(f"{backend.name}: {name}: {exc}") from exc
