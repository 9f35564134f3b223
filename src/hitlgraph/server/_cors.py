"""CORS: which web pages (origins) may call the server from a browser.

As on LangGraph's server, `"http": {"cors": {...}}` in langgraph.json is handed to Starlette's
CORSMiddleware as it is: its keys are CORSMiddleware's (CORS_KEYS), and a key left out takes
Starlette's default (allow_origins [], allow_methods ["GET"], allow_headers [] beyond the
CORS-safelisted ones, allow_credentials false, max_age 600). One addition: the headers the
clients read for paging and for a new run's address (EXPOSED_HEADERS) are always exposed, on
top of the config's "expose_headers" (LangGraph's server exposes them only without "cors").

Without "http.cors" the answer depends on where the server listens (ServerSettings.host):

- on a loopback address (127.0.0.1, ::1, localhost), that is in local development, pages of
  any origin may call it, as `langgraph dev` allows: any origin, method and request header,
  no credentials (cookies), EXPOSED_HEADERS exposed;
- anywhere else, or when the host is not known, no CORS headers at all: browsers keep other
  origins' pages out, and whoever deploys the server says which pages may call it.

On a loopback address a private-network preflight (Chrome asks one before a public page calls
a server on this machine) is granted for an origin that is allowed.

Preflights (OPTIONS with Origin and Access-Control-Request-Method) are answered before
authentication, since browsers send no API key with them; the request that follows is
authenticated like any other, and its 401 carries the CORS headers so the page can read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hitlgraph._net import is_loopback

__all__ = ["CORS_KEYS", "EXPOSED_HEADERS", "CorsError", "check_cors", "cors_options"]

EXPOSED_HEADERS = ("x-pagination-total", "x-pagination-next", "content-location")
"""Response headers a page may always read: the SDKs page with the first two and find a new
run with the third (the headers LangGraph's server exposes by default)."""

_LISTS = {"allow_origins": '["http://localhost:3000"]', "allow_methods": '["GET", "POST"]',
          "allow_headers": '["x-api-key", "content-type"]', "expose_headers": '["x-request-id"]'}
"""The settings that are lists of strings, each with an example."""
CORS_KEYS = (*_LISTS, "allow_credentials", "allow_origin_regex", "max_age")
"""The keys of "http.cors", as LangGraph documents them."""

_LOCAL_DEVELOPMENT: dict[str, Any] = {
    "allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"],
    "allow_credentials": False}
"""What pages may do on a loopback server without "http.cors" (LangGraph's default)."""


class CorsError(ValueError):
    """A CORS setting is not what CORSMiddleware takes; the message names it and the fix."""


def _check_value(key: str, value: Any, name: str) -> None:
    if key in _LISTS:
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise CorsError(f"{name} must be a list of strings, e.g. {_LISTS[key]}.")
    elif key == "allow_credentials":
        if not isinstance(value, bool):
            raise CorsError(f"{name} must be true or false.")
    elif key == "max_age":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CorsError(f"{name} must be a whole number of seconds, e.g. 600.")
    elif value is not None:
        if not isinstance(value, str):
            raise CorsError(f"{name} must be a regular expression as a string, e.g. "
                            "\"https://.*\\\\.example\\\\.com\".")
        try:
            re.compile(value)
        except re.error as exc:
            raise CorsError(f"{name} is not a valid regular expression ({exc}).") from None


def check_cors(value: Any, name: str, place: str = "") -> dict[str, Any] | None:
    """`value` (an "http.cors" object) checked, as a new dict; None when it is None (no CORS
    configured). Errors call it `name` (e.g. "http.cors"), found in `place` (e.g. " in
    'langgraph.json'").

    Raises:
        CorsError: `value` is not an object, has a key CORSMiddleware does not take, or a value
            of the wrong kind.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CorsError(f"'{name}'{place} must be an object of CORS settings, e.g. "
                        "{\"allow_origins\": [\"http://localhost:3000\"], "
                        "\"allow_methods\": [\"GET\", \"POST\"]}.")
    unknown = [str(k) for k in value if k not in CORS_KEYS]
    if unknown:
        raise CorsError(f"'{name}'{place} has {', '.join(repr(k) for k in unknown)}, which "
                        f"{'is' if len(unknown) == 1 else 'are'} not CORS settings: the "
                        f"settings are {', '.join(CORS_KEYS)}.")
    for key, item in value.items():
        _check_value(key, item, f"'{name}.{key}'{place}")
    return dict(value)


def _with_exposed(headers: list[str]) -> list[str]:
    given = {h.lower() for h in headers}
    return [*headers, *(h for h in EXPOSED_HEADERS if h not in given)]


def cors_options(cors: Mapping[str, Any] | None, host: str | None) -> dict[str, Any] | None:
    """CORSMiddleware's keyword arguments for `cors` (checked "http.cors" settings, or None)
    on a server listening on `host` (None: not known); None for no CORS headers at all."""
    loopback = host is not None and is_loopback(host)
    if cors is None and not loopback:
        return None
    options = dict(_LOCAL_DEVELOPMENT if cors is None else cors)
    options["expose_headers"] = _with_exposed(list(options.get("expose_headers", [])))
    options["allow_private_network"] = loopback
    return options
