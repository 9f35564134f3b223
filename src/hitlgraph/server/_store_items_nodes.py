"""What the nodes of a server run get as their store and their run-time context.

As on LangGraph's server, the server's store replaces any store the graph was compiled with,
and nodes reach it as `store` / `runtime.store`: here through the run's tenant's view
(`TenantStore`), so what a node puts is what GET /store/items shows that tenant and no other.
The graph is copied per run, never bound at load, since the tenant differs from run to run.

The context is the assistant's over the run's (routes/runs.py); LangGraph's server passes a
node only the keys the graph's context_schema declares (all of them without a schema).
"""

from __future__ import annotations

import copy
from typing import Any

from hitlgraph.func import EntrypointGraph
from hitlgraph.graph._schema import is_schema, keys_of
from hitlgraph.server._store_items_scope import TenantStore
from hitlgraph.server.config import BoundGraph
from hitlgraph.store.base import BaseStore

__all__ = ["run_context", "with_tenant_store"]


def with_tenant_store(runnable: Any, store: BaseStore | None, tenant: str) -> Any:
    """`runnable` (a compiled graph or an @entrypoint) for one run of `tenant`: a shallow copy
    whose nodes get the tenant's view of `store`; `runnable` itself without a store."""
    if store is None:
        return runnable
    view = TenantStore(store, tenant)
    if isinstance(runnable, EntrypointGraph):
        entry = copy.copy(runnable)
        entry.graph = copy.copy(runnable.graph)
        entry.graph.store = view
        return entry
    graph = copy.copy(runnable)
    graph.store = view
    return graph


def run_context(bound: BoundGraph, context: dict[str, Any] | None) -> dict[str, Any]:
    """The run's context as its nodes see it: only the keys the graph's context_schema
    declares, when it is a TypedDict, dataclass or pydantic model with fields."""
    given = dict(context or {})
    schema = bound.compiled.context_schema
    if schema is None or not is_schema(schema):
        return given
    declared = set(keys_of(schema))
    return {k: v for k, v in given.items() if k in declared} if declared else given
