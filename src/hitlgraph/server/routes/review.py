"""Who works on an interrupt, through the server: claim, release and reassign one of a
thread's open interrupts (hitlgraph.review's assignment, on the server's checkpointer).

The principal is the authenticated caller, as for a decision's `by`: the API key's user, else
its tenant ("anonymous" on a server without authentication), never a name from the body.
Tenant-scoped as every route: another tenant's thread is a 404. Answers: the decision-log row
the change wrote; 409 when someone else holds the interrupt; 404 when it is not open; 403
for a claim of an interrupt asked for a group by someone outside it, where the auth layer
keeps groups (auth.groups_of).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Protocol, runtime_checkable

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from hitlgraph.review import (
    Decision,
    Groups,
    InterruptHeldError,
    InterruptNotOpenError,
    NotInGroupError,
    aclaim_in_group,
)
from hitlgraph.server._runtime import Runtime
from hitlgraph.server.auth import review_groups
from hitlgraph.server.routes._deps import (
    DeciderDep,
    RuntimeDep,
    TenantDep,
    require_thread,
    valid_path_ids,
)

__all__ = ["ANONYMOUS", "router"]

router = APIRouter(tags=["review"], dependencies=[Depends(valid_path_ids)])

ANONYMOUS: Final = "anonymous"
"""The principal of every caller of a server without authentication."""
_PATH = "/threads/{thread_id}/interrupts/{interrupt_id}"


async def _groups(request: Request) -> Groups | None:
    return review_groups(request)


# Async, as every dependency of the routes: FastAPI runs a plain function in its thread pool.
GroupsDep = Annotated["Groups | None", Depends(_groups)]


class Claim(BaseModel):
    """POST .../claim."""

    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=2000)


class Release(Claim):
    """POST .../release: `force` lets anyone release an interrupt someone else holds."""

    force: bool = False


class Reassign(Claim):
    """POST .../reassign: the principal (or group) to give it to."""

    to: str = Field(min_length=1, max_length=200)


@runtime_checkable
class _AsyncAssignable(Protocol):
    """The saver methods these routes call (every saver hitlgraph ships has them)."""

    async def aclaim(self, thread_id: str, interrupt_id: str, principal: str, *,
                     reason: str | None = None) -> Decision: ...

    async def arelease(self, thread_id: str, interrupt_id: str, principal: str, *,
                       force: bool = False, reason: str | None = None) -> Decision: ...

    async def areassign(self, thread_id: str, interrupt_id: str, principal: str, *, to: str,
                        reason: str | None = None) -> Decision: ...


def _saver(rt: Runtime) -> _AsyncAssignable:
    if not isinstance(rt.saver, _AsyncAssignable):
        raise HTTPException(501, f"The server's checkpointer ({type(rt.saver).__name__}) keeps "
                            "no assignments: use one of hitlgraph's savers.")
    return rt.saver


def _row(d: Decision, thread_id: str) -> dict[str, Any]:
    return {"seq": d.seq, "at": d.at, "thread_id": thread_id, "interrupt_id": d.interrupt_id,
            "node": d.node, "outcome": d.outcome, "answer": d.answer, "by": d.by,
            "reason": d.reason}


async def _act(rt: Runtime, tenant: str, thread_id: str, action: str, call: Any
               ) -> dict[str, Any]:
    """The row `call(saver, checkpointer thread id)` wrote, its errors as HTTP answers."""
    await require_thread(rt, tenant, thread_id)
    try:
        decision = await call(_saver(rt), rt.checkpoint_thread(tenant, thread_id))
    except InterruptHeldError as exc:
        holder = f"'{exc.holder}' holds it" if exc.holder else "no one holds it"
        raise HTTPException(409, f"Cannot {action} interrupt '{exc.interrupt_id}' of thread "
                            f"'{thread_id}': {holder}.") from None
    except NotInGroupError as exc:
        raise HTTPException(403, f"{exc} The server's review groups (ApiKeyAuth's groups, or "
                            "the auth callable's Principal.groups) say who is in it.") from None
    except InterruptNotOpenError as exc:
        raise HTTPException(404, f"Interrupt '{exc.interrupt_id}' of thread '{thread_id}' is "
                            "not open (unknown, answered, expired, or closed by a later "
                            "step).") from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return _row(decision, thread_id)


@router.post(_PATH + "/claim")
async def claim(thread_id: str, interrupt_id: str, body: Claim, rt: RuntimeDep,
                tenant: TenantDep, by: DeciderDep, groups: GroupsDep) -> dict[str, Any]:
    """Hold the interrupt as the caller (again, when they hold it already); an interrupt
    asked for a group only by one of its members (403 for others), where the auth layer keeps
    groups (auth.groups_of)."""
    who = by or ANONYMOUS
    if groups is None:
        return await _act(rt, tenant, thread_id, "claim", lambda saver, thread: saver.aclaim(
            thread, interrupt_id, who, reason=body.reason))
    return await _act(rt, tenant, thread_id, "claim", lambda saver, thread: aclaim_in_group(
        saver, thread, interrupt_id, who, groups, reason=body.reason))


@router.post(_PATH + "/release")
async def release(thread_id: str, interrupt_id: str, body: Release, rt: RuntimeDep,
                  tenant: TenantDep, by: DeciderDep) -> dict[str, Any]:
    """Let go of the interrupt (only its holder, unless `force`)."""
    return await _act(rt, tenant, thread_id, "release", lambda saver, thread: saver.arelease(
        thread, interrupt_id, by or ANONYMOUS, force=body.force, reason=body.reason))


@router.post(_PATH + "/reassign")
async def reassign(thread_id: str, interrupt_id: str, body: Reassign, rt: RuntimeDep,
                   tenant: TenantDep, by: DeciderDep) -> dict[str, Any]:
    """Give the interrupt to `to` (anyone may)."""
    return await _act(rt, tenant, thread_id, "reassign", lambda saver, thread: saver.areassign(
        thread, interrupt_id, by or ANONYMOUS, to=body.to, reason=body.reason))
