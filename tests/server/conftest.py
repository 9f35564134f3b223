"""A real hitlgraph server per test: uvicorn on 127.0.0.1 (a free port), in a background
thread, with a temporary SQLite file and a langgraph.json naming the graphs of graphs.py.
Tests talk to it through the official langgraph-sdk client.

The tests of the modules in BOTH_BACKENDS run twice: `[sqlite]`, and `[postgres]` on a fresh
schema of the database HITLGRAPH_TEST_POSTGRES_DSN names (without it they skip, except
under CI=true, where they fail). `start_process` runs `hitlgraph serve` in a subprocess, for
tests of several processes sharing a database, and of one killed mid-run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from _harness import GRAPHS, RunningServer, ServerProcess, stopped

from _services import require_postgres

pytest.importorskip("fastapi")
pytest.importorskip("langgraph_sdk")

import uvicorn
from langgraph_sdk.client import SyncLangGraphClient

from hitlgraph.server import ServerSettings, create_app

BOTH_BACKENDS = ("test_server_assistants", "test_server_basics", "test_server_interrupts",
                 "test_server_more_routes", "test_server_runs", "test_server_security",
                 "test_server_workers")
"""Modules whose tests run on SQLite and on PostgreSQL (those of other modules: SQLite)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rpartition(".")[2]
    if "backend" in metafunc.fixturenames and module.startswith(BOTH_BACKENDS):
        metafunc.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """"sqlite" or "postgres": where the test's servers keep their data."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A postgresql:// URL whose search_path is a fresh, empty schema of the test database
    (dropped after the test), so that tests never see each other's tables."""
    dsn = require_postgres()
    import psycopg
    from psycopg import sql

    name = f"hg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield dsn + ("&" if "?" in dsn else "?") + urlencode(
            {"options": f"-c search_path={name}"}, quote_via=quote)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test's database: a SQLite file, or a PostgreSQL URL (a fresh schema)."""
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "shared.sqlite")


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
def start_server(tmp_path: Path, config_file: Path, backend: str,
                 request: pytest.FixtureRequest) -> Iterator[Callable[..., RunningServer]]:
    """start_server(**settings) -> RunningServer; stopped at the test's end. On PostgreSQL
    every server of a test shares the test's schema."""
    started: list[tuple[uvicorn.Server, threading.Thread]] = []
    # Set up before the servers start, so the schema is dropped only after they stopped.
    shared = str(request.getfixturevalue("database")) if backend == "postgres" else None

    def start(**overrides: Any) -> RunningServer:
        db: Path | str = shared or tmp_path / f"server{len(started)}.sqlite"
        options: dict[str, Any] = {"config": config_file, "db": db, "workers": 2,
                                   "poll_seconds": 0.2, "read_env": False, **overrides}
        app = create_app(ServerSettings(**options))
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                loop="asyncio", ws="none", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append((server, thread))  # (stopped at the end even if it started too late)
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        running = RunningServer(url=f"http://127.0.0.1:{port}", db=options["db"], clients=[])
        made.append(running)
        return running

    made: list[RunningServer] = []
    yield start
    for running in made:
        for sdk in running.clients:
            sdk.close()
    stuck = [thread.name for server, thread in started if not stopped(server, thread)]
    # The test's schema is dropped after this: a server still running on it would log its
    # notifier's "relation ... does not exist" into later tests' caplog. Fail here instead.
    assert not stuck, f"test servers still running 30 s after they were told to stop: {stuck}"



@pytest.fixture
def server(start_server: Callable[..., RunningServer]) -> RunningServer:
    """A server without authentication."""
    return start_server()


@pytest.fixture
def client(server: RunningServer) -> SyncLangGraphClient:
    """An SDK client of `server`."""
    return server.client()


_LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@pytest.fixture
def start_process(config_file: Path, database: str) -> Iterator[Callable[..., ServerProcess]]:
    """start_process(database, *args) -> ServerProcess: `hitlgraph serve` on 127.0.0.1 (a
    free port) with `database` (a SQLite path or a PostgreSQL URL) and extra CLI args; each
    is stopped (SIGTERM, then SIGKILL) at the test's end."""
    made: list[ServerProcess] = []

    def start(database: str, *args: str, config: Path | None = None) -> ServerProcess:
        where = (["--postgres", database] if database.startswith("postgresql://")
                 else ["--db", database])
        process = subprocess.Popen(
            [sys.executable, "-m", "hitlgraph.cli", "serve", "--config",
             str(config or config_file), "--host", "127.0.0.1", "--port", "0", *where, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert process.stderr is not None
        found = threading.Event()
        running = ServerProcess(process=process, url="")

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                running.log.append(line)
                match = _LISTENING.search(line)
                if match and not found.is_set():
                    running.url = match.group(1)
                    found.set()
            found.set()

        running.reader = threading.Thread(target=read, daemon=True)
        running.reader.start()
        made.append(running)
        if not found.wait(60) or not running.url:
            raise RuntimeError("hitlgraph serve did not start:\n" + "".join(running.log))
        return running

    yield start
    for running in made:
        if running.process.poll() is None:
            running.process.terminate()
            try:
                running.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                running.kill()
        running.close()
