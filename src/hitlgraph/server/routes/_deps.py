"""What every route needs: the runtime, the caller's tenant, 404s that look the same for
missing rows and other tenants' rows, and bounded matching and answering of stored JSON.

The dependencies are `async def` although none of them awaits: FastAPI runs a plain `def`
dependency in anyio's thread pool, a thread hop per dependency per request (8% of a
create-until-interrupt's time in a profile), where an `async def` one is a plain call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic_core
from fastapi import Depends, HTTPException, Request, Response

from hitlgraph.server._ids import not_a_uuid
from hitlgraph.server._json_body import MAX_DEPTH
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.auth import decider_of, groups_of, tenant_of
from hitlgraph.server.store.base import ThreadRow

__all__ = ["Caller", "CallerDep", "DeciderDep", "MemberOfDep", "RuntimeDep", "TenantDep",
           "contains", "get_runtime",
           "require_thread", "stored_json", "thread_not_found", "valid_path_ids"]


async def get_runtime(request: Request) -> Runtime:
    """The runtime the app's lifespan built."""
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

_PATH_IDS = {"thread_id": "thread", "run_id": "run"}


async def valid_path_ids(request: Request) -> None:
    """Thread and run ids in the path are UUIDs, as on LangGraph's server: anything else is a
    422 naming the id, before any lookup."""
    for key, what in _PATH_IDS.items():
        value = request.path_params.get(key)
        refusal = None if value is None else not_a_uuid(value, what)
        if refusal is not None:
            raise HTTPException(422, refusal)


async def _tenant(request: Request) -> str:
    return tenant_of(request)


async def _decider(request: Request) -> str | None:
    return decider_of(request)


async def _member_of(request: Request) -> frozenset[str] | None:
    return groups_of(request)


@dataclass(frozen=True, slots=True)
class Caller:
    """What the routes that create runs need of a request, from one dependency: FastAPI's
    cost is per dependency per request, and these routes are the busiest."""

    rt: Runtime
    tenant: str
    """The caller's tenant ("" without authentication): TenantDep's."""
    by: str | None
    """Who the caller's answers are logged as: DeciderDep's."""
    member_of: frozenset[str] | None
    """The caller's review groups: MemberOfDep's."""


async def _caller(request: Request) -> Caller:
    return Caller(rt=request.app.state.runtime, tenant=tenant_of(request),
                  by=decider_of(request), member_of=groups_of(request))


CallerDep = Annotated[Caller, Depends(_caller)]
"""RuntimeDep, TenantDep, DeciderDep and MemberOfDep in one."""

TenantDep = Annotated[str, Depends(_tenant)]
"""The caller's tenant ("" without authentication)."""

DeciderDep = Annotated["str | None", Depends(_decider)]
"""Who the caller's answers are logged as (the API key's user, else its tenant)."""

MemberOfDep = Annotated["frozenset[str] | None", Depends(_member_of)]
"""The review groups of the caller's principal (None: the auth layer keeps none)."""


def thread_not_found(thread_id: str) -> HTTPException:
    """The 404 of a thread that is missing (or another tenant's: the same answer)."""
    return HTTPException(404, f"Thread '{thread_id}' not found.")


async def require_thread(rt: Runtime, tenant: str, thread_id: str) -> ThreadRow:
    """The thread, or a 404."""
    row = await rt.store.get_thread(tenant, thread_id)
    if row is None:
        raise thread_not_found(thread_id)
    return row


def contains(data: Any, wanted: Any, depth: int = 1) -> bool:
    """JSON containment, as PostgreSQL's `@>`: every key of `wanted` is in `data` with a
    value that contains its value; a list contains a list whose items it each contains.
    The walk follows `wanted` and stops after MAX_DEPTH levels (as deep as a request body
    may nest; deeper parts match nothing), so a stored value of any depth is compared in
    bounded steps and never breaks a search."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(wanted, dict):
        return isinstance(data, dict) and all(
            k in data and contains(data[k], v, depth + 1) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(data, list) and all(
            any(contains(d, w, depth + 1) for d in data) for w in wanted)
    return bool(data == wanted)


def stored_json(content: Any, headers: Mapping[str, str] | None = None) -> Response:
    """`content` (stored data) as a JSON answer, written as FastAPI writes one (NaN and the
    infinities as null); when it nests deeper than that writer goes (255 levels: a graph's
    values may, and bodies could before they were bounded), by json.dumps, which goes as
    deep as anything the store could hold."""
    try:
        data = pydantic_core.to_json(content, inf_nan_mode="null")
    except pydantic_core.PydanticSerializationError:
        data = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, media_type="application/json", headers=headers)
