"""TenantStore, the view of the server's store each tenant's requests get: it keeps the
store contract (the conformance suite, through the view), and tenants never meet."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from hitlgraph.server._store_items_scope import TenantStore, tenant_root
from hitlgraph.store import conformance
from hitlgraph.store.base import BaseStore, IndexConfig, TTLConfig
from hitlgraph.store.memory import InMemoryStore

TTL_CHECKS = {"ttl_expiry_and_refresh"}
"""Checks that call sweep_ttl, which is the whole store's (the server runs its sweeper)."""


@contextlib.asynccontextmanager
async def _view(index: IndexConfig | None, ttl: TTLConfig | None
                ) -> AsyncIterator[BaseStore]:
    inner = InMemoryStore(index=index, ttl=ttl)
    inner.put(("other",), "k", {"color": "red", "text": "cat"})  # another tenant's item
    TenantStore(inner, "someone.else").put(("f",), "x", {"color": "red", "size": 1})
    yield TenantStore(inner, "team.a%")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("check", sorted(set(conformance.CHECKS) - TTL_CHECKS))
def test_a_tenant_view_keeps_the_store_contract(mode: str, check: str) -> None:
    conformance.run(conformance.Backend("tenant view", _view, mode=mode),  # type: ignore[arg-type]
                    check)


def test_tenant_labels_are_valid_and_distinct() -> None:
    roots = {tenant_root(t) for t in ["", "a", "a.b", "a%2Eb", "a\x00b", "langgraph"]}
    assert len(roots) == 6
    assert all("." not in r and "\x00" not in r and r != "langgraph" for r in roots)


def test_tenants_never_see_each_other_or_the_hidden_label() -> None:
    inner = InMemoryStore()
    a, b = TenantStore(inner, "a"), TenantStore(inner, "b")
    a.put(("n", "x"), "k", {"v": "a"})
    b.put(("n",), "k", {"v": "b"})
    assert a.get(("n",), "k") is None and b.get(("n", "x"), "k") is None
    assert [(i.namespace, i.value) for i in a.search(())] == [(("n", "x"), {"v": "a"})]
    assert a.list_namespaces() == [("n", "x")]
    assert a.list_namespaces(max_depth=1) == [("n",)]
    assert b.list_namespaces(suffix=("*", "n")) == []  # ("n",) is one label long
    assert a.list_namespaces(suffix=("*", "x")) == [("n", "x")]
    assert inner.list_namespaces() == [("tenant:a", "n", "x"), ("tenant:b", "n")]
