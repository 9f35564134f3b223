"""A hitlgraph server on 127.0.0.1 in a thread of the test process, for the reliability tests
(tests/server's fixtures are that folder's own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from hitlgraph.server import ServerSettings, create_app

__all__ = ["serve"]


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
