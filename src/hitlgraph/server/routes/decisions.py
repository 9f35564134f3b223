"""The decision log (hitlgraph.review): who answered which question, which update_state
resolved, which answers a cancelled run gave back; of one thread, or across the tenant's
threads for auditors. Tenant-scoped as every route is: another tenant's thread is a 404, and
a search sees only the caller's tenant's threads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from hitlgraph.review import Decision, DecisionLog
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.routes._deps import (
    RuntimeDep,
    TenantDep,
    require_thread,
    valid_path_ids,
)

__all__ = ["router"]

router = APIRouter(tags=["decisions"], dependencies=[Depends(valid_path_ids)])


class DecisionSearch(BaseModel):
    """POST /decisions/search: every field optional."""

    model_config = ConfigDict(extra="forbid")

    thread_id: str | None = None
    by: str | None = None
    since: str | None = Field(default=None, description="ISO 8601 with a time zone.")
    limit: int = Field(default=50, ge=1, le=1000)


def _log(rt: Runtime) -> DecisionLog:
    saver = rt.saver
    if not isinstance(saver, DecisionLog):
        raise HTTPException(501, f"The server's checkpointer ({type(saver).__name__}) keeps "
                            "no decision log: use one of hitlgraph's savers.")
    return saver


async def _rows(rt: Runtime, tenant: str, **query: Any) -> list[dict[str, Any]]:
    """The decisions `query` selects, under the thread ids the client knows (the
    checkpointer keeps a tenant's threads under "tenant/thread_id")."""
    cut = len(rt.checkpoint_thread(tenant, ""))
    try:
        return [_row(d, d.thread_id[cut:]) async for d in _log(rt).alist_decisions(**query)]
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _row(d: Decision, thread_id: str) -> dict[str, Any]:
    return {"seq": d.seq, "at": d.at, "thread_id": thread_id, "checkpoint_ns": d.checkpoint_ns,
            "interrupt_id": d.interrupt_id, "node": d.node, "outcome": d.outcome,
            "answer": d.answer, "by": d.by, "reason": d.reason, "hash": d.hash}


@router.get("/threads/{thread_id}/decisions")
async def thread_decisions(thread_id: str, rt: RuntimeDep, tenant: TenantDep,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                           since: str | None = None) -> list[dict[str, Any]]:
    """The thread's decisions, newest first: at most `limit`, made at or after `since`
    (ISO 8601 with a time zone). `by` is the authenticated caller who answered (the API
    key's user, else its tenant), never a name the client sent."""
    await require_thread(rt, tenant, thread_id)
    return await _rows(rt, tenant, thread_id=rt.checkpoint_thread(tenant, thread_id),
                       since=since, limit=limit)


@router.post("/decisions/search")
async def search_decisions(body: DecisionSearch, rt: RuntimeDep, tenant: TenantDep
                           ) -> list[dict[str, Any]]:
    """Decisions across the caller's threads, newest first (for auditors): of one thread,
    by one person, since a time; at most `limit`. A thread_id of another tenant's thread
    finds nothing, as one that does not exist."""
    return await _rows(
        rt, tenant, by=body.by, since=body.since, limit=body.limit,
        thread_id=None if body.thread_id is None else rt.checkpoint_thread(tenant,
                                                                         body.thread_id),
        thread_prefix=rt.checkpoint_thread(tenant, "") or None)
