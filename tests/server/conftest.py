"""A real hitlgraph server per test: uvicorn on 127.0.0.1 (a free port), in a background
thread, with a temporary SQLite file and a langgraph.json naming the graphs of graphs.py.
Tests talk to it through the official langgraph-sdk client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("langgraph_sdk")

import uvicorn
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

from hitlgraph.server import ServerSettings, create_app

GRAPHS = {
    "review": "./graphs.py:review_builder",
    "steps": "./graphs.py:build_steps",
    "slow": "./graphs.py:slow_builder",
}


@dataclass
class RunningServer:
    """A server started for a test."""

    url: str
    db: Path
    clients: list[SyncLangGraphClient]

    def client(self, api_key: str | None = None) -> SyncLangGraphClient:
        """An SDK client of this server (with `api_key` in x-api-key), closed after the test."""
        made = get_sync_client(url=self.url, api_key=api_key, timeout=30)
        self.clients.append(made)
        return made


@pytest.fixture(autouse=True)
def _no_sdk_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY",
                 "HITLGRAPH_API_KEYS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A langgraph.json beside a copy of graphs.py."""
    source = Path(__file__).with_name("graphs.py")
    (tmp_path / "graphs.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": GRAPHS}), encoding="utf-8")
    return path


@pytest.fixture
def start_server(tmp_path: Path, config_file: Path) -> Iterator[Callable[..., RunningServer]]:
    """start_server(**settings) -> RunningServer; stopped at the test's end."""
    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: Any) -> RunningServer:
        db = tmp_path / f"server{len(started)}.sqlite"
        options: dict[str, Any] = {"config": config_file, "db": db, "workers": 2,
                                   "poll_seconds": 0.2, "read_env": False, **overrides}
        app = create_app(ServerSettings(**options))
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                loop="asyncio", ws="none", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        started.append((server, thread))
        running = RunningServer(url=f"http://127.0.0.1:{port}", db=db, clients=[])
        made.append(running)
        return running

    made: list[RunningServer] = []
    yield start
    for running in made:
        for sdk in running.clients:
            sdk.close()
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def server(start_server: Callable[..., RunningServer]) -> RunningServer:
    """A server without authentication."""
    return start_server()


@pytest.fixture
def client(server: RunningServer) -> SyncLangGraphClient:
    """An SDK client of `server`."""
    return server.client()
