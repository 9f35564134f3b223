"""The app factory: `create_app(settings)` builds the FastAPI app; its lifespan opens the
database and the checkpointer, binds the graphs to it, opens the long-term store of the
/store routes in the same database (`_store_items`), and starts the run workers, the review
notifier (`_notify.py`: webhooks and the figures of /metrics), the expiry timer
(`_expiry.py`) and the cron scheduler.

`settings.db` picks the database: a file path (or ":memory:") is SQLite (`SqliteStore` and
`LoopSqliteSaver`, an AsyncSqliteSaver, in that file); a postgresql:// URL is PostgreSQL
(`PostgresStore` and `AsyncPostgresSaver` in that database, plus a LISTEN connection that
wakes this process's workers and streamers when another process queues, writes or cancels
a run)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.errors import CheckpointConflictError, ResumeError
from hitlgraph.server._cors import CorsError, check_cors, cors_options
from hitlgraph.server._crons_scheduler import run_scheduler
from hitlgraph.server._errors import database_unavailable, unavailable_errors, validation_error
from hitlgraph.server._expiry import run_expiry
from hitlgraph.server._flat_routes import add_routes
from hitlgraph.server._json_body import JsonBodies
from hitlgraph.server._loop_saver import LoopSqliteSaver
from hitlgraph.server._metrics import CONTENT_TYPE_LATEST, ServerMetrics
from hitlgraph.server._notify import open_notifications
from hitlgraph.server._runtime import Assistant, Runtime, assistant_id_for
from hitlgraph.server._store_items import open_items_store
from hitlgraph.server.auth import (
    ApiKeyAuth,
    Authenticator,
    RequestGuard,
    api_keys_from_env,
)
from hitlgraph.server.config import (
    ConfigError,
    ServerConfig,
    ServerSettings,
    apply_env,
    bind_graph,
    load_config,
    load_graph_object,
    resolve_webhooks,
)
from hitlgraph.server.routes import assistants, crons, inbox, root, runs, threads
from hitlgraph.server.routes.decisions import router as decisions_router
from hitlgraph.server.routes.review import router as review_router
from hitlgraph.server.routes.store import router as store_router
from hitlgraph.server.store.base import Notifier, Store
from hitlgraph.server.store.sqlite import SqliteStore
from hitlgraph.server.worker import WorkerPool

__all__ = ["create_app", "resolve_auth", "resolve_cors"]

log = logging.getLogger("hitlgraph.server")


def _open_config(settings: ServerSettings) -> ServerConfig | None:
    """The settings' langgraph.json, its "env" applied and its warnings logged (once per app:
    here)."""
    if settings.config is None:
        return None
    config = load_config(settings.config)
    apply_env(config)
    for warning in config.warnings:
        log.warning(warning)
    return config


def resolve_auth(settings: ServerSettings, config: ServerConfig | None = None
                 ) -> Authenticator | None:
    """The authenticator the settings ask for: settings.auth, else the config's auth.path,
    else API keys (settings, $HITLGRAPH_API_KEYS, config), else None (no authentication)."""
    if settings.auth is not None:
        auth: Authenticator = settings.auth
        return auth
    if config is not None and config.auth_path:
        found = _load_attr(config.auth_path, config.base_dir)
        if not callable(found):
            raise ConfigError(f"auth.path '{config.auth_path}' is not callable: it must take "
                              "the request and return a tenant id or None.")
        loaded: Authenticator = found
        return loaded
    keys: dict[str, str] = dict(config.api_keys) if config is not None else {}
    if settings.read_env:
        keys.update(api_keys_from_env())
    keys.update(settings.api_keys or {})
    groups = settings.review_groups if settings.review_groups is not None else (
        config.review_groups if config is not None else None)
    if groups is not None and not keys:
        raise ConfigError("Review groups are configured (hitlgraph.review.groups), but no API "
                          "keys: group members are principals with keys. Add the keys, or "
                          "have the auth callable return Principal(..., groups=...).")
    try:
        return ApiKeyAuth(keys, groups=groups) if keys else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def resolve_cors(settings: ServerSettings, config: ServerConfig | None = None
                 ) -> dict[str, Any] | None:
    """CORSMiddleware's options for these settings (settings.cors, else the config's
    "http.cors", else the default for settings.host), or None for no CORS headers.

    Raises:
        ConfigError: settings.cors is not what "http.cors" takes.
    """
    cors = config.cors if config is not None else None
    if settings.cors is not None:
        try:
            cors = check_cors(settings.cors, "ServerSettings.cors")
        except CorsError as exc:
            raise ConfigError(str(exc)) from None
    return cors_options(cors, settings.host)


def _load_attr(spec: str, base_dir: Path) -> Any:
    from hitlgraph.server.config import _import_module

    module_name, sep, attr = spec.rpartition(":")
    if not sep:
        raise ConfigError(f"'{spec}' is not \"module:attr\" or \"./file.py:attr\".")
    value: Any = _import_module(module_name, base_dir, spec)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def _graph_objects(settings: ServerSettings, config: ServerConfig | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if config is not None:
        for graph_id, spec in config.graphs.items():
            out[graph_id] = load_graph_object(spec, config.base_dir)
    for graph_id, value in (settings.graphs or {}).items():
        out[graph_id] = (load_graph_object(value, Path.cwd()) if isinstance(value, str)
                         else value)
    if not out:
        raise ConfigError("No graphs to serve: give a langgraph.json with \"graphs\" "
                          "(--config PATH), or ServerSettings(graphs={...}).")
    return out


async def _cancel_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _open_database(stack: AsyncExitStack, db: str, settings: ServerSettings
                         ) -> tuple[Store, BaseCheckpointSaver]:
    """The store and the checkpointer on `db` (a SQLite path or a postgresql:// URL), closed
    when `stack` closes."""
    store: Store
    saver: BaseCheckpointSaver
    if db.startswith(("postgresql://", "postgres://")):
        try:
            from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver
            from hitlgraph.server.store.postgres import PostgresStore
        except ImportError as exc:
            raise ConfigError(str(exc)) from exc
        store = PostgresStore.from_conn_string(db, max_size=settings.workers + 8)
        stack.push_async_callback(store.close)
        await store.setup()
        saver = await stack.enter_async_context(AsyncPostgresSaver.from_conn_string(
            db, max_size=settings.workers + 8))
        return store, saver
    if db != ":memory:":
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(db)
    await store.setup()
    stack.push_async_callback(store.close)
    # (on the store's loop connection: one connection on the event loop for the file)
    saver = await stack.enter_async_context(LoopSqliteSaver.sharing(store))
    return store, saver


def create_app(settings: ServerSettings) -> FastAPI:
    """The server's ASGI app. The config's "env" is applied and graph modules are imported
    here (so a bad config fails now); the database, checkpointer and workers start with the
    app's lifespan.

    Raises:
        ConfigError: the config file or a graph it names is unusable.
    """
    config = _open_config(settings)
    objects = _graph_objects(settings, config)
    auth = resolve_auth(settings, config)
    cors = resolve_cors(settings, config)
    webhooks = resolve_webhooks(settings, config)
    metrics = ServerMetrics()
    db = str(settings.db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            store, saver = await _open_database(stack, db, settings)
            app.state.items_store = await open_items_store(
                stack, db, config.store_index if config else None)
            started = datetime.now(timezone.utc).isoformat()
            graphs = {gid: bind_graph(gid, obj, saver) for gid, obj in objects.items()}
            assistants_ = {assistant_id_for(gid): Assistant(
                assistant_id=assistant_id_for(gid), graph_id=gid, created_at=started)
                for gid in graphs}
            rt = Runtime(settings=settings, store=store, saver=saver, graphs=graphs,
                         assistants=assistants_, items_store=app.state.items_store)
            app.state.runtime = rt
            if isinstance(store, Notifier):
                listening = asyncio.get_running_loop().create_task(
                    store.listen(rt.signals.wake), name="hitlgraph-listen")
                stack.push_async_callback(_cancel_task, listening)
            await open_notifications(stack, rt, webhooks, metrics)
            pool = WorkerPool(rt, settings.workers)
            pool.start()
            rt.here = pool.here
            stack.push_async_callback(pool.stop)
            scheduler = asyncio.get_running_loop().create_task(run_scheduler(rt),
                                                               name="hitlgraph-crons")
            stack.push_async_callback(_cancel_task, scheduler)
            expiry = asyncio.get_running_loop().create_task(run_expiry(rt),
                                                            name="hitlgraph-expiry")
            stack.push_async_callback(_cancel_task, expiry)
            yield

    app = FastAPI(title="hitlgraph server", version="0.1.0", lifespan=lifespan,
                  description="The LangGraph server API over hitlgraph graphs.")
    app.state.auth_configured = auth is not None
    app.state.pid = os.getpid()

    @app.get("/ok", tags=["system"])
    async def ok() -> dict[str, bool]:
        """Liveness: always {"ok": true}, without authentication."""
        return {"ok": True}

    @app.get("/info", tags=["system"])
    async def info() -> dict[str, Any]:
        """What this server is."""
        return {"version": "0.1.0", "server": "hitlgraph", "flags": {"assistants": True,
                "crons": True, "langsmith": False, "strict_resume": True}}

    @app.get("/metrics", tags=["system"])
    async def prometheus_metrics(request: Request) -> Response:
        """Prometheus text format (see server/_metrics.py); authenticated like the API."""
        text = await metrics.render(request.app.state.runtime)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    app.add_exception_handler(RequestValidationError, validation_error)
    for kind in unavailable_errors():
        if issubclass(kind, Exception):  # each is (Starlette's handlers take only these)
            app.add_exception_handler(kind, database_unavailable)

    @app.exception_handler(ResumeError)
    @app.exception_handler(CheckpointConflictError)
    async def conflict(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    for router in (assistants.router, threads.router, decisions_router, review_router,
                   crons.router, runs.router, store_router, inbox.router, root.router):
        add_routes(app, router)  # (in this order: the first route that matches serves)
    # The last added runs first: CORS answers preflights before authentication (browsers
    # send no API key with them) and adds its headers to every answer, a 401 included.
    app.add_middleware(JsonBodies)
    app.add_middleware(RequestGuard, auth=auth, max_body_bytes=settings.max_body_bytes)
    if cors is not None:
        app.add_middleware(CORSMiddleware, **cors)
    return app
