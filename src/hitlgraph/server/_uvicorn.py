"""Running the app under uvicorn, as `hitlgraph serve` does.

Three things beyond `uvicorn.run`: the logging config is uvicorn's plus the "hitlgraph" logger
on the same handler, so a run's failure (worker.py) and the warnings about langgraph.json
(app.py) show beside uvicorn's own lines; a callback once the server listens, given the
address it really listens on (with `--port 0` the system picks the port); and the memory a
burst of requests left free is given back once the server is idle (`_memory.py`), checked at
each of uvicorn's ticks.
"""

from __future__ import annotations

import contextlib
import copy
import logging.config
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from hitlgraph.server._memory import IdleTrim

__all__ = ["LOG_CONFIG", "base_url", "configure_logging", "run"]


def _log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["hitlgraph"] = {"handlers": ["default"], "level": "INFO",
                                      "propagate": False}
    return config


LOG_CONFIG = _log_config()
"""uvicorn's logging config, plus the "hitlgraph" logger (INFO and up, on stderr)."""


def configure_logging() -> None:
    """Apply LOG_CONFIG now, so that what is logged before uvicorn starts (while the app is
    built) is formatted like the rest."""
    logging.config.dictConfig(LOG_CONFIG)


def base_url(host: str, port: int) -> str:
    """The http:// URL of `host` and `port` (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """A uvicorn server that calls `on_ready(base URL)` once it accepts connections, and
    returns free memory to the system when requests stop for a while."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[str], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready
        self.trim = IdleTrim()

    async def on_tick(self, counter: int) -> bool:
        self.trim.tick(self.server_state.total_requests)
        return await super().on_tick(counter)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            port = int(self.servers[0].sockets[0].getsockname()[1])
            self.on_ready(base_url(self.config.host, port))


def run(app: Any, *, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve `app` on `host`:`port` until Ctrl-C or SIGTERM; `on_ready(base URL)` once it
    listens. Exits with status 3 (uvicorn's) when the server could not start."""
    config = uvicorn.Config(app, host=host, port=port, log_level="info", log_config=LOG_CONFIG)
    server = _Server(config, on_ready)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(3)
