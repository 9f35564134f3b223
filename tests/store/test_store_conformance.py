"""The store conformance suite over every store hitlgraph ships, sync and async."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from hitlgraph.store import conformance
from hitlgraph.store.base import BaseStore, IndexConfig, TTLConfig
from hitlgraph.store.memory import InMemoryStore


@contextlib.asynccontextmanager
async def _memory(index: IndexConfig | None, ttl: TTLConfig | None
                  ) -> AsyncIterator[BaseStore]:
    yield InMemoryStore(index=index, ttl=ttl)


BACKENDS = [
    conformance.Backend("memory-sync", _memory, mode="sync"),
    conformance.Backend("memory-async", _memory, mode="async"),
]

CASES = [pytest.param(backend, name, id=f"{backend.name}-{name}")
         for backend in BACKENDS for name in conformance.CHECKS
         if conformance.applies(backend, name)]


@pytest.mark.parametrize(("backend", "name"), CASES)
def test_store_conformance(backend: conformance.Backend, name: str) -> None:
    conformance.run(backend, name)
