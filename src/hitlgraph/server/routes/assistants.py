"""Assistants: one per served graph, read-only (the graphs come from the config)."""

from __future__ import annotations

import typing
from typing import Any

from fastapi import APIRouter, Response

from hitlgraph.server._runtime import Assistant
from hitlgraph.server.routes._deps import RuntimeDep, contains
from hitlgraph.server.schemas import AssistantSearch

__all__ = ["router"]

router = APIRouter(tags=["assistants"])


def _matches(item: Assistant, body: AssistantSearch) -> bool:
    data = item.to_json()
    if body.graph_id is not None and item.graph_id != body.graph_id:
        return False
    if body.name is not None and body.name.lower() not in data["name"].lower():
        return False
    return body.metadata is None or contains(data["metadata"], body.metadata)


@router.post("/assistants/search")
async def search_assistants(body: AssistantSearch, rt: RuntimeDep, response: Response
                            ) -> list[dict[str, Any]]:
    """The assistants matching the filters."""
    found = [a.to_json() for a in rt.assistants.values() if _matches(a, body)]
    key = body.sort_by or "created_at"
    # Ties keep the config's order, newest (last) first when descending, as LangGraph's server
    # creates its assistants one after another in that order.
    order = {a["assistant_id"]: i for i, a in enumerate(found)}
    found.sort(key=lambda a: (str(a[key]), order[a["assistant_id"]]),
               reverse=body.sort_order != "asc")
    page = found[body.offset:body.offset + body.limit]
    if body.offset + body.limit < len(found):
        response.headers["X-Pagination-Next"] = str(body.offset + body.limit)
    if body.select:
        page = [{k: v for k, v in a.items() if k in body.select} for a in page]
    return page


@router.post("/assistants/count")
async def count_assistants(body: AssistantSearch, rt: RuntimeDep) -> int:
    """How many assistants match."""
    return sum(1 for a in rt.assistants.values() if _matches(a, body))


@router.get("/assistants/{assistant_id}")
async def get_assistant(assistant_id: str, rt: RuntimeDep) -> dict[str, Any]:
    """One assistant, by assistant id or graph id."""
    return rt.assistant(assistant_id).to_json()


@router.get("/assistants/{assistant_id}/graph")
async def get_assistant_graph(assistant_id: str, rt: RuntimeDep, xray: bool | int = False
                              ) -> dict[str, Any]:
    """The graph's nodes and edges."""
    bound = rt.graph(rt.assistant(assistant_id).graph_id)
    drawn = bound.compiled.get_graph().to_json()
    nodes = [{"id": n["id"], "type": "schema" if n["id"] in ("__start__", "__end__")
              else "runnable", "data": n["name"], "metadata": n["metadata"] or None}
             for n in drawn["nodes"]]
    edges = [{"source": e["source"], "target": e["target"], "conditional": e["conditional"],
              **({"data": e["data"]} if e["data"] is not None else {})} for e in drawn["edges"]]
    return {"nodes": nodes, "edges": edges}


def _json_schema(schema: Any) -> dict[str, Any] | None:
    if schema is None:
        return None
    from pydantic import TypeAdapter

    try:
        result: dict[str, Any] = TypeAdapter(schema).json_schema()
        return result
    except Exception:
        pass
    # typing.TypedDict before Python 3.12, which pydantic refuses: one key at a time.
    try:
        hints = typing.get_type_hints(schema)
    except Exception:
        return None
    properties: dict[str, Any] = {}
    for key, hint in hints.items():
        try:
            properties[key] = TypeAdapter(hint).json_schema()
        except Exception:
            properties[key] = {}
    return {"title": getattr(schema, "__name__", "State"), "type": "object",
            "properties": properties,
            "required": sorted(getattr(schema, "__required_keys__", ()))}


@router.get("/assistants/{assistant_id}/schemas")
async def get_assistant_schemas(assistant_id: str, rt: RuntimeDep) -> dict[str, Any]:
    """JSON schemas of the graph's state, input, output and context (None where the type
    has no JSON schema)."""
    assistant = rt.assistant(assistant_id)
    builder = rt.graph(assistant.graph_id).compiled.builder
    return {
        "graph_id": assistant.graph_id,
        "input_schema": _json_schema(getattr(builder, "input_schema", None)),
        "output_schema": _json_schema(getattr(builder, "output_schema", None)),
        "state_schema": _json_schema(getattr(builder, "state_schema", None)),
        "config_schema": _json_schema(getattr(builder, "config_schema", None)),
        "context_schema": _json_schema(getattr(builder, "context_schema", None)),
    }
