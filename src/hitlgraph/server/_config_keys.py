"""Which keys of a langgraph.json `hitlgraph serve` reads, and the warnings about the others.

LangGraph's CLI reads more than the graphs, "env", "auth.path" and "http.cors": most other keys
describe the Docker image it builds ("dependencies", "python_version", "dockerfile_lines", ...)
or parts of its own server ("store", "checkpointer", "http.app", "ui", ...). hitlgraph serve
imports the graphs into the Python environment it runs in and brings its own HTTP server and
storage, so those keys have no effect here. They are accepted (one langgraph.json can serve
both) and named in one warning at startup. Keys neither reads get a warning of their own: most
are typos.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["key_warnings"]

_READ = frozenset({"$schema", "graphs", "env", "auth", "auth.path", "http.cors", "hitlgraph",
                   "hitlgraph.api_keys", "hitlgraph.webhooks", "hitlgraph.review",
                   "store.index"})
"""What hitlgraph serve reads ("$schema" only tells editors how to check the file)."""

_NO_EFFECT = frozenset({
    # the image `langgraph build` makes
    "dependencies", "python_version", "node_version", "api_version", "base_image",
    "image_distro", "pip_config_file", "pip_installer", "dockerfile_lines", "keep_pkg_tools",
    "_INTERNAL_docker_tag",
    # LangGraph's server
    "store", "store.ttl", "checkpointer", "encryption", "http", "webhooks", "ui", "ui_config",
    "disable_persistence", "auth.openapi", "auth.disable_studio_auth", "auth.cache",
    # its HTTP server, beside "http.cors" ("http" itself: when it is not an object of these)
    "http.app", "http.mount_prefix", "http.disable_assistants", "http.disable_threads",
    "http.disable_runs", "http.disable_store", "http.disable_meta", "http.disable_webhooks",
    "http.disable_ui", "http.disable_mcp", "http.disable_a2a", "http.configurable_headers",
    "http.logging_headers", "http.enable_custom_route_auth", "http.middleware_order",
})
"""LangGraph's keys that hitlgraph serve accepts and does nothing with."""

_SECTIONS = ("auth", "http", "hitlgraph", "store")
"""Objects whose own keys are sorted one by one (as "auth.path", "auth.openapi", ...)."""


def _names(data: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for key, value in data.items():
        if key in _SECTIONS and isinstance(value, dict) and value:
            out.extend(f"{key}.{sub}" for sub in value)
        else:
            out.append(key)
    return out


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def key_warnings(data: Mapping[str, Any], file: Path) -> list[str]:
    """One line naming the keys of `data` (a langgraph.json read from `file`) that have no
    effect here, one naming the keys hitlgraph does not know; none when all are read."""
    names = _names(data)
    ignored = [n for n in names if n in _NO_EFFECT]
    unknown = [n for n in names if n not in _NO_EFFECT and n not in _READ]
    out: list[str] = []
    if ignored:
        out.append(
            f"{_quoted(ignored)} in '{file}' {'has' if len(ignored) == 1 else 'have'} no effect "
            "in hitlgraph serve: it imports the graphs into this Python environment (install "
            "what they need there) and keeps threads, runs and checkpoints with its own "
            "server and storage.")
    if unknown:
        out.append(
            f"{_quoted(unknown)} in '{file}' {'is' if len(unknown) == 1 else 'are'} unknown to "
            "hitlgraph serve and ignored: check the spelling. It reads 'graphs', 'env', "
            "'auth.path', 'http.cors', 'hitlgraph.api_keys', 'hitlgraph.webhooks', "
            "'hitlgraph.review' and 'store.index'.")
    return out
