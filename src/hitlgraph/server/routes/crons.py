"""Crons: runs made on a schedule, on a thread or each on a new thread (LangGraph's
`/runs/crons` routes). Every process's scheduler (`_crons_scheduler.py`) fires them.

A cron, like a thread, is its tenant's: another tenant's is answered as a missing one."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pydantic
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError

from hitlgraph.server._crons_schemas import (
    CRON_FIELDS,
    CronCount,
    CronCreate,
    CronPatch,
    CronSearch,
    ThreadCronCreate,
)
from hitlgraph.server._ids import not_a_uuid
from hitlgraph.server._paging import pagination_headers
from hitlgraph.server._runtime import Runtime
from hitlgraph.server._time_ids import uuid7
from hitlgraph.server.routes._deps import (
    RuntimeDep,
    TenantDep,
    contains,
    require_thread,
    stored_json,
    valid_path_ids,
)
from hitlgraph.server.store._assistants import ConfigAndContextError, for_run
from hitlgraph.server.store._crons import CronChange, CronFields, CronRow

__all__ = ["cron_json", "router", "valid_cron_id"]


async def valid_cron_id(request: Request) -> None:
    """A cron id in the path is a UUID, as on LangGraph's server (422 naming it). (Async:
    FastAPI would run a plain function in its thread pool.)"""
    value = request.path_params.get("cron_id")
    refusal = None if value is None else not_a_uuid(value, "cron")
    if refusal is not None:
        raise HTTPException(422, refusal)


router = APIRouter(tags=["crons"], dependencies=[Depends(valid_path_ids),
                                                 Depends(valid_cron_id)])


def cron_json(row: CronRow) -> dict[str, Any]:
    """A cron as LangGraph's server answers it (its `user_id` is the tenant)."""
    return {"cron_id": row.cron_id, "assistant_id": row.assistant_id,
            "thread_id": row.thread_id, "user_id": row.tenant, "end_time": row.end_time,
            "schedule": row.schedule, "timezone": row.timezone, "payload": row.payload,
            "next_run_date": row.next_run_date, "metadata": row.metadata,
            "on_run_completed": row.on_run_completed, "enabled": row.enabled,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _cron_not_found(cron_id: str) -> HTTPException:
    return HTTPException(404, f"Cron '{cron_id}' not found.")


async def _create(rt: Runtime, tenant: str, body: CronCreate | ThreadCronCreate,
                  thread_id: str | None) -> CronRow:
    """Check what each firing will need (the assistant, the thread, a config it can run
    with), then store the cron with its run's body as the payload."""
    assistant = await rt.find_assistant(tenant, body.assistant_id)
    try:
        for_run(assistant, body.config, body.context)
    except ConfigAndContextError as exc:
        raise HTTPException(400, str(exc)) from None
    if thread_id is not None:
        await require_thread(rt, tenant, thread_id)
    cron_id = uuid7()
    payload = body.model_dump(mode="json", exclude_unset=True)
    config = dict(payload.get("config") or {})
    config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
    payload.update(assistant_id=assistant.assistant_id, config=config)
    fields = CronFields(
        assistant_id=assistant.assistant_id, thread_id=thread_id, schedule=body.schedule,
        timezone=body.timezone, payload=payload, metadata=body.metadata or {},
        on_run_completed=body.on_run_completed if isinstance(body, CronCreate) else None,
        enabled=body.enabled, end_time=body.end_time)
    return await rt.store.create_cron(tenant, cron_id, fields, datetime.now(timezone.utc))


@router.post("/runs/crons")
async def create_cron(body: CronCreate, rt: RuntimeDep, tenant: TenantDep) -> Response:
    """Make a cron whose every firing runs on a new thread (deleted after the run unless
    on_run_completed is "keep")."""
    return stored_json(cron_json(await _create(rt, tenant, body, None)))


@router.post("/threads/{thread_id}/runs/crons")
async def create_thread_cron(thread_id: str, body: ThreadCronCreate, rt: RuntimeDep,
                             tenant: TenantDep) -> Response:
    """Make a cron whose every firing runs on this thread."""
    return stored_json(cron_json(await _create(rt, tenant, body, thread_id)))


@router.get("/runs/crons/{cron_id}")
async def get_cron(cron_id: str, rt: RuntimeDep, tenant: TenantDep) -> Response:
    """One cron."""
    row = await rt.store.get_cron(tenant, cron_id)
    if row is None:
        raise _cron_not_found(cron_id)
    return stored_json(cron_json(row))


def _checked_payload(row: CronRow, change: dict[str, Any]) -> None:
    """Refuse a change after which the payload would not be a run's body (422, naming the
    field), as it would be refused when the cron was made."""
    model = CronCreate if row.thread_id is None else ThreadCronCreate
    merged = {**row.payload, **change, "schedule": change.get("schedule", row.schedule)}
    if "end_time" in merged and merged["end_time"] is None:
        del merged["end_time"]
    try:
        model.model_validate(merged)
    except pydantic.ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


@router.patch("/runs/crons/{cron_id}")
async def patch_cron(cron_id: str, body: CronPatch, rt: RuntimeDep, tenant: TenantDep
                     ) -> Response:
    """Change a cron: its schedule, end, whether it is enabled, and its run's fields."""
    given = body.model_dump(mode="json", exclude_unset=True)
    if not given:
        raise HTTPException(400, "Request body cannot be empty: give the fields to change.")
    current = await rt.store.get_cron(tenant, cron_id)
    if current is None:
        raise _cron_not_found(cron_id)
    _checked_payload(current, given)
    change = CronChange(
        schedule=body.schedule, timezone=body.timezone, end_time=body.end_time,
        clear_end_time="end_time" in given and body.end_time is None, enabled=body.enabled,
        on_run_completed=body.on_run_completed, payload=given, metadata=body.metadata)
    row = await rt.store.patch_cron(tenant, cron_id, change, datetime.now(timezone.utc))
    if row is None:
        raise _cron_not_found(cron_id)
    return stored_json(cron_json(row))


@router.delete("/runs/crons/{cron_id}", status_code=204)
async def delete_cron(cron_id: str, rt: RuntimeDep, tenant: TenantDep) -> Response:
    """Delete a cron; the runs it made stay."""
    if not await rt.store.delete_cron(tenant, cron_id):
        raise _cron_not_found(cron_id)
    return Response(status_code=204)


def _sort_key(field: str) -> Any:
    def key(row: CronRow) -> Any:
        value = getattr(row, field)
        if field.endswith(("_at", "_date", "_time")):
            return datetime.fromisoformat(value) if value else datetime.min.replace(
                tzinfo=timezone.utc)
        return str(value or "").lower()
    return key


async def _matching(rt: Runtime, tenant: str, body: CronSearch | CronCount) -> list[CronRow]:
    rows = await rt.store.list_crons(tenant, assistant_id=body.assistant_id,
                                     thread_id=body.thread_id,
                                     enabled=body.enabled if isinstance(body, CronSearch)
                                     else None)
    return [r for r in rows if not body.metadata or contains(r.metadata, body.metadata)]


@router.post("/runs/crons/search")
async def search_crons(body: CronSearch, rt: RuntimeDep, tenant: TenantDep) -> Response:
    """The tenant's crons matching the filters (metadata by containment), newest first
    unless sorted otherwise, a page of them; X-Pagination-Total and X-Pagination-Next as
    LangGraph's server sets them."""
    rows = await _matching(rt, tenant, body)
    if body.sort_by is not None:
        rows.sort(key=_sort_key(body.sort_by), reverse=body.sort_order != "asc")
    page = rows[body.offset:body.offset + body.limit]
    headers = pagination_headers(body.offset, len(page), len(rows) > body.offset + body.limit)
    chosen = [f for f in CRON_FIELDS if body.select is None or f in body.select]
    return stored_json([{k: v for k, v in cron_json(r).items() if k in chosen} for r in page],
                       headers=headers)


@router.post("/runs/crons/count")
async def count_crons(body: CronCount, rt: RuntimeDep, tenant: TenantDep) -> int:
    """How many of the tenant's crons match the filters."""
    return len(await _matching(rt, tenant, body))
