"""The decision log of a thread (hitlgraph.review): who answered its questions, which
update_state resolved, which answers a cancelled run gave back. Tenant-scoped as every thread
route is: another tenant's thread is a 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from hitlgraph.review import Decision, DecisionLog
from hitlgraph.server.routes._deps import (
    RuntimeDep,
    TenantDep,
    require_thread,
    valid_path_ids,
)

__all__ = ["router"]

router = APIRouter(tags=["decisions"], dependencies=[Depends(valid_path_ids)])


def _row(d: Decision, thread_id: str) -> dict[str, Any]:
    """A decision as JSON, under the thread id the client knows (the checkpointer keeps a
    tenant's threads under "tenant/thread_id")."""
    return {"seq": d.seq, "at": d.at, "thread_id": thread_id, "checkpoint_ns": d.checkpoint_ns,
            "interrupt_id": d.interrupt_id, "node": d.node, "outcome": d.outcome,
            "answer": d.answer, "by": d.by, "reason": d.reason, "hash": d.hash}


@router.get("/threads/{thread_id}/decisions")
async def thread_decisions(thread_id: str, rt: RuntimeDep, tenant: TenantDep,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                           since: str | None = None) -> list[dict[str, Any]]:
    """The thread's decisions, newest first: at most `limit`, made at or after `since`
    (ISO 8601 with a time zone). `by` is the authenticated caller who answered (the API
    key's tenant), never a name the client sent."""
    await require_thread(rt, tenant, thread_id)
    saver = rt.saver
    if not isinstance(saver, DecisionLog):
        raise HTTPException(501, f"The server's checkpointer ({type(saver).__name__}) keeps "
                            "no decision log: use one of hitlgraph's savers.")
    try:
        found = [d async for d in saver.alist_decisions(
            thread_id=rt.checkpoint_thread(tenant, thread_id), since=since, limit=limit)]
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return [_row(d, thread_id) for d in found]
