"""The differential suite: `langgraph dev` (LangGraph's own server, in memory) and `hitlgraph
serve` run side by side on the same graphs (lg_graphs.py, and its copy with the import prefix
replaced), and each test drives the same flow at both through langgraph-sdk.

Both servers start once per session, as subprocesses on free 127.0.0.1 ports. The `langgraph`
command comes from the `compat` extra (`langgraph-cli[inmem]`); without it these tests skip,
and fail under CI=true.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _compat import Pair

from _services import in_ci

pytest.importorskip("langgraph_sdk")

HERE = Path(__file__).resolve().parent


def _langgraph_command() -> str:
    found = shutil.which("langgraph", path=os.path.dirname(sys.executable))
    if found is None:
        why = ("the differential tests need LangGraph's server beside this Python: "
               "pip install -e '.[compat]' (langgraph-cli[inmem])")
        if in_ci():
            pytest.fail(f"CI=true: {why}", pytrace=False)
        pytest.skip(why)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _graphs(source: str) -> dict[str, str]:
    """lg_graphs.py's GRAPHS, read from its text: the test process never imports LangGraph's
    graphs (importing them would load LangGraph and LangChain here, which changes how
    hitlgraph converts messages in the other tests of the session)."""
    for node in ast.parse(source).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "GRAPHS" and node.value is not None:
            graphs: dict[str, str] = ast.literal_eval(node.value)
            return graphs
    raise AssertionError("lg_graphs.py has no GRAPHS dict")


def _write_project(folder: Path, source: str) -> None:
    folder.mkdir()
    (folder / "lg_graphs.py").write_text(source)
    graphs = {name: f"./lg_graphs.py:{attr}" for name, attr in _graphs(source).items()}
    (folder / "langgraph.json").write_text(json.dumps({"graphs": graphs,
                                                       "dependencies": ["."]}))


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer /ok within 60 s:\n{log.read_text()[-4000:]}")


def _start(command: list[str], folder: Path, port: int) -> subprocess.Popen[bytes]:
    log = folder / "server.log"
    env = {**os.environ, "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false",
           "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, env=env)
    _wait_ready(f"http://127.0.0.1:{port}", process, log)
    return process


@pytest.fixture(scope="session")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    langgraph = _langgraph_command()
    root = tmp_path_factory.mktemp("compat")
    source = (HERE / "lg_graphs.py").read_text()
    _write_project(root / "lg", source)
    _write_project(root / "hg", source.replace("langgraph", "hitlgraph"))
    lg_port, hg_port = _free_port(), _free_port()
    processes = [
        _start([langgraph, "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
                "--port", str(lg_port)], root / "lg", lg_port),
        _start([sys.executable, "-m", "hitlgraph.cli", "serve", "--host", "127.0.0.1",
                "--port", str(hg_port), "--db", str(root / "hg" / "server.sqlite")],
               root / "hg", hg_port),
    ]
    try:
        yield Pair(hitlgraph=f"http://127.0.0.1:{hg_port}",
                   langgraph=f"http://127.0.0.1:{lg_port}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
