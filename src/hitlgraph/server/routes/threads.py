"""Threads: create, read, search, copy, delete, and their state and history."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse

from hitlgraph.checkpoint.base import CheckpointTuple
from hitlgraph.errors import CheckpointConflictError, InvalidUpdateError
from hitlgraph.server._json import to_jsonable
from hitlgraph.server._more_schemas import ThreadPrune, thread_stream_modes
from hitlgraph.server._paging import pagination_headers
from hitlgraph.server._runtime import Runtime
from hitlgraph.server._select import THREAD_FIELDS, check_extract, check_select, extracted
from hitlgraph.server._state import (
    checkpoint_json,
    interrupts_by_task,
    snapshot_json,
    thread_json,
)
from hitlgraph.server._thread_stream import ThreadFollower, parse_last_event_id
from hitlgraph.server._time_ids import uuid7
from hitlgraph.server.config import BoundGraph
from hitlgraph.server.routes._deps import (
    CallerDep,
    RuntimeDep,
    TenantDep,
    contains,
    require_thread,
    stored_json,
    thread_not_found,
    valid_path_ids,
)
from hitlgraph.server.schemas import (
    CheckpointRef,
    HistoryRequest,
    StateCheckpointRequest,
    StateUpdate,
    ThreadCount,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
)
from hitlgraph.server.store.base import ThreadRow

__all__ = ["router"]

router = APIRouter(tags=["threads"], dependencies=[Depends(valid_path_ids)])


def graph_of(rt: Runtime, thread: ThreadRow) -> BoundGraph | None:
    """The graph the thread runs (None before its first run, unless created with one)."""
    graph_id = thread.graph_id or thread.metadata.get("graph_id")
    if not isinstance(graph_id, str):
        return None
    return rt.graphs.get(graph_id)


def _empty_state(thread_id: str) -> dict[str, Any]:
    return {"values": {}, "next": [], "checkpoint": None, "metadata": None,
            "created_at": None, "parent_checkpoint": None, "tasks": [], "interrupts": [],
            "checkpoint_id": None, "parent_checkpoint_id": None}


def _state_config(rt: Runtime, tenant: str, thread_id: str,
                  checkpoint: CheckpointRef | None = None,
                  checkpoint_id: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": rt.checkpoint_thread(tenant, thread_id)}
    if checkpoint is not None:
        conf["checkpoint_ns"] = checkpoint.checkpoint_ns
        checkpoint_id = checkpoint_id or checkpoint.checkpoint_id
    if checkpoint_id:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def _select(state: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if not select:
        return state
    out: dict[str, Any] = {}
    for field in select:
        if field.startswith("values.") and isinstance(state.get("values"), dict):
            key = field[len("values."):]
            out.setdefault("values", {})[key] = state["values"].get(key)
        elif field in state:
            out[field] = state[field]
    return out


async def require_checkpoint(rt: Runtime, tenant: str, thread_id: str, checkpoint_id: str,
                             checkpoint_ns: str = "") -> None:
    """404 unless the tenant's thread has that checkpoint, naming the public thread id (the
    checkpointer's, which carries the tenant, never shows)."""
    found = await rt.saver.aget_tuple({"configurable": {
        "thread_id": rt.checkpoint_thread(tenant, thread_id), "checkpoint_ns": checkpoint_ns,
        "checkpoint_id": checkpoint_id}})
    if found is None:
        raise HTTPException(404, f"Thread '{thread_id}' has no checkpoint '{checkpoint_id}'.")


async def read_state(rt: Runtime, tenant: str, thread: ThreadRow, *,
                     checkpoint: CheckpointRef | None = None, checkpoint_id: str | None = None,
                     subgraphs: bool = False) -> dict[str, Any]:
    """The thread's state (at a checkpoint when given) as ThreadState JSON."""
    bound = graph_of(rt, thread)
    if bound is None:
        return _empty_state(thread.thread_id)
    config = _state_config(rt, tenant, thread.thread_id, checkpoint, checkpoint_id)
    try:
        snap = await bound.compiled.aget_state(config, subgraphs=subgraphs)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if checkpoint_id and snap.metadata is None:
        raise HTTPException(404, f"Thread '{thread.thread_id}' has no checkpoint "
                            f"'{checkpoint_id}'.")
    return snapshot_json(snap, thread.thread_id)


async def refresh_thread(rt: Runtime, tenant: str, thread: ThreadRow, bound: BoundGraph
                         ) -> None:
    """Store what the thread's latest checkpoint shows in its row (values, interrupts)."""
    snap = await bound.compiled.aget_state(_state_config(rt, tenant, thread.thread_id))
    interrupts = interrupts_by_task(snap)
    await rt.store.save_thread_state(
        tenant, thread.thread_id, values=to_jsonable(snap.values), interrupts=interrupts,
        status="interrupted" if (snap.next or snap.interrupts) else "idle",
        graph_id=bound.graph_id)


@router.post("/threads")
async def create_thread(body: ThreadCreate, caller: CallerDep) -> dict[str, Any]:
    """Create a thread (if_exists 'raise': 409 when the id is taken; 'do_nothing': return
    the existing one)."""
    thread_id = body.thread_id or uuid7()
    row = await caller.rt.store.create_thread(caller.tenant, thread_id, body.metadata or {},
                                       if_exists=body.if_exists)
    if row is None:
        raise HTTPException(409, f"Thread '{thread_id}' already exists. Send if_exists "
                            "'do_nothing' to get it instead.")
    return thread_json(row)


def _search_order(body: ThreadSearch) -> tuple[str, str]:
    """(sort_by, sort_order) as LangGraph's server reads them: without a sort_by, threads
    come newest update first whatever the sort_order; with one, descending unless 'asc'."""
    if body.sort_by is None:
        return "updated_at", "desc"
    return body.sort_by, body.sort_order or "desc"


BATCH = 500
"""Threads read at once where a filter the store cannot apply (metadata, values) is tested
on each: reading stops at the page's end, or at the last thread."""


async def threads_of(rt: Runtime, tenant: str, *, status: str | None = None,
                     ids: list[str] | None = None, sort_by: str = "created_at",
                     sort_order: str = "desc") -> AsyncIterator[ThreadRow]:
    """The tenant's threads in order, read BATCH at a time."""
    offset = 0
    while True:  # bounded: each read moves on by BATCH threads, and a short one is the last
        rows = await rt.store.list_threads(tenant, status=status, ids=ids, sort_by=sort_by,
                                           sort_order=sort_order, limit=BATCH, offset=offset)
        for row in rows:
            yield row
        if len(rows) < BATCH:
            return
        offset += BATCH


def _matches(row: ThreadRow, body: ThreadSearch | ThreadCount) -> bool:
    return ((body.metadata is None or contains(row.metadata, body.metadata))
            and (body.values is None or contains(row.values, body.values)))


async def _page(rt: Runtime, tenant: str, body: ThreadSearch) -> tuple[list[ThreadRow], bool]:
    """The rows of the requested page, and whether another match follows it: one read of
    the page (and one more row) when the store applies every filter; else the threads in
    order until the page's end and one more match. Whether a next page exists is all the
    headers need, as on LangGraph's server."""
    sort_by, sort_order = _search_order(body)
    if body.metadata is None and body.values is None:
        rows = await rt.store.list_threads(tenant, status=body.status, ids=body.ids,
                                           sort_by=sort_by, sort_order=sort_order,
                                           limit=body.limit + 1, offset=body.offset)
        return rows[:body.limit], len(rows) > body.limit
    end = body.offset + body.limit
    matched: list[ThreadRow] = []
    async for row in threads_of(rt, tenant, status=body.status, ids=body.ids,
                                sort_by=sort_by, sort_order=sort_order):
        if _matches(row, body):
            matched.append(row)
            if len(matched) > end:
                return matched[body.offset:end], True
    return matched[body.offset:], False


@router.post("/threads/search")
async def search_threads(body: ThreadSearch, rt: RuntimeDep, tenant: TenantDep) -> Response:
    """Threads matching metadata and values (containment), status and ids, with LangGraph's
    paging headers. Answered by stored_json, so that a thread stored with deep values is
    listed rather than breaking the search."""
    check_select(body.select, THREAD_FIELDS)
    check_extract(body.extract)
    page, more = await _page(rt, tenant, body)
    return stored_json([_found(r, body) for r in page],
                       pagination_headers(body.offset, len(page), more))


def _found(row: ThreadRow, body: ThreadSearch) -> dict[str, Any]:
    """One thread as the search answers it: its selected fields, and what it extracts."""
    whole = thread_json(row)
    out = {k: v for k, v in whole.items() if k in body.select} if body.select else whole
    if body.extract:
        out["extracted"] = extracted(whole, body.extract)
    return out


@router.post("/threads/count")
async def count_threads(body: ThreadCount, rt: RuntimeDep, tenant: TenantDep) -> int:
    """How many threads match."""
    return sum([_matches(r, body) async for r in threads_of(rt, tenant, status=body.status)])


@router.get("/threads/{thread_id}")
async def get_thread(thread_id: str, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    """One thread."""
    return thread_json(await require_thread(rt, tenant, thread_id))


@router.patch("/threads/{thread_id}")
async def patch_thread(thread_id: str, body: ThreadPatch, rt: RuntimeDep, tenant: TenantDep
                       ) -> dict[str, Any]:
    """Merge metadata into the thread's."""
    row = await rt.store.patch_thread(tenant, thread_id, body.metadata)
    if row is None:
        raise thread_not_found(thread_id)
    return thread_json(row)


@router.delete("/threads/{thread_id}", status_code=204)
async def delete_thread(thread_id: str, rt: RuntimeDep, tenant: TenantDep) -> Response:
    """Delete the thread, its runs (active ones are cancelled) and its checkpoints."""
    await require_thread(rt, tenant, thread_id)
    for run in await rt.store.list_runs(tenant, thread_id, limit=1000, offset=0,
                                        status="running"):
        await rt.store.cancel_run(tenant, thread_id, run.run_id, "interrupt")
        rt.signals.notify(f"cancel:{run.run_id}")
    if not await rt.store.delete_thread(tenant, thread_id):
        raise thread_not_found(thread_id)
    await rt.saver.adelete_thread(rt.checkpoint_thread(tenant, thread_id))
    return Response(status_code=204)


async def _copy_checkpoints(rt: Runtime, source: str, target: str) -> None:
    tuples: list[CheckpointTuple] = [t async for t in rt.saver.alist(
        {"configurable": {"thread_id": source}})]
    for tup in reversed(tuples):  # oldest first, so each parent exists before its child
        conf = tup.config["configurable"]
        ns = conf.get("checkpoint_ns", "")
        parent = (tup.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        put_config: dict[str, Any] = {"configurable": {"thread_id": target, "checkpoint_ns": ns}}
        if parent:
            put_config["configurable"]["checkpoint_id"] = parent
        saved = await rt.saver.aput(put_config, tup.checkpoint, tup.metadata,
                                    dict(tup.checkpoint.get("channel_versions", {})))
        by_task: dict[str, list[tuple[str, Any]]] = {}
        for task_id, channel, value in tup.pending_writes or ():
            by_task.setdefault(task_id, []).append((channel, value))
        for task_id, writes in by_task.items():
            await rt.saver.aput_writes(saved, writes, task_id)


@router.post("/threads/{thread_id}/copy")
async def copy_thread(thread_id: str, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    """A new thread with the thread's metadata and checkpoints."""
    source = await require_thread(rt, tenant, thread_id)
    new_id = str(uuid.uuid4())
    created = await rt.store.create_thread(tenant, new_id, dict(source.metadata),
                                           if_exists="raise")
    assert created is not None
    await _copy_checkpoints(rt, rt.checkpoint_thread(tenant, thread_id),
                            rt.checkpoint_thread(tenant, new_id))
    bound = graph_of(rt, source)
    if bound is not None:
        await refresh_thread(rt, tenant, created, bound)
    row = await require_thread(rt, tenant, new_id)
    return thread_json(row)


@router.get("/threads/{thread_id}/state")
async def get_state(thread_id: str, rt: RuntimeDep, tenant: TenantDep,
                    subgraphs: bool = False) -> dict[str, Any]:
    """The thread's latest state."""
    thread = await require_thread(rt, tenant, thread_id)
    return await read_state(rt, tenant, thread, subgraphs=subgraphs)


@router.get("/threads/{thread_id}/state/{checkpoint_id}")
async def get_state_at(thread_id: str, checkpoint_id: str, rt: RuntimeDep, tenant: TenantDep,
                       subgraphs: bool = False) -> dict[str, Any]:
    """The thread's state at one checkpoint. As on LangGraph's server, its `checkpoint` names
    the thread and the checkpoint id only (the namespace is the root's)."""
    thread = await require_thread(rt, tenant, thread_id)
    state = await read_state(rt, tenant, thread, checkpoint_id=checkpoint_id,
                             subgraphs=subgraphs)
    if isinstance(state.get("checkpoint"), dict):
        state["checkpoint"].pop("checkpoint_ns", None)
    return state


@router.post("/threads/{thread_id}/state/checkpoint")
async def post_state_at(thread_id: str, body: StateCheckpointRequest, rt: RuntimeDep,
                        tenant: TenantDep) -> dict[str, Any]:
    """The thread's state at the checkpoint given in the body."""
    thread = await require_thread(rt, tenant, thread_id)
    state = await read_state(rt, tenant, thread, checkpoint=body.checkpoint,
                             checkpoint_id=body.checkpoint.checkpoint_id,
                             subgraphs=body.subgraphs)
    return _select(state, body.select)


@router.post("/threads/{thread_id}/state")
async def update_state(thread_id: str, body: StateUpdate, rt: RuntimeDep, tenant: TenantDep
                       ) -> dict[str, Any]:
    """Update the state as node `as_node` would; answers the new checkpoint."""
    thread = await require_thread(rt, tenant, thread_id)
    if thread.status == "busy":
        raise HTTPException(409, f"Thread '{thread_id}' is busy: a run is pending or running. "
                            "Update its state once the run has finished (or cancel it).")
    bound = graph_of(rt, thread)
    if bound is None:
        raise HTTPException(400, f"Thread '{thread_id}' has no graph yet: start a run on it, "
                            "or create it with a graph_id, before updating its state.")
    config = _state_config(rt, tenant, thread_id, body.checkpoint, body.checkpoint_id)
    config["configurable"]["graph_id"] = bound.graph_id  # in the checkpoint's metadata
    if "checkpoint_id" in config["configurable"]:
        await require_checkpoint(rt, tenant, thread_id, config["configurable"]["checkpoint_id"],
                                 config["configurable"].get("checkpoint_ns", ""))
    try:
        saved = await bound.compiled.aupdate_state(config, body.values, as_node=body.as_node)
    except CheckpointConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    except (InvalidUpdateError, ValueError, KeyError) as exc:
        raise HTTPException(400, f"{type(exc).__name__}: {exc}") from None
    await refresh_thread(rt, tenant, thread, bound)
    checkpoint = checkpoint_json(saved, thread_id)
    return {"checkpoint": checkpoint, "configurable": checkpoint,
            "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None}


async def _history(rt: Runtime, tenant: str, thread_id: str, *, limit: int,
                   before: CheckpointRef | str | None, metadata: dict[str, Any] | None,
                   checkpoint: CheckpointRef | None) -> list[dict[str, Any]]:
    thread = await require_thread(rt, tenant, thread_id)
    bound = graph_of(rt, thread)
    if bound is None:
        return []
    config = _state_config(rt, tenant, thread_id, checkpoint)
    config["configurable"].setdefault("checkpoint_ns", "")
    before_id = before if isinstance(before, str) else (before.checkpoint_id if before else None)
    before_config = (_state_config(rt, tenant, thread_id, None, before_id)
                     if before_id else None)
    try:
        return [snapshot_json(s, thread_id) async for s in bound.compiled.aget_state_history(
            config, filter=metadata, before=before_config, limit=limit)]
    except ValueError as exc:  # the graph has no subgraph where the namespace points
        if not config["configurable"]["checkpoint_ns"]:
            raise
        raise HTTPException(404, f"Thread '{thread_id}' has no checkpoints in that namespace: "
                            f"{exc} Name a subgraph's namespace as the thread's state shows it "
                            "in tasks[].checkpoint.checkpoint_ns, or '' for the graph's "
                            "own.") from None


@router.post("/threads/{thread_id}/history")
async def post_history(thread_id: str, body: HistoryRequest, rt: RuntimeDep, tenant: TenantDep
                       ) -> list[dict[str, Any]]:
    """The thread's checkpoints as states, newest first."""
    states = await _history(rt, tenant, thread_id, limit=body.limit, before=body.before,
                            metadata=body.metadata, checkpoint=body.checkpoint)
    return [_select(s, body.select) for s in states]


@router.get("/threads/{thread_id}/history")
async def get_history(thread_id: str, rt: RuntimeDep, tenant: TenantDep, limit: int = 10,
                      before: str | None = None) -> list[dict[str, Any]]:
    """The thread's checkpoints as states, newest first (`before`: a checkpoint id)."""
    return await _history(rt, tenant, thread_id, limit=limit, before=before, metadata=None,
                          checkpoint=None)


@router.get("/threads/{thread_id}/stream")
async def join_thread_stream(thread_id: str, request: Request, rt: RuntimeDep,
                             tenant: TenantDep,
                             stream_modes: Annotated[list[str] | None, Query()] = None,
                             stream_mode: Annotated[list[str] | None, Query()] = None
                             ) -> StreamingResponse:
    """The thread's live output as SSE, open until the client leaves (see _thread_stream).
    `stream_modes` as LangGraph's server reads it, else `stream_mode` as langgraph-sdk sends
    it (LangGraph's server ignores that one); Last-Event-ID resumes."""
    thread = await require_thread(rt, tenant, thread_id)
    follower = await ThreadFollower.open(
        rt, thread, modes=thread_stream_modes(stream_modes or stream_mode or []),
        resume=parse_last_event_id(request.headers.get("last-event-id")),
        state_at=lambda row, checkpoint_id: read_state(rt, tenant, row,
                                                       checkpoint_id=checkpoint_id))
    return StreamingResponse(follower.events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})


@router.post("/threads/prune")
async def prune_threads(body: ThreadPrune, rt: RuntimeDep, tenant: TenantDep
                        ) -> dict[str, int]:
    """Delete the threads ('delete'), or all their checkpoints but the latest ('keep_latest');
    answers how many there were. One missing (or another tenant's) is not counted, as on
    LangGraph's server."""
    if body.strategy == "delete":
        return {"pruned_count": sum([await _deleted(rt, tenant, t) for t in body.thread_ids])}
    found = [await rt.store.get_thread(tenant, t) for t in body.thread_ids]
    threads = [t for t in found if t is not None]
    busy = [t.thread_id for t in threads if t.status == "busy"]
    if busy:
        raise HTTPException(409, f"Threads {busy} are busy: a run is pending or running, and "
                            "keep_latest would delete the checkpoint it started from. Prune "
                            "them once their runs have finished (or cancel the runs).")
    for thread in threads:
        await rt.saver.aprune(rt.checkpoint_thread(tenant, thread.thread_id), keep_last=1)
    return {"pruned_count": len(threads)}


async def _deleted(rt: Runtime, tenant: str, thread_id: str) -> bool:
    """Delete the thread as DELETE /threads/{thread_id} does; False when it is missing."""
    try:
        await delete_thread(thread_id, rt, tenant)
    except HTTPException as exc:
        if exc.status_code != 404:
            raise
        return False
    return True
