"""Runs: background, wait and stream; stateful (on a thread) and stateless; join, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from hitlgraph.server._create_here import create_run_here
from hitlgraph.server._ids import canonical_uuid
from hitlgraph.server._json import dumps
from hitlgraph.server._more_schemas import RunBatch, RunBatchItem
from hitlgraph.server._paging import MAX_OFFSET
from hitlgraph.server._runtime import Runtime
from hitlgraph.server._select import RUN_FIELDS, check_select
from hitlgraph.server._state import run_json
from hitlgraph.server._store_items_nodes import run_context
from hitlgraph.server._time_ids import uuid7
from hitlgraph.server._typed_answers import NeedsMore, ResumeCheck, read_waiting
from hitlgraph.server._webhooks import WebhookRefusedError, check
from hitlgraph.server.routes._deps import (
    CallerDep,
    DeciderDep,
    RuntimeDep,
    TenantDep,
    require_thread,
    valid_path_ids,
)
from hitlgraph.server.routes.threads import require_checkpoint
from hitlgraph.server.schemas import RunCreate, RunCreateStateless
from hitlgraph.server.sse import follow_run
from hitlgraph.server.store._assistants import ConfigAndContextError, for_run
from hitlgraph.server.store.base import (
    TERMINAL,
    AssistantRow,
    Claim,
    NewRun,
    RunRow,
    ThreadBusyError,
)

__all__ = ["router"]

router = APIRouter(tags=["runs"], dependencies=[Depends(valid_path_ids)])

_KWARGS = {"input", "config", "context", "stream_mode", "stream_subgraphs", "interrupt_before",
           "interrupt_after", "durability", "on_disconnect", "checkpoint_id"}
"""The body's fields a run keeps in its kwargs (dumped alone, in the model's order)."""


def _run_not_found(run_id: str) -> HTTPException:
    return HTTPException(404, f"Run '{run_id}' not found.")


def _check_breakpoints(rt: Runtime, graph_id: str, body: RunCreateStateless) -> None:
    nodes = set(rt.graph(graph_id).compiled.nodes)
    for field in ("interrupt_before", "interrupt_after"):
        names = getattr(body, field)
        if isinstance(names, list):
            unknown = [n for n in names if n not in nodes]
            if unknown:
                known = sorted(nodes - {"__start__"})
                raise HTTPException(422, f"{field} names {unknown}, which graph '{graph_id}' "
                                    f"does not have; its nodes are {known}.")


async def _check_resume(rt: Runtime, tenant: str, thread_id: str, body: RunCreateStateless,
                        by: str | None, member_of: frozenset[str] | None) -> None:
    """Refuse a resume that nothing waits for now (409), or that `ResumeCheck` refuses
    (422, 403), reading the thread for it. A thread whose state was edited while a node
    waited at interrupt() takes the answer for that node (the library decides, as LangGraph
    does); so does a resume from a named checkpoint, whose interrupts may not be the
    thread's now (only the 409 is judged for it)."""
    if body.command is None or "resume" not in body.command.model_fields_set:
        return
    thread = await rt.store.get_thread(tenant, thread_id)
    if thread is None or thread.status == "busy":
        return
    named = isinstance(body, RunCreate) and bool(body.checkpoint_id or body.checkpoint)
    if thread.interrupts and named:
        return
    check = ResumeCheck(thread_id, body.command.resume, by, member_of)
    if thread.interrupts:
        check.waiting = await read_waiting(rt.saver, rt.checkpoint_thread(tenant, thread_id))
    if check.judged(thread) or await _edited_last(rt, tenant, thread_id):
        return
    raise HTTPException(409, f"Thread '{thread_id}' has no interrupt waiting for an answer "
                        f"(its status is '{thread.status}'): it was answered already, or never "
                        f"asked. Read GET /threads/{thread_id}/state; to continue from a "
                        "breakpoint, send input null without a command.")


def _resume_check(thread_id: str, body: RunCreateStateless, by: str | None,
                  member_of: frozenset[str] | None) -> ResumeCheck | None:
    """The run's check when the body is a resume (None otherwise)."""
    if body.command is None or "resume" not in body.command.model_fields_set:
        return None
    return ResumeCheck(thread_id, body.command.resume, by, member_of)


async def _edited_last(rt: Runtime, tenant: str, thread_id: str) -> bool:
    """Whether the thread's latest checkpoint was made by update_state."""
    latest = await rt.saver.aget_tuple(
        {"configurable": {"thread_id": rt.checkpoint_thread(tenant, thread_id)}})
    return latest is not None and (latest.metadata or {}).get("source") == "update"


async def _check_checkpoint(rt: Runtime, tenant: str, thread_id: str, body: RunCreate,
                            create: bool) -> None:
    """A run from a checkpoint the thread does not have answers 404 now, as reading that
    checkpoint's state does, instead of a run that fails naming the checkpointer's thread."""
    checkpoint_id = body.checkpoint_id or (body.checkpoint.checkpoint_id
                                           if body.checkpoint is not None else None)
    if not checkpoint_id:
        return
    if not create and await rt.store.get_thread(tenant, thread_id) is None:
        return  # the store's 404 for the thread comes first
    await require_checkpoint(rt, tenant, thread_id, checkpoint_id,
                             body.checkpoint.checkpoint_ns if body.checkpoint else "")


async def _run_assistant(rt: Runtime, tenant: str, assistant_id: str) -> AssistantRow:
    """The run's assistant. One not found answers 404 when named by a UUID (LangGraph's
    server: "Thread or assistant not found"), and 422 otherwise (neither a UUID nor a graph
    id: LangGraph's "Invalid assistant")."""
    try:
        return await rt.find_assistant(tenant, assistant_id)
    except HTTPException as exc:
        if canonical_uuid(assistant_id) is not None:
            raise
        raise HTTPException(422, exc.detail) from None


def _settings(rt: Runtime, assistant: AssistantRow, body: RunCreateStateless
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's config and context, over its assistant's, as LangGraph's server runs them:
    the context holds only the keys the graph's context_schema declares (all of them
    without one). When the run itself gives a context, the keys left out of it are left
    out of config["configurable"] too, where the context is mirrored (unless configurable
    gives such a key another value); a run that gives configurable keeps them all there."""
    try:
        config, context = for_run(assistant, body.config, body.context)
    except ConfigAndContextError as exc:
        raise HTTPException(400, str(exc)) from None
    declared = run_context(rt.graph(assistant.graph_id), context)
    if not body.context:
        return config, declared
    configurable = config["configurable"]
    dropped = {k for k in context.keys() - declared.keys() if configurable.get(k) == context[k]}
    return ({**config, "configurable": {k: v for k, v in configurable.items()
                                        if k not in dropped}}, declared)


async def _webhook(url: str) -> str:
    """The run's webhook, once it is known to point where the server may call (422)."""
    try:
        await check(url)
    except WebhookRefusedError as exc:
        raise HTTPException(422, str(exc)) from None
    return url


async def create_run(rt: Runtime, tenant: str, body: RunCreateStateless,
                     thread_id: str | None, *, by: str | None = None,
                     member_of: frozenset[str] | None = None,
                     here: Literal["wait", "stream"] | None = None) -> RunRow:
    """Queue the run the body describes; stateless (a temporary thread) when thread_id is
    None. `by` is who answers with the body's command (recorded as the run's "decided_by",
    for the decision log), never a name from the body. With `here` (how the caller waits
    for it), this process runs it at once when it can (see `_queue`)."""
    assistant = await _run_assistant(rt, tenant, body.assistant_id)
    _check_breakpoints(rt, assistant.graph_id, body)
    kwargs: dict[str, Any] = body.model_dump(mode="json", include=_KWARGS)
    kwargs["config"], kwargs["context"] = _settings(rt, assistant, body)
    if body.webhook is not None:
        kwargs["webhook"] = await _webhook(body.webhook)
    if body.command is not None:
        kwargs["command"] = body.command.model_dump(mode="json", exclude_unset=True)
        kwargs["decided_by"] = by
        if member_of is not None:
            kwargs["decided_in"] = sorted(member_of)
    if isinstance(body, RunCreate) and body.checkpoint is not None:
        kwargs["checkpoint"] = body.checkpoint.model_dump(mode="json")
    stateless = thread_id is None
    create = stateless or (isinstance(body, RunCreate) and body.if_not_exists == "create")
    named = isinstance(body, RunCreate) and bool(body.checkpoint_id or body.checkpoint)
    check = None
    if thread_id is None:
        thread_id = uuid7()
    elif create or named:  # (their checks come in this order, before the transaction)
        await _check_resume(rt, tenant, thread_id, body, by, member_of)
    else:
        check = _resume_check(thread_id, body, by, member_of)
    strategy = body.multitask_strategy if isinstance(body, RunCreate) else "enqueue"
    if isinstance(body, RunCreate) and not stateless:
        await _check_checkpoint(rt, tenant, thread_id, body, create)
    new = NewRun(tenant=tenant, run_id=uuid7(), thread_id=thread_id,
                 assistant_id=assistant.assistant_id, graph_id=assistant.graph_id,
                 metadata=body.metadata or {}, kwargs=kwargs, multitask_strategy=strategy,
                 temporary=stateless, on_completion=body.on_completion,
                 assistant_metadata=assistant.metadata, check=check)
    try:
        return await _queue(rt, new, create, here, check)
    except NeedsMore:  # (nothing was written: judged as before, then queued unchecked)
        await _check_resume(rt, tenant, thread_id, body, by, member_of)
        return await _queue(rt, replace(new, check=None), create, here, None)


async def _queue(rt: Runtime, new: NewRun, create: bool,
                 here: Literal["wait", "stream"] | None, check: ResumeCheck | None
                 ) -> RunRow:
    """Queue the run; with `here` (a client waits on this process for it), claim it in the
    same transaction when it is free to start and a slot is free, and execute it on this
    process at once (see server/_worker_inline). `check` (the run's own) is given the
    thread's open interrupts first: for a run claimed so, in the creating transaction,
    with the claim's fence, read and start point, where the backend can (see
    server/_create_here.py); otherwise read before it."""
    runner = rt.here if here and rt.here is not None and rt.here.take() else None
    lease = None if runner is None else (runner.worker_id, rt.settings.lease_seconds)
    metadata = {"graph_id": new.graph_id, "assistant_id": new.assistant_id}
    row: RunRow | None = None
    started = None
    try:
        made = None if lease is None else await create_run_here(
            rt, new, create_thread=create, thread_metadata=metadata, lease=lease,
            waiting=None if check is None else check.given)
        if made is not None:
            row, started = made
        else:
            if check is not None:
                check.given(await read_waiting(
                    rt.saver, rt.checkpoint_thread(new.tenant, new.thread_id)))
            row = await rt.store.create_run(new, create_thread=create, lease=lease,
                                            thread_metadata=metadata)
    except ThreadBusyError as exc:
        raise HTTPException(409, str(exc)) from None
    finally:
        if runner is not None and (row is None or row.status != "running"):
            runner.give_back()
    if row is None:
        raise HTTPException(404, f"Thread '{new.thread_id}' not found. Create it first (POST "
                            "/threads), or send if_not_exists 'create'.")
    if runner is not None and row.status == "running":
        runner.start(Claim(run=row, fencing=row.fencing, worker_id=runner.worker_id),
                     followed=here == "stream", started=started)
    else:
        rt.signals.notify("queue")
    return row


async def wait_for_run(rt: Runtime, tenant: str, run_id: str,
                       request: Request | None = None,
                       on_disconnect: Callable[[], None] | None = None,
                       started: asyncio.Event | None = None,
                       box: list[RunRow] | None = None) -> RunRow | None:
    """The run once it has finished (None when it was deleted meanwhile). Whether the client
    left is asked after each wait that timed out (every poll_seconds), not at each wake-up
    by the run's events: a question to the ASGI server each time. `started`: the run's
    watch, taken when this process began executing it (nothing could have ended it yet),
    so the first read, which could only find it running, is left out; `box`: where its
    worker puts the run once the store recorded its end (HereRuns.expect), instead of
    reading it back."""
    polled = False
    while True:
        if box:
            return box[0]
        if started is not None:
            woken, started = started, None
        else:
            woken = rt.signals.watch(f"run:{run_id}")
            row = await rt.store.get_run(tenant, run_id)
            if row is None or row.status in TERMINAL:
                return row
        if polled and request is not None and await request.is_disconnected():
            if on_disconnect is not None:
                on_disconnect()
            return row
        await rt.signals.wait(woken, rt.settings.poll_seconds)
        polled = not woken.is_set()


def _locations(row: RunRow, stateless: bool) -> dict[str, str]:
    if stateless:
        return {"Content-Location": f"/runs/{row.run_id}"}
    base = f"/threads/{row.thread_id}/runs/{row.run_id}"
    return {"Location": f"{base}/stream", "Content-Location": base}


async def _cancel(rt: Runtime, tenant: str, row: RunRow,
                  action: Literal["interrupt", "rollback"]) -> None:
    await rt.store.cancel_run(tenant, row.thread_id, row.run_id, action)
    rt.signals.notify(f"cancel:{row.run_id}")
    rt.signals.notify(f"run:{row.run_id}")


def _cancel_later(rt: Runtime, tenant: str, row: RunRow) -> Callable[[], None]:
    def go() -> None:
        rt.spawn(_cancel(rt, tenant, row, "interrupt"))
    return go


async def _result(rt: Runtime, tenant: str, row: RunRow | None, thread_id: str) -> Any:
    """What wait and join answer: the run's output; 409 when its resume could not apply, 422
    when its answer did not match the interrupt's response_schema."""
    if row is None:
        thread = await rt.store.get_thread(tenant, thread_id)
        return thread.values if thread is not None else None
    if row.status == "error" and row.error is not None:
        if row.error.get("status_code") in (409, 422):
            raise HTTPException(row.error["status_code"], row.error.get("message", "conflict"))
        return {"__error__": {"error": row.error.get("error"),
                              "message": row.error.get("message")}}
    if row.output is None and row.status != "success":
        thread = await rt.store.get_thread(tenant, thread_id)
        return thread.values if thread is not None else None
    return row.output


async def _wait(rt: Runtime, tenant: str, request: Request, body: RunCreateStateless,
                thread_id: str | None, by: str | None,
                member_of: frozenset[str] | None = None) -> Response:
    row = await create_run(rt, tenant, body, thread_id, by=by, member_of=member_of,
                           here="wait")
    # A new run is "running" only when this process claimed it to execute it at once; its
    # task has not taken a step since (no await in between), so nothing has ended it yet.
    started = box = None
    if row.status == "running" and rt.here is not None:
        started, box = rt.signals.watch(f"run:{row.run_id}"), rt.here.expect(row.run_id)
    cancel = _cancel_later(rt, tenant, row) if body.on_disconnect == "cancel" else None
    return await _when_done(rt, tenant, row.run_id, row.thread_id, request, cancel,
                            _locations(row, thread_id is None), started, box)


async def _when_done(rt: Runtime, tenant: str, run_id: str, thread_id: str, request: Request,
                     on_disconnect: Callable[[], None] | None,
                     headers: dict[str, str] | None = None,
                     started: asyncio.Event | None = None,
                     box: list[RunRow] | None = None) -> Response:
    """The run's result once it has finished. A run still going after keepalive_seconds gets
    a 200 at once, a newline every keepalive_seconds, then its result (JSON parsers skip the
    leading whitespace): the status is sent by then, so a resume that could not apply is an
    `__error__` body instead of a 409, as LangGraph's server answers it."""
    waiting = asyncio.ensure_future(wait_for_run(rt, tenant, run_id, request, on_disconnect,
                                                 started, box))
    every = rt.settings.keepalive_seconds
    done, _ = await asyncio.wait({waiting}, timeout=every)
    if done:
        return JSONResponse(await _result(rt, tenant, waiting.result(), thread_id),
                            headers=headers)

    async def body() -> AsyncIterator[bytes]:
        try:
            while not waiting.done():
                await asyncio.wait({waiting}, timeout=every)
                if not waiting.done():
                    yield b"\n"
            try:
                content = await _result(rt, tenant, waiting.result(), thread_id)
            except HTTPException as exc:
                content = {"__error__": {"error": "Conflict", "message": exc.detail}}
            yield dumps(content).encode()
        finally:
            waiting.cancel()

    return StreamingResponse(body(), media_type="application/json", headers=headers)


def _stream(rt: Runtime, tenant: str, row: RunRow, *, stateless: bool, cancel_on_close: bool,
            after_seq: int = 0, modes: list[str] | None = None) -> StreamingResponse:
    def on_close(finished: bool) -> None:
        if not finished and cancel_on_close:
            rt.spawn(_cancel(rt, tenant, row, "interrupt"))

    return StreamingResponse(
        follow_run(rt, tenant, row.run_id, after_seq=after_seq, modes=modes,
                   on_close=on_close),
        media_type="text/event-stream",
        headers={**_locations(row, stateless), "Cache-Control": "no-store"})


# -- stateful --------------------------------------------------------------------------------

@router.post("/threads/{thread_id}/runs")
async def create_background_run(thread_id: str, body: RunCreate, caller: CallerDep
                                ) -> JSONResponse:
    """Queue a run; answers it (status 'pending') at once."""
    row = await create_run(caller.rt, caller.tenant, body, thread_id, by=caller.by,
                           member_of=caller.member_of)
    return JSONResponse(run_json(row), headers=_locations(row, False))


@router.post("/threads/{thread_id}/runs/wait")
async def create_run_wait(thread_id: str, body: RunCreate, request: Request,
                          caller: CallerDep) -> Response:
    """Run and answer the thread's values at its end (with "__interrupt__" when paused)."""
    return await _wait(caller.rt, caller.tenant, request, body, thread_id, caller.by,
                       caller.member_of)


@router.post("/threads/{thread_id}/runs/stream")
async def create_run_stream(thread_id: str, body: RunCreate, caller: CallerDep
                            ) -> StreamingResponse:
    """Run and stream its events as SSE."""
    row = await create_run(caller.rt, caller.tenant, body, thread_id, by=caller.by,
                           member_of=caller.member_of, here="stream")
    return _stream(caller.rt, caller.tenant, row, stateless=False,
                   cancel_on_close=body.on_disconnect == "cancel")


@router.get("/threads/{thread_id}/runs")
async def list_runs(thread_id: str, rt: RuntimeDep, tenant: TenantDep,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
                    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
                    status: str | None = None,
                    select: Annotated[list[str] | None, Query()] = None
                    ) -> list[dict[str, Any]]:
    """The thread's runs, newest first (only the `select`ed fields, when given)."""
    check_select(select, RUN_FIELDS)
    await require_thread(rt, tenant, thread_id)
    rows = await rt.store.list_runs(tenant, thread_id, limit=limit, offset=offset,
                                    status=status)
    return [{k: v for k, v in run_json(r).items() if not select or k in select}
            for r in rows]


async def _require_run(rt: Runtime, tenant: str, thread_id: str, run_id: str) -> RunRow:
    row = await rt.store.get_run(tenant, run_id, thread_id)
    if row is None:
        raise _run_not_found(run_id)
    return row


@router.get("/threads/{thread_id}/runs/{run_id}")
async def get_run(thread_id: str, run_id: str, rt: RuntimeDep, tenant: TenantDep
                  ) -> dict[str, Any]:
    """One run."""
    return run_json(await _require_run(rt, tenant, thread_id, run_id))


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(thread_id: str, run_id: str, request: Request, rt: RuntimeDep,
                   tenant: TenantDep) -> Response:
    """Wait for the run to finish; answer its result as runs/wait does. A run that had
    already ended when the join came is answered from its thread, as LangGraph's server does
    once the run's stream is gone (see `_ended_result`)."""
    row = await _require_run(rt, tenant, thread_id, run_id)
    if row.status not in ("pending", "running"):
        return JSONResponse(await _ended_result(rt, tenant, row, thread_id))
    return await _when_done(rt, tenant, run_id, thread_id, request, None)


async def _ended_result(rt: Runtime, tenant: str, row: RunRow, thread_id: str) -> Any:
    """A late join's answer: the thread's error, else its open interrupts alone (without the
    values), else its values ({} when it has none). A resume that could not apply keeps its
    409/422, as for a join that waited; a run whose thread is gone (a stateless run's,
    deleted as it ended) answers its own output, as before."""
    if row.status == "error" and row.error is not None and row.error.get(
            "status_code") in (409, 422):
        return await _result(rt, tenant, row, thread_id)
    thread = await rt.store.get_thread(tenant, thread_id)
    if thread is None:
        return await _result(rt, tenant, row, thread_id)
    if thread.status == "error" and thread.error is not None:
        return {"__error__": thread.error}
    if thread.status == "interrupted":
        waiting = [one for each in thread.interrupts.values() for one in each]
        if waiting:
            return {"__interrupt__": waiting}
    return thread.values or {}


@router.get("/threads/{thread_id}/runs/{run_id}/stream")
async def join_run_stream(thread_id: str, run_id: str, request: Request, rt: RuntimeDep,
                          tenant: TenantDep,
                          stream_mode: Annotated[list[str] | None, Query()] = None,
                          cancel_on_disconnect: bool = False) -> StreamingResponse:
    """The run's events as SSE: from the start (or after Last-Event-ID) until it ends."""
    row = await _require_run(rt, tenant, thread_id, run_id)
    last = request.headers.get("last-event-id", "")
    return _stream(rt, tenant, row, stateless=False, cancel_on_close=cancel_on_disconnect,
                   after_seq=int(last) if last.isdigit() else 0,
                   modes=[m for m in stream_mode or () if m] or None)


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", status_code=204)
async def cancel_run(thread_id: str, run_id: str, request: Request, rt: RuntimeDep,
                     tenant: TenantDep, wait: bool = False,
                     action: Literal["interrupt", "rollback"] = "interrupt") -> Response:
    """Cancel a pending or running run ('rollback' also deletes it)."""
    row = await _require_run(rt, tenant, thread_id, run_id)
    await _cancel(rt, tenant, row, action)
    if wait:
        await wait_for_run(rt, tenant, run_id, request)
    return Response(status_code=204)


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204)
async def delete_run(thread_id: str, run_id: str, rt: RuntimeDep, tenant: TenantDep
                     ) -> Response:
    """Delete a finished run (an active one answers 409: cancel it first)."""
    row = await _require_run(rt, tenant, thread_id, run_id)
    if row.status not in TERMINAL:
        raise HTTPException(409, f"Run '{run_id}' is {row.status}: cancel it first (POST "
                            f"/threads/{thread_id}/runs/{run_id}/cancel).")
    await rt.store.delete_run(tenant, thread_id, run_id)
    return Response(status_code=204)


# -- stateless -------------------------------------------------------------------------------

@router.post("/runs")
async def create_stateless_run(body: RunCreateStateless, rt: RuntimeDep, tenant: TenantDep,
                               by: DeciderDep) -> JSONResponse:
    """Queue a run on a new temporary thread."""
    row = await create_run(rt, tenant, body, None, by=by)
    return JSONResponse(run_json(row), headers=_locations(row, True))


@router.post("/runs/wait")
async def create_stateless_run_wait(body: RunCreateStateless, request: Request,
                                    rt: RuntimeDep, tenant: TenantDep, by: DeciderDep
                                    ) -> Response:
    """Run on a temporary thread; answer its values at the end."""
    return await _wait(rt, tenant, request, body, None, by)


@router.post("/runs/stream")
async def create_stateless_run_stream(body: RunCreateStateless, rt: RuntimeDep,
                                      tenant: TenantDep, by: DeciderDep) -> StreamingResponse:
    """Run on a temporary thread and stream its events."""
    row = await create_run(rt, tenant, body, None, by=by, here="stream")
    return _stream(rt, tenant, row, stateless=True,
                   cancel_on_close=body.on_disconnect == "cancel")


@router.post("/runs/batch")
async def create_run_batch(body: RunBatch, rt: RuntimeDep, tenant: TenantDep,
                           by: DeciderDep) -> list[dict[str, Any]]:
    """Queue several runs, each on a new temporary thread as POST /runs does; answers them
    in the order sent. Every run is checked before any is queued, so a refused one (its
    error says which) queues none."""
    for number, item in enumerate(body.root, start=1):
        await _check_batch_item(rt, tenant, item, f"Run {number} of {len(body.root)}")
    return [run_json(await create_run(rt, tenant, item, None, by=by)) for item in body.root]


async def _check_batch_item(rt: Runtime, tenant: str, item: RunBatchItem, which: str) -> None:
    """What create_run would refuse about the item, said of it by `which`."""
    try:
        assistant = await _run_assistant(rt, tenant, item.assistant_id)
        _check_breakpoints(rt, assistant.graph_id, item)
        _settings(rt, assistant, item)
    except HTTPException as exc:
        raise HTTPException(exc.status_code, f"{which} in the batch: {exc.detail}") from None
