"""hitlgraph's HTTP server: the LangGraph server REST API over hitlgraph graphs and SQLite.

The official `langgraph-sdk` client works against it unchanged. Needs the `server` extra:
``pip install -e '.[server]'`` from the repository. Nothing starts at import:
`create_app(settings)` builds the ASGI app, whose lifespan opens the database and starts
the run workers.

Example:
    >>> from hitlgraph.server import ServerSettings, create_app
    >>> app = create_app(ServerSettings(config="langgraph.json", db="server.sqlite"))
    >>> # uvicorn.run(app, host="127.0.0.1", port=8123), or `hitlgraph serve`
"""

from __future__ import annotations

from hitlgraph._install import install_command

try:
    import fastapi  # noqa: F401
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "The hitlgraph server needs FastAPI and uvicorn, which are not installed "
        f"({_missing}). Install them with: {install_command('server')}"
    ) from _missing

from hitlgraph.server.app import create_app
from hitlgraph.server.auth import ApiKeyAuth, Authenticator
from hitlgraph.server.config import ServerConfig, ServerSettings, load_config

__all__ = [
    "ApiKeyAuth",
    "Authenticator",
    "ServerConfig",
    "ServerSettings",
    "create_app",
    "load_config",
]
