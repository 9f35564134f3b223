"""The request path's shortcuts answer as the long way did: the routers' routes added to the
app one by one (`_flat_routes`) serve the same OpenAPI schema and the same answers as
include_router's, and a runs/wait whose run this process executed answers, without reading
the run back, what a read of the run gives (the answer runs/wait builds from the stored run)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any, TypedDict

import pytest

pytest.importorskip("fastapi")

import httpx
from _ask_done import ask_then_done
from fastapi import FastAPI
from fastapi.responses import JSONResponse

import hitlgraph.server.app as app_module
from hitlgraph.graph import StateGraph
from hitlgraph.server import ServerSettings, create_app
from hitlgraph.server.routes import runs as runs_routes
from hitlgraph.types import interrupt


class _State(TypedDict, total=False):
    payload: str
    counts: dict[str, Any]
    answer: Any
    result: str


def _ask(state: _State) -> _State:
    return {"answer": interrupt({"check": state["payload"], "n": [1, 2.5, None, True]})}


def _done(state: _State) -> _State:
    return {"result": f"{state['payload']}:{state['answer']}", "counts": {"é": 1, "x": [0.1]}}


def _builder() -> StateGraph:
    return ask_then_done(_State, _ask, _done)


def _settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(graphs={"review": _builder()}, db=str(tmp_path / "s.sqlite"),
                          read_env=False)


def _included_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The app as built before: each router included."""
    with monkeypatch.context() as patch:
        patch.setattr(app_module, "add_routes", lambda app, router: app.include_router(router))
        return create_app(_settings(tmp_path))


def test_the_openapi_schema_is_the_included_routers_one(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    flat = create_app(_settings(tmp_path))
    included = _included_app(tmp_path, monkeypatch)
    assert json.dumps(flat.openapi()) == json.dumps(included.openapi())


async def _answers(app: FastAPI, requests: list[tuple[str, str, Any]]
                   ) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    transport = httpx.ASGITransport(app=app)
    out = []
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        for method, url, body in requests:
            answer = await http.request(method, url, json=body)
            out.append((answer.status_code, sorted(answer.headers.items()), answer.content))
    return out


def test_routing_answers_as_with_included_routers(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    tid = str(uuid.uuid4())
    requests: list[tuple[str, str, Any]] = [
        ("PATCH", f"/threads/{tid}/state", {}),  # 405: GET and POST only
        ("PUT", "/threads", {}),
        ("DELETE", "/runs/crons/search", None),  # 422: "search" is no cron id
        ("POST", "/threads/not-an-id/runs/wait", {"assistant_id": "review"}),  # 422
        ("POST", f"/threads/{tid}/runs/crons/x", {}),  # 404: no such route
        ("GET", "/nowhere", None),
        ("GET", "/ok", None),
        ("GET", "/threads/", None)]
    flat = asyncio.run(_answers(create_app(_settings(tmp_path)), requests))
    included = asyncio.run(_answers(_included_app(tmp_path, monkeypatch), requests))
    assert flat == included
    assert [status for status, _, _ in flat] == [405, 405, 422, 422, 404, 404, 200, 307]


async def _wait_then_read(app: FastAPI, reads: list[str]) -> list[tuple[bytes, bytes]]:
    """(runs/wait's body, the body runs/wait builds from the run read back) of a create and of
    a resume."""
    out = []
    async with app.router.lifespan_context(app):
        rt = app.state.runtime
        get_run = rt.store.get_run

        async def counted(*args: Any, **kwargs: Any) -> Any:
            reads.append("get_run")
            return await get_run(*args, **kwargs)

        rt.store.get_run = counted
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            tid = (await http.post("/threads", json={})).json()["thread_id"]
            for body in ({"input": {"payload": "p"}}, {"command": {"resume": {"ok": 1}}}):
                answer = await http.post(f"/threads/{tid}/runs/wait",
                                         json={"assistant_id": "review", **body})
                assert answer.status_code == 200, answer.text
                reads.append("wait")
                run_id = answer.headers["content-location"].rsplit("/", 1)[-1]
                row = await rt.store.get_run("", run_id, tid)
                read = JSONResponse(await runs_routes._result(rt, "", row, tid)).body
                out.append((answer.content, bytes(read)))
    return out


def test_a_wait_answers_what_reading_its_run_gives(tmp_path: Path) -> None:
    reads: list[str] = []
    (created, created_read), (resumed, resumed_read) = asyncio.run(
        _wait_then_read(create_app(_settings(tmp_path)), reads))
    assert created == created_read
    assert resumed == resumed_read
    assert json.loads(created)["__interrupt__"][0]["value"] == {
        "check": "p", "n": [1, 2.5, None, True]}
    assert json.loads(resumed)["result"] == "p:{'ok': 1}"
    # Each wait (noted as it answered) read no run; the reads after them did.
    assert reads == ["wait", "get_run", "wait", "get_run"]
