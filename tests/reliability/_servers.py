"""hitlgraph servers on 127.0.0.1 for the reliability tests (tests/server's fixtures are that
folder's own): `serve` runs one in a thread of the test process; `ChildServers` runs them as
processes of their own (`_child.py serve`), for tests that freeze, kill or arm them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from hitlgraph.server import ServerSettings, create_app

__all__ = ["ChildServers", "serve"]

HERE = Path(__file__).parent


@contextmanager
def serve(**settings: Any) -> Iterator[str]:
    """Start a server with these ServerSettings (read_env off, a fast poll); yield its URL;
    stop it (bounded) on exit."""
    options: dict[str, Any] = {"read_env": False, "poll_seconds": 0.1, "workers": 2, **settings}
    app = create_app(ServerSettings(**options))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           loop="asyncio", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class ChildServers:
    """`_child.py serve` processes started by one test, each in a process of its own (so it
    can be frozen, killed or armed with faults); `stop_all` ends every one of them."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.started: list[subprocess.Popen[str]] = []

    def start(self, db: str, lease: float, **env: str) -> tuple[subprocess.Popen[str], str]:
        """(process, URL) of a server of the `slow` graph on `db` with this lease, `env`
        added to its environment (SLOW_SECONDS, HITLGRAPH_FAULTS, LEDGER, ...)."""
        errors = self.scratch / f"server-{len(self.started)}.err"
        with errors.open("w") as sink:
            child = subprocess.Popen([sys.executable, str(HERE / "_child.py"), "serve", db,
                                      str(lease)], env={**os.environ, **env}, cwd=self.scratch,
                                     stdout=subprocess.PIPE, stderr=sink, text=True)
        self.started.append(child)
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), \
            f"the server did not start: {errors.read_text()[-3000:]}"
        return child, url

    def stop_all(self) -> None:
        """Kill each server still running (thawing a frozen one first), bounded."""
        for child in self.started:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGCONT)
                child.kill()
            child.wait(timeout=30)
            if child.stdout is not None:
                child.stdout.close()
