"""A server run's nodes get the run's context as run-time context (only the keys the graph's
context_schema declares, the assistant's under the run's, as on LangGraph's server) and the
caller's tenant's view of the server's store: what a node puts, GET /store/items shows to
that tenant and to no other."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from _harness import stopped

from hitlgraph.server import ServerSettings, create_app

GRAPHS = '''
from dataclasses import dataclass
from typing import Any, TypedDict

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.runtime import Runtime


class Seen(TypedDict, total=False):
    note: str
    seen: Any


class Ctx(TypedDict, total=False):
    model: str
    tone: str


def echo(state: Seen, runtime: Runtime[Ctx]) -> Seen:
    return {"seen": runtime.context}


typed = StateGraph(Seen, context_schema=Ctx).add_node("echo", echo)
typed = typed.add_edge(START, "echo").add_edge("echo", END).compile()

untyped = StateGraph(Seen).add_node("echo", echo)
untyped = untyped.add_edge(START, "echo").add_edge("echo", END).compile()


def remember(state: Seen, store: Any) -> Seen:
    store.put(("notes",), "sync", {"note": state["note"]})
    return {}


async def remember_async(state: Seen, runtime: Runtime[None]) -> Seen:
    await runtime.store.aput(("notes",), "async", {"note": state["note"]})
    found = await runtime.store.aget(("notes",), "sync")
    return {"seen": found.value if found is not None else None}


notes = StateGraph(Seen).add_node("remember", remember)
notes = notes.add_node("remember_async", remember_async).add_edge(START, "remember")
notes = notes.add_edge("remember", "remember_async").add_edge("remember_async", END).compile()
'''

KEY_A, KEY_B = "nodes-key-a", "nodes-key-b"


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    """A server on a SQLite file with the graphs above, tenants 'a' and 'b'."""
    (tmp_path / "ctx_graphs.py").write_text(GRAPHS)
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {g: f"./ctx_graphs.py:{g}"
                                             for g in ("typed", "untyped", "notes")}}))
    app = create_app(ServerSettings(config=config, db=tmp_path / "ctx.sqlite", workers=2,
                                    poll_seconds=0.2, read_env=False,
                                    api_keys={"a": KEY_A, "b": KEY_B}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           loop="asyncio", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        assert stopped(server, thread), "the test server still ran 30 s after it was told to stop"


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=30)


def _wait(http: httpx.Client, body: dict[str, Any]) -> Any:
    answer = http.post("/runs/wait", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_nodes_get_the_context_keys_their_schema_declares(url: str) -> None:
    with _client(url, KEY_A) as a:
        given = {"model": "m-1", "tone": "dry", "extra": 1}
        assert _wait(a, {"assistant_id": "typed", "input": {}, "context": given})["seen"] \
            == {"model": "m-1", "tone": "dry"}
        assert _wait(a, {"assistant_id": "untyped", "input": {}, "context": given})["seen"] \
            == given
        made = a.post("/assistants", json={"graph_id": "typed",
                                           "context": {"model": "m-0", "tone": "warm"}})
        assert made.status_code == 200, made.text
        assistant = made.json()["assistant_id"]
        assert _wait(a, {"assistant_id": assistant, "input": {},
                         "context": {"tone": "cold"}})["seen"] == {"model": "m-0",
                                                                   "tone": "cold"}
        assert _wait(a, {"assistant_id": "typed", "input": {}})["seen"] == {}


def test_a_nodes_store_is_its_tenants_store(url: str) -> None:
    with _client(url, KEY_A) as a, _client(url, KEY_B) as b:
        out = _wait(a, {"assistant_id": "notes", "input": {"note": "from a"}})
        assert out["seen"] == {"note": "from a"}  # the async node read the sync node's put
        for key in ("sync", "async"):
            item = a.get("/store/items", params={"namespace": "notes", "key": key})
            assert item.status_code == 200 and item.json()["value"] == {"note": "from a"}
            assert item.json()["namespace"] == ["notes"]
            hidden = b.get("/store/items", params={"namespace": "notes", "key": key})
            assert hidden.status_code == 200 and hidden.json() is None
        assert _wait(b, {"assistant_id": "notes", "input": {"note": "from b"}})["seen"] \
            == {"note": "from b"}
        mine = a.get("/store/items", params={"namespace": "notes", "key": "sync"})
        assert mine.json()["value"] == {"note": "from a"}
