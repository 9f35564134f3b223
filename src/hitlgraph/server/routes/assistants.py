"""Assistants: each served graph's own (shared by every tenant, read-only), and those a
tenant makes (POST /assistants), kept with every version in the store.

Every route taking an assistant id also takes a graph id (its graph's own assistant), as
LangGraph's server does for runs and drawings; a created assistant is named by its UUID. A
tenant's assistants are invisible to every other: their ids answer 404, like missing ones."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Response

from hitlgraph.server._assistant_schemas import (
    ASSISTANT_FIELDS,
    AssistantCount,
    AssistantCreate,
    AssistantLatest,
    AssistantPatch,
    AssistantVersions,
)
from hitlgraph.server._graph_info import graph_json, schemas_json, subgraphs_json
from hitlgraph.server._ids import canonical_uuid
from hitlgraph.server._paging import pagination_headers
from hitlgraph.server._runtime import Runtime, assistant_not_found
from hitlgraph.server.routes import threads
from hitlgraph.server.routes._deps import RuntimeDep, TenantDep, contains
from hitlgraph.server.routes.runs import _cancel as cancel_run
from hitlgraph.server.schemas import AssistantSearch
from hitlgraph.server.store._assistants import (
    ConfigAndContextError,
    check_config_and_context,
    synced,
)
from hitlgraph.server.store.base import (
    AssistantChange,
    AssistantFields,
    AssistantRow,
    UnknownVersionError,
)

__all__ = ["router"]

router = APIRouter(tags=["assistants"])


def assistant_json(row: AssistantRow) -> dict[str, Any]:
    """As the SDK's Assistant."""
    return {"assistant_id": row.assistant_id, "graph_id": row.graph_id, "config": row.config,
            "context": row.context, "created_at": row.created_at,
            "updated_at": row.updated_at, "metadata": row.metadata, "version": row.version,
            "name": row.name, "description": row.description}


def version_json(row: AssistantRow) -> dict[str, Any]:
    """As the SDK's AssistantVersion: an assistant without updated_at."""
    return {k: v for k, v in assistant_json(row).items() if k != "updated_at"}


def _require_graph(rt: Runtime, graph_id: str) -> None:
    if graph_id not in rt.graphs:
        served = ", ".join(f"'{g}'" for g in rt.graphs)
        raise HTTPException(404, f"Graph '{graph_id}' not found; the graphs served are "
                            f"{served} (langgraph.json's \"graphs\").")


def _check_config_and_context(config: dict[str, Any] | None,
                              context: dict[str, Any] | None) -> None:
    try:
        check_config_and_context(config, context, "assistant")
    except ConfigAndContextError as exc:
        raise HTTPException(400, str(exc)) from None


def _stored_id(rt: Runtime, assistant_id: str, verb: str) -> str:
    """The id of an assistant the tenant made, for a route that would `verb` it: a served
    graph's own assistant answers 409 (LangGraph's server lets it go, the graph's runs by
    graph id then fail until it restarts), an id that is no UUID 404."""
    system = rt.system_assistant(assistant_id)
    if system is not None:
        raise HTTPException(409, f"Assistant '{assistant_id}' is graph '{system.graph_id}'s "
                            f"own (made from langgraph.json) and cannot be {verb}d. Make an "
                            "assistant of your own with POST /assistants {\"graph_id\": "
                            f"\"{system.graph_id}\", ...}} and {verb} that one.")
    key = canonical_uuid(assistant_id)
    if key is None:
        raise assistant_not_found(assistant_id, rt.graphs)
    return key


# -- reading --------------------------------------------------------------------------------------

async def _all(rt: Runtime, tenant: str) -> list[AssistantRow]:
    """The graphs' own assistants (in the config's order), then the tenant's (oldest first):
    the order LangGraph's server made them in."""
    return [*(a.row() for a in rt.assistants.values()),
            *await rt.store.list_assistants(tenant)]


def _matches(row: AssistantRow, body: AssistantSearch | AssistantCount) -> bool:
    if body.graph_id is not None and row.graph_id != body.graph_id:
        return False
    if body.name and body.name.lower() not in row.name.lower():
        return False
    return not body.metadata or contains(row.metadata, body.metadata)


def _sorted(found: list[AssistantRow], body: AssistantSearch) -> list[AssistantRow]:
    """As LangGraph's server sorts: by created_at, newest first, unless sort_by names a field
    (names and graph ids ignoring case); ties keep the order the assistants were made in,
    which also orders the graphs' own assistants, made at the same instant here."""
    made = {id(row): i for i, row in enumerate(found)}
    key = body.sort_by or "created_at"
    descending = body.sort_by is None or body.sort_order != "asc"
    if key in ("name", "graph_id"):
        return sorted(found, key=lambda r: str(getattr(r, key)).lower(), reverse=descending)
    return sorted(found, key=lambda r: (str(getattr(r, key)), made[id(r)]),
                  reverse=descending)


@router.post("/assistants/search")
async def search_assistants(body: AssistantSearch, rt: RuntimeDep, tenant: TenantDep,
                            response: Response) -> list[dict[str, Any]]:
    """The assistants matching the filters, a page of them."""
    unknown = [name for name in body.select or () if name not in ASSISTANT_FIELDS]
    if unknown:
        raise HTTPException(422, f"select names {unknown}, which assistants do not have; "
                            f"pick from {list(ASSISTANT_FIELDS)}.")
    if body.graph_id is not None:
        _require_graph(rt, body.graph_id)
    found = _sorted([r for r in await _all(rt, tenant) if _matches(r, body)], body)
    page = [assistant_json(r) for r in found[body.offset:body.offset + body.limit]]
    response.headers.update(pagination_headers(body.offset, len(page),
                                               body.offset + body.limit < len(found)))
    if body.select:
        page = [{k: v for k, v in a.items() if k in body.select} for a in page]
    return page


@router.post("/assistants/count")
async def count_assistants(body: AssistantCount, rt: RuntimeDep, tenant: TenantDep) -> int:
    """How many assistants match."""
    if body.graph_id is not None:
        _require_graph(rt, body.graph_id)
    return sum(1 for r in await _all(rt, tenant) if _matches(r, body))


@router.get("/assistants/{assistant_id}")
async def get_assistant(assistant_id: str, rt: RuntimeDep, tenant: TenantDep
                        ) -> dict[str, Any]:
    """One assistant, by assistant id or graph id."""
    return assistant_json(await rt.find_assistant(tenant, assistant_id))


@router.get("/assistants/{assistant_id}/graph")
async def get_assistant_graph(assistant_id: str, rt: RuntimeDep, tenant: TenantDep,
                              xray: bool | int = False) -> dict[str, Any]:
    """The graph's nodes and edges (subgraphs are drawn as one node, whatever `xray` says)."""
    assistant = await rt.find_assistant(tenant, assistant_id)
    return graph_json(rt.graph(assistant.graph_id).compiled)


@router.get("/assistants/{assistant_id}/schemas")
async def get_assistant_schemas(assistant_id: str, rt: RuntimeDep, tenant: TenantDep
                                ) -> dict[str, Any]:
    """JSON schemas of the graph's input, output, state, config and context (null where the
    type has none)."""
    assistant = await rt.find_assistant(tenant, assistant_id)
    return schemas_json(rt.graph(assistant.graph_id).compiled, assistant.graph_id)


@router.get("/assistants/{assistant_id}/subgraphs")
async def get_assistant_subgraphs(assistant_id: str, rt: RuntimeDep, tenant: TenantDep,
                                  recurse: bool = False) -> dict[str, Any]:
    """namespace -> schemas of each subgraph the graph's nodes run (nested ones too with
    `recurse`, as "parent|child")."""
    return await get_assistant_subgraph(assistant_id, None, rt, tenant, recurse)


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}")
async def get_assistant_subgraph(assistant_id: str, namespace: str | None, rt: RuntimeDep,
                                 tenant: TenantDep, recurse: bool = False) -> dict[str, Any]:
    """The subgraph at `namespace` ({} when there is none), as .../subgraphs answers it."""
    assistant = await rt.find_assistant(tenant, assistant_id)
    return subgraphs_json(rt.graph(assistant.graph_id).compiled, namespace, recurse)


# -- versions ------------------------------------------------------------------------------------

async def _versions(rt: Runtime, tenant: str, assistant_id: str) -> list[AssistantRow]:
    system = rt.system_assistant(assistant_id)
    if system is not None:
        return [system.row()]
    key = canonical_uuid(assistant_id)
    found = await rt.store.list_assistant_versions(tenant, key) if key is not None else None
    if found is None:
        raise assistant_not_found(assistant_id, rt.graphs)
    return found


@router.post("/assistants/{assistant_id}/versions")
async def list_assistant_versions(assistant_id: str, body: AssistantVersions, rt: RuntimeDep,
                                  tenant: TenantDep) -> list[dict[str, Any]]:
    """The assistant's versions, newest first, filtered by metadata, a page of them. An
    empty page answers 404, as on LangGraph's server."""
    every = await _versions(rt, tenant, assistant_id)
    found = [v for v in every if contains(v.metadata, body.metadata)]
    page = found[body.offset:body.offset + body.limit]
    if not page:
        raise HTTPException(404, f"Assistant '{assistant_id}' has no version matching "
                            f"metadata {body.metadata} at offset {body.offset}; it has "
                            f"{len(every)} version(s), {len(found)} matching.")
    return [version_json(v) for v in page]


@router.post("/assistants/{assistant_id}/latest")
async def set_latest_assistant_version(assistant_id: str, body: AssistantLatest,
                                       rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    """Make one of the assistant's versions its current one again (graph, config, context,
    metadata, name and description)."""
    system = rt.system_assistant(assistant_id)
    if system is not None:
        if body.version != 1:
            raise HTTPException(404, str(UnknownVersionError(assistant_id, body.version, [1])))
        return assistant_json(system.row())
    key = _stored_id(rt, assistant_id, "change")
    try:
        row = await rt.store.set_latest_assistant(tenant, key, body.version)
    except UnknownVersionError as exc:
        raise HTTPException(404, str(exc)) from None
    if row is None:
        raise assistant_not_found(assistant_id, rt.graphs)
    return assistant_json(row)


# -- writing --------------------------------------------------------------------------------------

@router.post("/assistants")
async def create_assistant(body: AssistantCreate, rt: RuntimeDep, tenant: TenantDep
                           ) -> dict[str, Any]:
    """Make an assistant of a served graph, with its own config, context and metadata."""
    config = body.config.value()
    _check_config_and_context(config, body.context)
    _require_graph(rt, body.graph_id)
    assistant_id = body.assistant_id or str(uuid.uuid4())
    system = rt.system_assistant(assistant_id)
    existing = system.row() if system is not None else None
    if existing is None:
        config, context = synced(config, body.context)
        existing = await rt.store.create_assistant(
            tenant, assistant_id, AssistantFields(
                graph_id=body.graph_id, config=config, context=context or {},
                metadata=body.metadata, name=body.name or "Untitled",
                description=body.description),
            if_exists=body.if_exists)
        if existing is not None:
            return assistant_json(existing)
    elif body.if_exists == "do_nothing":
        return assistant_json(existing)
    raise HTTPException(409, f"Assistant '{assistant_id}' already exists. Send if_exists "
                        "'do_nothing' to get it back as it is, or change it with PATCH "
                        f"/assistants/{assistant_id}.")


@router.patch("/assistants/{assistant_id}")
async def patch_assistant(assistant_id: str, body: AssistantPatch, rt: RuntimeDep,
                          tenant: TenantDep) -> dict[str, Any]:
    """Change an assistant you made: its next version becomes the current one."""
    key = _stored_id(rt, assistant_id, "update")
    config = body.config.value() if body.config is not None else None
    _check_config_and_context(config, body.context)
    if body.graph_id is not None:
        _require_graph(rt, body.graph_id)
    row = await rt.store.patch_assistant(tenant, key, AssistantChange(
        graph_id=body.graph_id, config=config, context=body.context, metadata=body.metadata,
        name=body.name, description=body.description))
    if row is None:
        raise assistant_not_found(assistant_id, rt.graphs)
    return assistant_json(row)


@router.delete("/assistants/{assistant_id}", status_code=204)
async def delete_assistant(assistant_id: str, rt: RuntimeDep, tenant: TenantDep,
                           delete_threads: bool = False) -> Response:
    """Delete an assistant you made and its versions, cancelling its pending and running
    runs; with `delete_threads`, also the threads it last ran on (their metadata's
    assistant_id), with their runs and checkpoints."""
    key = _stored_id(rt, assistant_id, "delete")
    if await rt.store.get_assistant(tenant, key) is None:
        raise assistant_not_found(assistant_id, rt.graphs)
    if delete_threads:
        doomed = [t.thread_id async for t in threads.threads_of(rt, tenant)
                  if t.metadata.get("assistant_id") == key]
        for thread_id in doomed:  # (collected first: deleting moves the pages' offsets)
            with contextlib.suppress(HTTPException):  # gone meanwhile
                await threads.delete_thread(thread_id, rt, tenant)
    for run in await rt.store.active_runs_of_assistant(tenant, key):
        await cancel_run(rt, tenant, run, "interrupt")
    if not await rt.store.delete_assistant(tenant, key):
        raise assistant_not_found(assistant_id, rt.graphs)
    return Response(status_code=204)
