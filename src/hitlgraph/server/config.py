"""Server settings, and the `langgraph.json` file that names the graphs to serve.

`langgraph.json` has LangGraph's shape::

    {
      "graphs": {"agent": "./agent.py:graph", "review": "my_app.review:builder"},
      "env": ".env",
      "auth": {"path": "./auth.py:authenticate"},
      "http": {"cors": {"allow_origins": ["https://inbox.example.com"],
                        "allow_methods": ["GET", "POST"], "allow_headers": ["x-api-key"]}},
      "hitlgraph": {"api_keys": {"team-a": "sha256:9f86d0...", "team-b": "sha256:..."},
                    "webhooks": [{"url": "https://hooks.example.com/review",
                                  "secret": "...", "events": ["interrupt.created"]}]}
    }

A graph is "module.path:attr" or "path/to/file.py:attr" (a path relative to the config file);
attr (dotted allowed) holds a compiled graph, a StateGraph builder (compiled with the server's
checkpointer), an @entrypoint, or a function without arguments returning one of these.
"auth.path" names a callable taking the request and returning a tenant id, or None to refuse
it (see `hitlgraph.server.auth`). "hitlgraph.api_keys" maps tenants to API keys, stored as
"sha256:<hex digest of the key>" (plain keys are accepted too, but better kept out of files).
"hitlgraph.webhooks" lists the review notification webhooks (see `_notify_config.py`).
"env" sets environment variables (see `_env.py`): `apply_env` sets them before anything the
config names is imported. "http.cors" says which web pages may call the server from a browser;
without it, the server's address decides (see `_cors.py`). "store.index" gives the /store
routes similarity search, as on LangGraph's server (see `_store_items_index.py`; its embed
file is imported when the config is read). LangGraph's other keys are accepted
and have no effect; the server names them in a warning at startup (see `_config_keys.py`), as
it does unknown keys.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hitlgraph._rebind import with_checkpointer
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.func import EntrypointGraph
from hitlgraph.graph.state import StateGraph
from hitlgraph.pregel.compiled import CompiledStateGraph
from hitlgraph.server._config_keys import key_warnings
from hitlgraph.server._cors import CorsError, check_cors
from hitlgraph.server._env import EnvError, env_from_config
from hitlgraph.server._notify_config import Webhook, webhooks_of
from hitlgraph.server._store_items_index import store_index
from hitlgraph.server.auth import parse_groups
from hitlgraph.store.base import IndexConfig

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "BoundGraph",
    "ConfigError",
    "ServerConfig",
    "ServerSettings",
    "apply_env",
    "bind_graph",
    "load_config",
    "load_graph_object",
    "resolve_webhooks",
]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

_WHAT = ("a compiled graph, a StateGraph builder, an @entrypoint, or a function without "
         "arguments that returns one")


class ConfigError(ValueError):
    """The config file, a graph it names, or a setting is unusable; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """What a `langgraph.json` holds, resolved."""

    graphs: dict[str, str]
    """Graph id -> "module:attr" or "file.py:attr" spec."""
    base_dir: Path
    """The folder the config file is in: relative paths start there."""
    auth_path: str | None = None
    """"module:attr" of a custom auth callable, or None."""
    api_keys: dict[str, str] = field(default_factory=dict)
    """Tenant -> key, or "sha256:<hex>"."""
    env: dict[str, str] = field(default_factory=dict)
    """The environment variables "env" sets (its .env file's, read when the config is)."""
    cors: dict[str, Any] | None = None
    """"http.cors", checked: CORSMiddleware's settings, or None when it is not given."""
    webhooks: tuple[Webhook, ...] = ()
    """"hitlgraph.webhooks", checked: the review notification webhooks."""
    review_groups: dict[str, tuple[str, ...]] | None = None
    """"hitlgraph.review.groups", checked: review group -> the principals in it."""
    store_index: IndexConfig | None = None
    """"store.index", checked, its embed function loaded: the /store routes' similarity
    search (see _store_items_index)."""
    warnings: tuple[str, ...] = ()
    """What to tell the person starting the server, once: keys with no effect in hitlgraph,
    unknown keys, an "env" file that does not exist."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """How `create_app()` builds the server.

    Give the graphs with `config` (a langgraph.json path) or `graphs` (id -> spec string or
    graph object), or both (`graphs` wins for an id in both).
    """

    config: str | Path | None = None
    """Path of a langgraph.json file."""
    graphs: Mapping[str, Any] | None = None
    """Graph id -> "module:attr" spec, or the graph object itself."""
    db: str | Path = "hitlgraph.sqlite"
    """Where threads, runs, run events and checkpoints live: a SQLite file path (":memory:"
    for a private in-memory database), or a postgresql:// URL (several server processes, on
    several machines, may share one PostgreSQL database)."""
    workers: int = 2
    """Runs executed at once by this process (each worker is an asyncio task)."""
    api_keys: Mapping[str, str] | None = None
    """Tenant -> API key (or "sha256:<hex>"); merged with $HITLGRAPH_API_KEYS and the config's."""
    read_env: bool = True
    """Read $HITLGRAPH_API_KEYS ("tenant:key,tenant2:key2"; a bare key is tenant "default")."""
    auth: Any = None
    """A callable (request) -> tenant id or None (sync or async); overrides the config's."""
    host: str | None = None
    """The address the server listens on (`hitlgraph serve` passes its --host; this does not
    bind anything). Without CORS settings, a loopback host (127.0.0.1, ::1, localhost) lets web
    pages of any origin call the server, for local development; any other host, or None (not
    told), sends no CORS headers."""
    cors: Mapping[str, Any] | None = None
    """CORS settings as "http.cors" in langgraph.json takes them (allow_origins, allow_methods,
    allow_headers, allow_credentials, allow_origin_regex, expose_headers, max_age); replaces
    the config's."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Larger request bodies answer 413."""
    lease_seconds: float = 30.0
    """How long a worker's claim on a run lasts without a heartbeat."""
    poll_seconds: float = 0.5
    """How often waiters re-read the database when no in-process signal woke them."""
    sweep_seconds: float = 60.0
    """How long the finished run of a stateless request with on_completion "delete" stays
    readable (by a client joining it) before the server deletes it and its events."""
    keepalive_seconds: float = 5.0
    """runs/wait and join on a run still going after this long answer 200 at once and send a
    newline this often until the result follows, as LangGraph's server does, so that proxies
    do not cut a quiet connection."""
    webhooks: Sequence[Mapping[str, Any]] | None = None
    """Review notification webhooks, as "hitlgraph.webhooks" in langgraph.json takes them
    (url, secret, events, name); replaces the config's."""
    review_groups: Mapping[str, Any] | None = None
    """Review group -> the principals ("tenant/user", each with an API key) in it, as
    "hitlgraph.review.groups" in langgraph.json takes them; replaces the config's. Only
    members answer an interrupt whose approvers are a group, or claim one asked for a group
    (see hitlgraph.server.auth)."""
    notify_seconds: float = 1.0
    """How often the notifier looks for new events when nothing in this process woke it."""
    notify_attempts: int = 5
    """Tries of one notification before it is logged as failed and the webhook moves on."""
    notify_backoff_seconds: float = 1.0
    """The pause before a notification's second try; each later pause doubles."""
    expire_seconds: float = 5.0
    """How often this process applies the review policies whose deadline passed (each is
    applied once, whichever process gets to it)."""


def load_config(path: str | Path) -> ServerConfig:
    """Read a langgraph.json file.

    Raises:
        ConfigError: the file is missing, not JSON, or has no usable "graphs" or "env".
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file '{file}': {exc.strerror or exc}. "
                          "Pass --config PATH to a langgraph.json file.") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"The config file '{file}' is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"The config file '{file}' must hold a JSON object with \"graphs\".")
    graphs = data.get("graphs")
    if not isinstance(graphs, dict) or not graphs or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in graphs.items()):
        raise ConfigError(
            f"The config file '{file}' needs \"graphs\": an object of graph id -> "
            "\"module:attr\" or \"./file.py:attr\", e.g. {\"graphs\": {\"agent\": "
            "\"./agent.py:graph\"}}.")
    auth = data.get("auth")
    auth_path = auth.get("path") if isinstance(auth, dict) else None
    extra = data.get("hitlgraph") or {}
    keys = extra.get("api_keys") if isinstance(extra, dict) else None
    if keys is not None and not (isinstance(keys, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in keys.items())):
        raise ConfigError(f"\"hitlgraph.api_keys\" in '{file}' must map tenant names to keys "
                          "(\"sha256:<hex>\" or the key itself).")
    base_dir = file.resolve().parent
    try:
        env, env_warnings = env_from_config(data.get("env"), base_dir, file)
    except EnvError as exc:
        raise ConfigError(str(exc)) from None
    try:
        hooks = webhooks_of(extra.get("webhooks") if isinstance(extra, dict) else None,
                            f"\"hitlgraph.webhooks\" in '{file}'")
        groups = _groups_of(extra, file)
        index = store_index(data.get("store"), base_dir, f"\"store\" in '{file}'")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return ServerConfig(graphs=dict(graphs), base_dir=base_dir,
                        auth_path=auth_path if isinstance(auth_path, str) else None,
                        api_keys=dict(keys or {}), env=env, cors=_cors_of(data, file),
                        webhooks=hooks, review_groups=groups, store_index=index,
                        warnings=(*key_warnings(data, file), *env_warnings))


def _groups_of(extra: Any, file: Path) -> dict[str, tuple[str, ...]] | None:
    """"hitlgraph.review": {"groups": {...}}, checked (None when not given).

    Raises:
        ValueError: "hitlgraph.review" is not {"groups": ...}, or the groups' shape is wrong.
    """
    review = extra.get("review") if isinstance(extra, dict) else None
    if review is None:
        return None
    if not isinstance(review, dict) or set(review) != {"groups"}:
        raise ValueError(f"\"hitlgraph.review\" in '{file}' must be {{\"groups\": {{\"group\": "
                         f"[\"tenant/user\", ...]}}}}, got {review!r}.")
    return parse_groups(review["groups"], f"\"hitlgraph.review.groups\" in '{file}'")


def _cors_of(data: Mapping[str, Any], file: Path) -> dict[str, Any] | None:
    """The config's "http.cors", checked (None when it is not given)."""
    http = data.get("http")
    try:
        return check_cors(http.get("cors") if isinstance(http, dict) else None, "http.cors",
                          f" in '{file}'")
    except CorsError as exc:
        raise ConfigError(str(exc)) from None


def apply_env(config: ServerConfig) -> None:
    """Set the environment variables the config's "env" gives, replacing those already set
    (as `langgraph dev` does). Call it before importing what the config names."""
    os.environ.update(config.env)


def _import_module(name: str, base_dir: Path, spec: str) -> Any:
    if name.endswith(".py") or "/" in name or "\\" in name:
        path = Path(name)
        if not path.is_absolute():
            path = base_dir / path
        if not path.is_file():
            raise ConfigError(f"'{spec}' names the file '{path}', which does not exist.")
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        mod_name = f"_hitlgraph_served_{path.stem}_{digest}"
        if mod_name in sys.modules:
            return sys.modules[mod_name]
        loader = importlib.util.spec_from_file_location(mod_name, path)
        if loader is None or loader.loader is None:
            raise ConfigError(f"'{spec}': cannot load '{path}' as a Python module.")
        module = importlib.util.module_from_spec(loader)
        sys.modules[mod_name] = module
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        try:
            loader.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(mod_name, None)
            raise
        return module
    if str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))
    return importlib.import_module(name)


def _is_graph(value: Any) -> bool:
    return isinstance(value, (CompiledStateGraph, StateGraph, EntrypointGraph))


def load_graph_object(spec: str, base_dir: Path) -> Any:
    """The graph "module:attr" names (a factory is called).

    Raises:
        ConfigError: naming the spec and what is wrong with it.
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"Graph '{spec}' is not \"module:attr\" or \"./file.py:attr\".")
    try:
        value: Any = _import_module(module_name, base_dir, spec)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"Importing '{module_name}' for graph '{spec}' failed: "
                          f"{type(exc).__name__}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(value, part):
            raise ConfigError(f"'{module_name}' has no attribute '{attr}' (graph '{spec}').")
        value = getattr(value, part)
    if not _is_graph(value) and inspect.isfunction(value):
        try:
            value = value()
        except Exception as exc:
            raise ConfigError(f"Calling {attr}() to make graph '{spec}' failed: "
                              f"{type(exc).__name__}: {exc}") from exc
    if not _is_graph(value):
        raise ConfigError(f"Graph '{spec}' is a {type(value).__name__}, not {_WHAT}.")
    return value


@dataclass(frozen=True, slots=True)
class BoundGraph:
    """A served graph, using the server's checkpointer."""

    graph_id: str
    runnable: Any
    """What runs: a CompiledStateGraph, or an @entrypoint."""
    compiled: CompiledStateGraph
    """The CompiledStateGraph underneath (state, history, drawing)."""


def bind_graph(graph_id: str, value: Any, saver: BaseCheckpointSaver) -> BoundGraph:
    """`value` (a graph object) made to run with `saver`; a builder is compiled, a compiled
    graph or entrypoint copied with its checkpointer replaced."""
    try:
        runnable, compiled = with_checkpointer(value, saver)
    except TypeError:
        raise ConfigError(f"Graph '{graph_id}' is a {type(value).__name__}, not {_WHAT}.") from None
    return BoundGraph(graph_id, runnable, compiled)


def resolve_webhooks(settings: ServerSettings, config: ServerConfig | None = None
                     ) -> tuple[Webhook, ...]:
    """The review notification webhooks: settings.webhooks, else the config's.

    Raises:
        ConfigError: settings.webhooks is not what "hitlgraph.webhooks" takes.
    """
    if settings.webhooks is None:
        return config.webhooks if config is not None else ()
    try:
        return webhooks_of(settings.webhooks, "ServerSettings.webhooks")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
