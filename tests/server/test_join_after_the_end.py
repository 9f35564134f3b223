"""GET .../runs/{run_id}/join for a run that had already ended (hitlgraph alone; the same at
LangGraph's server: tests/server/compat/test_compat_join_late.py): a paused thread's run
answers the thread's interrupts alone, and a stateless run, whose thread was deleted as it
ended, answers its own output."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TypedDict

import pytest

pytest.importorskip("fastapi")

import httpx

from hitlgraph.graph import START, StateGraph
from hitlgraph.server import ServerSettings, create_app
from hitlgraph.types import interrupt


class _State(TypedDict, total=False):
    v: str
    out: str


def _ask(state: _State) -> _State:
    return {"out": str(interrupt({"check": state["v"]}))}


def _plain(state: _State) -> _State:
    return {"out": "done:" + state["v"]}


def _app(tmp_path: Path) -> Any:
    graphs = {}
    for name, node in (("ask", _ask), ("plain", _plain)):
        builder = StateGraph(_State)
        builder.add_node("n", node)
        builder.add_edge(START, "n")
        graphs[name] = builder
    return create_app(ServerSettings(graphs=graphs, db=str(tmp_path / "s.sqlite"),
                                     read_env=False))


async def _ended(http: httpx.AsyncClient, tid: str, rid: str) -> None:
    for _ in range(400):
        if (await http.get(f"/threads/{tid}/runs/{rid}")).json()["status"] not in (
                "pending", "running"):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the run did not end")


async def _late_joins(tmp_path: Path) -> tuple[Any, Any]:
    app = _app(tmp_path)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            tid = (await http.post("/threads", json={})).json()["thread_id"]
            run = (await http.post(f"/threads/{tid}/runs",
                                   json={"assistant_id": "ask", "input": {"v": "a"}})).json()
            await _ended(http, tid, run["run_id"])
            paused = (await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")).json()
            run = (await http.post("/runs", json={"assistant_id": "plain",
                                                  "input": {"v": "b"}})).json()
            await _ended(http, run["thread_id"], run["run_id"])
            assert (await http.get(f"/threads/{run['thread_id']}")).status_code == 404
            stateless = (await http.get(
                f"/threads/{run['thread_id']}/runs/{run['run_id']}/join")).json()
    return paused, stateless


def test_a_late_join_answers_the_paused_threads_interrupts_or_a_stateless_runs_output(
        tmp_path: Path) -> None:
    paused, stateless = asyncio.run(_late_joins(tmp_path))
    assert list(paused) == ["__interrupt__"]
    assert [one["value"] for one in paused["__interrupt__"]] == [{"check": "a"}]
    assert stateless == {"v": "b", "out": "done:b"}
