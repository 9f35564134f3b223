"""The server on a SQLite file runs its store's loop writes and its checkpointer's loop
calls on one connection (app._open_database builds the saver with LoopSqliteSaver.sharing),
and a second server on the same file still sees everything the first one did."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TypedDict

import pytest

pytest.importorskip("fastapi")

import httpx
from _ask_done import ask_then_done

from hitlgraph.graph import StateGraph
from hitlgraph.server import ServerSettings, create_app
from hitlgraph.types import interrupt


class _State(TypedDict, total=False):
    payload: str
    answer: Any
    result: str


def _ask(state: _State) -> _State:
    return {"answer": interrupt({"check": state["payload"]})}


def _done(state: _State) -> _State:
    return {"result": f"{state['payload']}:{state['answer']}"}


def _builder() -> StateGraph:
    return ask_then_done(_State, _ask, _done)


def _settings(path: Path) -> ServerSettings:
    return ServerSettings(graphs={"review": _builder()}, db=str(path), read_env=False)


def test_one_loop_connection_and_a_second_server_sees_its_work(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first, second = create_app(_settings(path)), create_app(_settings(path))

    async def main() -> None:
        async with first.router.lifespan_context(first), \
                second.router.lifespan_context(second):
            rt = first.state.runtime
            assert rt.saver.conn is rt.store._inline_connection()
            one = httpx.AsyncClient(transport=httpx.ASGITransport(app=first),
                                    base_url="http://127.0.0.1")
            two = httpx.AsyncClient(transport=httpx.ASGITransport(app=second),
                                    base_url="http://127.0.0.1")
            async with one, two:
                tid = (await one.post("/threads", json={})).json()["thread_id"]
                out = (await one.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "input": {"payload": "x"}})).json()
                assert out["__interrupt__"][0]["value"] == {"check": "x"}
                state = (await two.get(f"/threads/{tid}/state")).json()
                assert state["next"] == ["ask"] and state["values"] == {"payload": "x"}
                out = (await two.post(f"/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "command": {"resume": "ok"}})).json()
                assert out["result"] == "x:ok"
                thread = (await one.get(f"/threads/{tid}")).json()
                assert thread["status"] == "idle" and thread["values"]["result"] == "x:ok"

    asyncio.run(main())
