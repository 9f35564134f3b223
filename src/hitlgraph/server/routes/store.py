"""The store routes (LangGraph's server's /store API, as langgraph-sdk's `client.store` calls
it): put, get and delete an item, search items, list namespaces. Each tenant sees its own
namespace tree (`_store_items_scope.TenantStore`).

Answers are LangGraph's: a put or delete is 204, a missing item is 200 with null, a label
with "." (or empty) is 422, an empty namespace or one under "langgraph" is 400, as is an
unknown filter operator. Unlike LangGraph's server, a search without namespace_prefix and
a negative limit or offset are 422 (it answers 500, or a wrong page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from hitlgraph.server._store_items import ItemDelete, ItemPut, ItemSearch, NamespaceList
from hitlgraph.server._store_items_scope import TenantStore
from hitlgraph.server.routes._deps import TenantDep
from hitlgraph.store._namespace import check_labels, check_writable
from hitlgraph.store.base import InvalidNamespaceError

__all__ = ["router"]

router = APIRouter(tags=["store"])


def _store(request: Request, tenant: str) -> TenantStore:
    return TenantStore(request.app.state.items_store, tenant)


def _checked(namespace: list[str], *, write: bool = False) -> tuple[str, ...]:
    """A client's namespace: 422 for a bad label, 400 for a namespace nothing may be
    written to (LangGraph's statuses)."""
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
    return labels


@router.put("/store/items", status_code=204)
async def put_item(body: ItemPut, request: Request, tenant: TenantDep) -> Response:
    """Store an item (replacing what was at its namespace and key)."""
    namespace = _checked(body.namespace, write=True)
    await _store(request, tenant).aput(namespace, body.key, body.value, body.index,
                                       ttl=body.ttl)
    return Response(status_code=204)


@router.get("/store/items")
async def get_item(request: Request, tenant: TenantDep,
                   namespace: str = Query(..., description="labels joined with '.'"),
                   key: str = Query(...), refresh_ttl: bool | None = None) -> Any:
    """The item, or null."""
    labels = _checked(namespace.split(".") if namespace else [""])
    item = await _store(request, tenant).aget(labels, key, refresh_ttl=refresh_ttl)
    return None if item is None else item.dict()


@router.delete("/store/items", status_code=204)
async def delete_item(body: ItemDelete, request: Request, tenant: TenantDep) -> Response:
    """Delete an item (a missing one too)."""
    await _store(request, tenant).adelete(_checked(body.namespace), body.key)
    return Response(status_code=204)


@router.post("/store/items/search")
async def search_items(body: ItemSearch, request: Request, tenant: TenantDep
                       ) -> dict[str, Any]:
    """Items under a namespace prefix, by filter (and by query with an index)."""
    prefix = _checked(body.namespace_prefix)
    try:
        found = await _store(request, tenant).asearch(
            prefix, query=body.query, filter=body.filter, limit=body.limit,
            offset=body.offset, refresh_ttl=body.refresh_ttl)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"items": [item.dict() for item in found]}


@router.post("/store/namespaces")
async def list_namespaces(body: NamespaceList, request: Request, tenant: TenantDep
                          ) -> dict[str, Any]:
    """The namespaces holding items, sorted."""
    for labels in (body.prefix, body.suffix):
        _checked([label for label in labels or [] if label != "*"])
    found = await _store(request, tenant).alist_namespaces(
        prefix=tuple(body.prefix or ()) or None, suffix=tuple(body.suffix or ()) or None,
        max_depth=body.max_depth, limit=body.limit, offset=body.offset)
    return {"namespaces": [list(ns) for ns in found]}
