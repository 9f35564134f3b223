"""The store routes (LangGraph's server's /store API, as langgraph-sdk's `client.store` calls
it): put, get and delete an item, search items, list namespaces. Each tenant has its own
namespace tree (see `_store_items`).

Answers are LangGraph's: a put or delete is 204, a missing item is 200 with null, a label
with "." (or empty) is 422, an empty namespace or one under "langgraph" is 400, as is an
unknown filter operator. Unlike LangGraph's server, a search without namespace_prefix and
a negative limit or offset are 422 (it answers 500, or a wrong page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from hitlgraph.server._store_items import (
    ItemDelete,
    ItemPut,
    ItemSearch,
    NamespaceList,
    item_json,
    outside,
    tenant_root,
)
from hitlgraph.server.routes._deps import TenantDep
from hitlgraph.store._namespace import check_labels, check_writable
from hitlgraph.store.base import BaseStore, InvalidNamespaceError

__all__ = ["router"]

router = APIRouter(tags=["store"])


def _store(request: Request) -> BaseStore:
    store: BaseStore = request.app.state.items_store
    return store


def _inside(tenant: str, namespace: list[str] | tuple[str, ...], *, write: bool = False
            ) -> tuple[str, ...]:
    """The stored namespace of a client's one: 422 for a bad label, 400 for a namespace
    nothing may be written to (LangGraph's statuses)."""
    labels = tuple(namespace)
    try:
        check_labels(labels)
    except InvalidNamespaceError as exc:
        raise HTTPException(422, str(exc)) from None
    if write:
        try:
            check_writable(labels)
        except InvalidNamespaceError as exc:
            raise HTTPException(400, str(exc)) from None
    return (tenant_root(tenant), *labels)


@router.put("/store/items", status_code=204)
async def put_item(body: ItemPut, request: Request, tenant: TenantDep) -> Response:
    """Store an item (replacing what was at its namespace and key)."""
    namespace = _inside(tenant, body.namespace, write=True)
    await _store(request).aput(namespace, body.key, body.value, body.index, ttl=body.ttl)
    return Response(status_code=204)


@router.get("/store/items")
async def get_item(request: Request, tenant: TenantDep,
                   namespace: str = Query(..., description="labels joined with '.'"),
                   key: str = Query(...), refresh_ttl: bool | None = None) -> Any:
    """The item, or null."""
    labels = namespace.split(".") if namespace else [""]
    item = await _store(request).aget(_inside(tenant, labels), key, refresh_ttl=refresh_ttl)
    return None if item is None else item_json(item)


@router.delete("/store/items", status_code=204)
async def delete_item(body: ItemDelete, request: Request, tenant: TenantDep) -> Response:
    """Delete an item (a missing one too)."""
    await _store(request).adelete(_inside(tenant, body.namespace), body.key)
    return Response(status_code=204)


@router.post("/store/items/search")
async def search_items(body: ItemSearch, request: Request, tenant: TenantDep
                       ) -> dict[str, Any]:
    """Items under a namespace prefix, by filter (and by query with an index)."""
    prefix = _inside(tenant, body.namespace_prefix)
    try:
        found = await _store(request).asearch(
            prefix, query=body.query, filter=body.filter, limit=body.limit,
            offset=body.offset, refresh_ttl=body.refresh_ttl)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"items": [item_json(item) for item in found]}


@router.post("/store/namespaces")
async def list_namespaces(body: NamespaceList, request: Request, tenant: TenantDep
                          ) -> dict[str, Any]:
    """The namespaces holding items, sorted."""
    _inside(tenant, [p for p in body.prefix or [] if p != "*"])
    suffix = body.suffix or []
    # The prefix's wildcards make a suffix match within the client's labels, never the
    # tenant's: (root, *prefix, "*", ...) as long as the suffix needs.
    pattern = [*(body.prefix or []), *["*"] * (len(suffix) - len(body.prefix or []))]
    prefix = (tenant_root(tenant), *pattern)
    depth = None if body.max_depth is None else body.max_depth + 1
    found = await _store(request).alist_namespaces(
        prefix=prefix, suffix=tuple(suffix) or None, max_depth=depth,
        limit=body.limit, offset=body.offset)
    return {"namespaces": [outside(ns) for ns in found]}
