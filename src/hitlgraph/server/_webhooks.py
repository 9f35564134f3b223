"""Run webhooks: once a run ends, its run object is POSTed to the URL its body named, as
LangGraph's server does.

The body is LangGraph's: the run (as GET .../runs/{run_id} shows it) with the status it ended
in, `run_started_at`, `run_ended_at`, `webhook_sent_at`, the thread's `values` and, when the
run did not succeed, its `error` ({error, message}). Delivery happens in a background task,
never in the worker's way: up to ATTEMPTS tries, the next after a growing, jittered pause, for
network errors, timeouts, 429 and 5xx answers; each try has TIMEOUT.

A tenant must not make the server call hosts behind it (the cloud metadata address, a
database's admin port, the server itself). A URL whose host is, or resolves to, a loopback,
private, link-local or otherwise non-public address is refused (422 at run creation), unless
HITLGRAPH_WEBHOOK_ALLOW_HOSTS (comma-separated host names or addresses) names it. The address
is checked again when the webhook is sent, and the request goes to that very address (the
URL's host name kept for the Host header and TLS), so a name that later resolves elsewhere
(DNS rebinding) reaches nothing new.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import random
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

__all__ = ["ALLOW_HOSTS_ENV", "ATTEMPTS", "WebhookRefusedError", "check", "deliver", "payload",
           "post", "valid_url"]

log = logging.getLogger("hitlgraph.server")

ALLOW_HOSTS_ENV = "HITLGRAPH_WEBHOOK_ALLOW_HOSTS"
ATTEMPTS = 3
"""Tries of one delivery (LangGraph's server makes 3)."""
TIMEOUT = (5.0, 30.0)
"""(connect, whole request) seconds of one try, as LangGraph's server."""
BACKOFF = 1.0
"""Seconds before the second try; each later pause doubles, plus up to as much jitter."""
MAX_URL = 4096

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRefusedError(ValueError):
    """The webhook URL may not be called (its message says why and what to do)."""


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one try goes: the URL with its host replaced by a checked address."""

    url: str
    host: str
    """The Host header: the URL's host (and port) as written."""
    name: str
    """The host name, for TLS (SNI and the certificate's check)."""


def _allowed() -> set[str]:
    names = os.environ.get(ALLOW_HOSTS_ENV, "")
    return {name.strip().lower().strip("[]") for name in names.split(",") if name.strip()}


def _internal(address: _Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return not address.is_global or address.is_multicast


async def _addresses(host: str, port: int) -> list[_Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WebhookRefusedError(f"The webhook host '{host}' does not resolve ({exc}): give "
                                  "a URL whose host name the server can look up.") from None
    # The scope of a link-local IPv6 address ("fe80::1%eth0") is not part of the address.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


def valid_url(url: str) -> str:
    """`url` when it is an http(s) URL with a host and a valid port (what can be checked
    without a look-up, as a body is validated).

    Raises:
        WebhookRefusedError: it is not.
    """
    if len(url) > MAX_URL:
        raise WebhookRefusedError(f"The webhook URL is {len(url)} characters long; at most "
                                  f"{MAX_URL} are accepted.")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        raise WebhookRefusedError(f"The webhook '{url}' has a bad port.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefusedError(f"The webhook '{url}' is not an http:// or https:// URL "
                                  "with a host: give one, e.g. https://example.com/hooks/run.")
    return url


async def _target(url: str) -> _Target:
    """The checked address to send to (see the module docstring).

    Raises:
        WebhookRefusedError: a malformed URL, a host that does not resolve, or an internal
            address that HITLGRAPH_WEBHOOK_ALLOW_HOSTS does not name.
    """
    parts = urlsplit(valid_url(url))
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed = _allowed()
    addresses = await _addresses(host, port)
    if host not in allowed:
        blocked = [a for a in addresses if _internal(a) and str(a) not in allowed]
        if blocked:
            raise WebhookRefusedError(
                f"The webhook host '{host}' is an internal address ({blocked[0]}: loopback, "
                "private, link-local or reserved), which the server does not call for a "
                f"client. To allow it, list '{host}' in {ALLOW_HOSTS_ENV} (comma-separated "
                "host names or addresses) where the server runs.")
    first = addresses[0]
    user, _, written = parts.netloc.rpartition("@")
    netloc = f"[{first}]" if first.version == 6 else str(first)
    if parts.port is not None:
        netloc += f":{parts.port}"
    if user:
        netloc = f"{user}@{netloc}"
    return _Target(urlunsplit(parts._replace(netloc=netloc)), written, host)


async def check(url: str) -> None:
    """Refuse a webhook URL the server may not call (see `_target`)."""
    await _target(url)


_CANCELLED = {
    "interrupted": {"error": "UserInterrupt", "message": "User interrupted the run"},
    "rollback": {"error": "UserRollback", "message": "User requested rollback of the run"},
}
"""The error LangGraph's server reports for a run cancelled by a client (its exceptions)."""


def payload(run: Mapping[str, Any], *, status: str, started: str, values: Any,
            error: Mapping[str, Any] | None) -> dict[str, Any]:
    """The body LangGraph's server POSTs for a run that ended: the run object (`run`, as the
    API shows it) in its final `status` ("rollback" for a rolled back one, whose values are
    then null), when it ran, the thread's values, and its error."""
    now = datetime.now(timezone.utc).isoformat()
    body = {**run, "status": status, "run_started_at": started, "run_ended_at": now,
            "webhook_sent_at": now, "values": None if status == "rollback" else values}
    error = error or _CANCELLED.get(status)
    if error is not None:
        body["error"] = {"error": error.get("error"), "message": error.get("message")}
    return body


def _retriable(exc: Exception) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, (httpx.TransportError, asyncio.TimeoutError))


async def post(url: str, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
    """One try of POSTing `content` (JSON) to `url`, sent to the address `_target` checked,
    within TIMEOUT; the answer, whatever its status (shared by the review notifications).

    Raises:
        WebhookRefusedError: the URL may not be called now.
        httpx.TransportError, asyncio.TimeoutError: it could not be sent or answered.
    """
    target = await _target(url)
    # Redirects are not followed: their target would escape the address check.
    async with httpx.AsyncClient(timeout=httpx.Timeout(TIMEOUT[1], connect=TIMEOUT[0]),
                                 follow_redirects=False, trust_env=False) as client:
        return await asyncio.wait_for(client.post(
            target.url, content=content, headers={
                **headers, "Host": target.host, "Content-Type": "application/json"},
            extensions={"sni_hostname": target.name}), TIMEOUT[1])


async def _post(url: str, body: Mapping[str, Any]) -> None:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    answer = await post(url, content.encode("utf-8"), {})
    answer.raise_for_status()


async def deliver(url: str, body: Mapping[str, Any]) -> bool:
    """POST `body` to `url`, retried (see the module docstring); False when every try
    failed or the URL is refused now (each logged)."""
    run_id = body.get("run_id")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await _post(url, body)
            return True
        except WebhookRefusedError as exc:
            log.warning("webhook of run %s not sent: %s", run_id, exc)
            return False
        except Exception as exc:
            if attempt == ATTEMPTS or not _retriable(exc):
                log.warning("webhook of run %s to %s failed after %s tries: %s: %s",
                            run_id, url, attempt, type(exc).__name__, exc)
                return False
            pause = BACKOFF * 2 ** (attempt - 1)
            await asyncio.sleep(pause + random.uniform(0, pause))
    return False
