"""Routes whose dependencies only read the request have them solved as one
(server/_request_deps.py): the same values, order, caching and refusals as FastAPI's."""

# (no `from __future__ import annotations`: the routes below are local functions whose
# annotations FastAPI must evaluate)
import asyncio
from typing import Annotated

import httpx
import pytest

pytest.importorskip("fastapi")

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel

from hitlgraph.server._flat_routes import add_routes


class Body(BaseModel):
    n: int


def _app(calls: list[str]) -> FastAPI:
    async def checked_id(request: Request) -> None:
        calls.append("checked_id")
        if request.path_params.get("item_id", "ok").startswith("bad"):
            raise HTTPException(422, "bad id")

    async def who(request: Request) -> str:
        calls.append("who")
        return request.headers.get("x-who", "nobody")

    router = APIRouter(dependencies=[Depends(checked_id)])

    @router.post("/items/{item_id}")
    async def post_item(item_id: str, body: Body, by: Annotated[str, Depends(who)],
                        again: Annotated[str, Depends(who)], q: int = 0) -> dict[str, object]:
        return {"item_id": item_id, "n": body.n, "by": by, "again": again, "q": q}

    @router.get("/items/{item_id}")
    async def get_item(item_id: str, request: Request, by: Annotated[str, Depends(who)],
                       q: int = 0) -> dict[str, object]:
        return {"item_id": item_id, "by": by, "q": q, "path": request.url.path}

    app = FastAPI()
    add_routes(app, router)
    return app


def _post(app: FastAPI, path: str, json: object) -> httpx.Response:
    return _send(app, "POST", path, json)


def _get(app: FastAPI, path: str) -> httpx.Response:
    return _send(app, "GET", path, None)


def _send(app: FastAPI, method: str, path: str, json: object) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.request(method, path, json=json, headers={"x-who": "ann"})
    return asyncio.run(send())


def test_request_only_dependencies_give_their_values_each_solved_once() -> None:
    calls: list[str] = []
    answer = _post(_app(calls), "/items/a1?q=3", {"n": 2})
    assert answer.status_code == 200
    assert answer.json() == {"item_id": "a1", "n": 2, "by": "ann", "again": "ann", "q": 3}
    assert calls == ["checked_id", "who"]


def test_a_dependency_refusal_comes_before_the_body_validation_as_in_fastapi() -> None:
    answer = _post(_app([]), "/items/bad", {"n": "not a number"})
    assert (answer.status_code, answer.json()) == (422, {"detail": "bad id"})


def test_invalid_parameters_are_refused_after_the_dependencies_ran() -> None:
    calls: list[str] = []
    answer = _post(_app(calls), "/items/a1", {"n": "not a number"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "n"]
    assert calls == ["checked_id", "who"]


def test_a_route_without_a_body_gets_the_values_and_its_own_request() -> None:
    calls: list[str] = []
    answer = _get(_app(calls), "/items/a1?q=4")
    assert answer.json() == {"item_id": "a1", "by": "ann", "q": 4, "path": "/items/a1"}
    assert calls == ["checked_id", "who"]


def test_without_a_body_a_dependency_refusal_still_comes_before_parameter_errors() -> None:
    assert _get(_app([]), "/items/bad?q=x").json() == {"detail": "bad id"}
    assert _get(_app([]), "/items/a1?q=x").json()["detail"][0]["loc"] == ["query", "q"]


def test_dependency_overrides_are_honoured() -> None:
    app = _app([])
    route = app.routes[-2]
    assert isinstance(route, APIRoute)
    route_who = next(d.call for d in route.dependant.dependencies if d.name == "by")
    assert route_who is not None

    async def other(request: Request) -> str:
        return "override"

    app.dependency_overrides[route_who] = other
    answer = _post(app, "/items/a1", {"n": 1})
    assert answer.json()["by"] == "override"
