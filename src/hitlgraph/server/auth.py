"""Who is calling: API keys (hashed) or a custom callable, and the request-body size limit.

With authentication configured, every request must be accepted by it, or answers 401; the
identity it returns is the request's *principal*: a tenant, and optionally a user within it.
Every thread and run belongs to a tenant, and another tenant's ids answer 404 as missing ones
do; the users of one tenant share its threads, and the user is who a decision is logged as
(`Command(by=...)`: the user, else the tenant). Without any authentication all requests share
the tenant "" (fine on 127.0.0.1; `hitlgraph serve` refuses to listen on another address
without it).

Open to all: `GET /ok`, and the inbox page's static shell, exactly `GET`/`HEAD` of `/inbox`,
`/inbox/inbox.js` and `/inbox/inbox.css`, plus `/` (a redirect to `/inbox`) and `/favicon.ico`.
None of them holds data; the page loads, asks the person for their key, and sends it on every
call it makes for data, which is authenticated like any other client's (a 401 brings its key
form back).

API keys are kept only as SHA-256 digests and compared in constant time. Give them as
"tenant:key" pairs in $HITLGRAPH_API_KEYS (comma-separated; a bare key is tenant "default"),
in `ServerSettings.api_keys`, or in langgraph.json under "hitlgraph": {"api_keys": ...}, where
"sha256:<hex>" keeps the key itself out of the file. Where a tenant is named, "tenant/user"
names a user within it ("acme/alice:key-1,acme/bob:key-2": two people of tenant "acme"); a
tenant name itself never holds "/", so the first "/" always ends it. Clients send the key in
the `x-api-key` header (`get_client(url=..., api_key=...)` does). A custom auth callable
returns a tenant, "tenant/user", or a `Principal`.

Review groups: a principal belongs to groups, which decide who may answer an interrupt whose
approvers are a group, and who may claim one asked for a group (403 otherwise). An auth
callable returns them in `Principal(tenant, user, groups=...)`; API keys get them from
`ApiKeyAuth(keys, groups={"finance": ["acme/alice", ...]})`, each member a principal that has
a key (checked when the server starts). Where the auth layer keeps no groups, claims are not
checked (`group=` is then a label the inbox filters by), but an answer to a group's approvers
is still refused: nothing can show that the caller is one.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hitlgraph.review import Groups
from hitlgraph.server._asgi import replay
from hitlgraph.server._json_body import JsonBodies

__all__ = [
    "ApiKeyAuth",
    "Authenticator",
    "Principal",
    "RequestGuard",
    "check_tenant",
    "checked",
    "decider_of",
    "groups_of",
    "hash_key",
    "parse_api_keys",
    "parse_groups",
    "parse_principal",
    "review_groups",
    "tenant_of",
]

Authenticator = Callable[
    [Request], "str | Principal | Awaitable[str | Principal | None] | None"]
"""Takes the request, returns the caller's tenant id ("tenant" or "tenant/user") or
Principal, or None to refuse it (401)."""

ENV_KEYS = "HITLGRAPH_API_KEYS"
HEADER = "x-api-key"
_SCOPE_KEY = "hitlgraph.tenant"
_USER_KEY = "hitlgraph.user"
_GROUPS_KEY = "hitlgraph.groups"
_OPEN_PATHS = frozenset({"/ok"})
# The inbox page's static files (routes/inbox.py serves them), the redirect from / to it and
# the icon (routes/root.py): they hold no data.
_STATIC_PATHS = frozenset({"/inbox", "/inbox/inbox.js", "/inbox/inbox.css", "/",
                           "/favicon.ico"})
_STATIC_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: the tenant whose threads and runs the request reaches, and the person within
    it (None: the key names no one, and decisions are logged as the tenant)."""

    tenant: str
    user: str | None = None
    groups: frozenset[str] | None = None
    """The review groups the caller belongs to: only members answer an interrupt whose
    approvers are a group, and claim one asked for a group. None: the auth layer keeps no
    groups, so claims are not checked (answers to a group's approvers are still refused)."""

    @property
    def decider(self) -> str | None:
        """The name a decision is logged under: the user, else the tenant (None for "")."""
        return self.user or self.tenant or None


def parse_principal(name: str) -> Principal:
    """ "tenant" or "tenant/user" as a Principal.

    Raises:
        ValueError: the tenant or the user is empty, or the user holds another "/".
    """
    tenant, _, user = name.partition("/")
    return checked(Principal(tenant, user if "/" in name else None))


def checked(principal: Principal) -> Principal:
    """`principal`, if it can be one: a tenant that is not empty, and a user (if any) that is
    not empty either; neither holds "/" (the tenant's storage key must stay unambiguous).

    Raises:
        ValueError: naming the principal and the form expected.
    """
    tenant, user = principal.tenant, principal.user
    if "/" in tenant:
        check_tenant(tenant)
    shown = tenant if user is None else f"{tenant}/{user}"
    if not tenant.strip() or (user is not None and (not user.strip() or "/" in user)):
        raise ValueError(f"Principal {shown!r} is not 'tenant' or 'tenant/user': the tenant "
                         "and the user are not empty and contain no '/' (e.g. 'acme/alice').")
    groups = principal.groups
    if groups is None:
        return principal
    if isinstance(groups, (str, bytes)) or not isinstance(groups, (set, frozenset, list, tuple)) \
            or not all(isinstance(g, str) and g for g in groups):
        raise ValueError(f"The groups of principal {shown!r} must be a set of non-empty "
                         f"group names, got {groups!r}.")
    return principal if isinstance(groups, frozenset) \
        else Principal(tenant, user, frozenset(groups))


def parse_groups(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    """Review groups as the server's config gives them: {"group": ["tenant/user", ...]}.

    Raises:
        ValueError: naming `where` and the value at fault: not a mapping, a group name that is
            empty, members that are not a list, or a member that is not "tenant" or
            "tenant/user".
    """
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must map each review group to a list of principals, e.g. "
                         f'{{"finance": ["acme/alice", "acme/bob"]}}, got {value!r}.')
    out: dict[str, tuple[str, ...]] = {}
    for group, members in value.items():
        if not isinstance(group, str) or not group.strip():
            raise ValueError(f"{where} has the group name {group!r}: use non-empty text.")
        if isinstance(members, str) or not isinstance(members, (list, tuple)):
            raise ValueError(f"{where}: the members of group {group!r} must be a list of "
                             f"'tenant/user' names, got {members!r}.")
        for member in members:
            if not isinstance(member, str):
                raise ValueError(f"{where}: group {group!r} lists {member!r}, which is not "
                                 "a 'tenant/user' name.")
            try:
                parse_principal(member)
            except ValueError as exc:
                raise ValueError(f"{where}: group {group!r} lists {member!r}: {exc}") from None
        out[group] = tuple(members)
    return out


def _member_of(groups: Mapping[str, tuple[str, ...]], keys: Mapping[str, str]
               ) -> dict[str, frozenset[str]]:
    """principal name -> the groups it belongs to. Raises ValueError for a member without a
    key (a typo would otherwise leave a group silently short of someone)."""
    found: dict[str, set[str]] = {}
    for group, members in groups.items():
        for member in members:
            if member not in keys:
                raise ValueError(f"Review group {group!r} lists {member!r}, which has no API "
                                 f"key; the keys' principals are {sorted(keys)}.")
            found.setdefault(member, set()).add(group)
    return {name: frozenset(names) for name, names in found.items()}


def hash_key(key: str) -> str:
    """The form a key is stored in: "sha256:<hex digest>"."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_api_keys(text: str) -> dict[str, str]:
    """ "tenant:key,tenant2/user:key2" (a bare key: tenant "default") as principal -> key.

    Raises:
        ValueError: an entry has an empty tenant or key.
    """
    out: dict[str, str] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        tenant, sep, key = entry.partition(":")
        if not sep:
            tenant, key = "default", entry
        if not tenant.strip() or not key.strip():
            raise ValueError(f"${ENV_KEYS} has an entry without tenant or key: write "
                             "'tenant:key' pairs separated by commas.")
        out[tenant.strip()] = key.strip()
    return out


class ApiKeyAuth:
    """Accepts a request whose `x-api-key` header is one of the keys; its principal is the
    key's.

    Args:
        keys: principal ("tenant" or "tenant/user") -> key, or -> "sha256:<hex digest of the
            key>".
        groups: review group -> the principals (as `keys` names them) who belong to it
            (see `parse_groups`).

    Raises:
        ValueError: no key, a principal that is not "tenant" or "tenant/user", or a group
            member that has no key (naming it).
    """

    def __init__(self, keys: Mapping[str, str], groups: Mapping[str, Any] | None = None
                 ) -> None:
        member_of = None if groups is None \
            else _member_of(parse_groups(groups, "ApiKeyAuth(groups=...)"), keys)
        self._digests: list[tuple[bytes, Principal]] = []
        for name, key in keys.items():
            found = parse_principal(name)
            principal = Principal(found.tenant, found.user, None if member_of is None
                                  else member_of.get(name, frozenset()))
            digest = key if key.startswith("sha256:") and len(key) == 71 else hash_key(key)
            self._digests.append((digest.encode("ascii"), principal))
        if not self._digests:
            raise ValueError("ApiKeyAuth needs at least one key.")

    def __call__(self, request: Request) -> Principal | None:
        given = request.headers.get(HEADER)
        if not given:
            return None
        digest = hash_key(given).encode("ascii")
        found: Principal | None = None
        for stored, principal in self._digests:  # look at every key: timing says nothing
            if hmac.compare_digest(stored, digest):
                found = principal
        return found


def api_keys_from_env() -> dict[str, str]:
    """$HITLGRAPH_API_KEYS parsed (empty when unset)."""
    text = os.environ.get(ENV_KEYS, "")
    return parse_api_keys(text) if text.strip() else {}


def check_tenant(tenant: str) -> str:
    """`tenant`, if it can name a tenant: no "/" (a tenant's checkpoints are kept under
    "tenant/thread_id", which must not be ambiguous). Raises ValueError otherwise."""
    if "/" in tenant:
        raise ValueError(f"Tenant {tenant!r} contains '/', which tenant names cannot: rename it "
                         "(in the API keys, or in what the auth callable returns).")
    return tenant


def tenant_of(request: Request) -> str:
    """The tenant the guard found for this request ("" without authentication)."""
    return str(request.scope.get(_SCOPE_KEY, ""))


def decider_of(request: Request) -> str | None:
    """Who this request's answers are logged as (`Command.by`): its principal's user, else
    its tenant; None without authentication."""
    return Principal(tenant_of(request), request.scope.get(_USER_KEY)).decider


def groups_of(request: Request) -> frozenset[str] | None:
    """The review groups of this request's principal; None when the auth layer keeps none
    (no authentication, API keys without groups, or an auth callable's Principal without)."""
    found = request.scope.get(_GROUPS_KEY)
    return found if isinstance(found, frozenset) else None


def review_groups(request: Request) -> Groups | None:
    """Who the library's checks see in each group for this request: its principal, by the
    name its answers are logged as (`decider_of`), in the groups it belongs to (None: see
    groups_of)."""
    groups, who = groups_of(request), decider_of(request)
    if groups is None:
        return None
    return Groups({group: [who] for group in groups} if who else {})


def _principal(found: str | Principal) -> Principal:
    """What the auth returned, checked. Raises ValueError when it cannot name a principal."""
    return checked(found) if isinstance(found, Principal) else parse_principal(str(found))


async def _send_json(send: Send, status: int, detail: str,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware: refuses bodies over `max_body_bytes` (413) and unauthenticated
    requests (401), and records the tenant in the scope. Plain ASGI, so SSE responses
    stream through untouched."""

    def __init__(self, app: ASGIApp, *, auth: Authenticator | None, max_body_bytes: int
                 ) -> None:
        self.app = app
        self.auth = auth
        self.max_body_bytes = max_body_bytes
        # The body read here goes straight on to JsonBodies when it comes next (as it does).
        self._with_body = app.with_body if isinstance(app, JsonBodies) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[_SCOPE_KEY], scope[_USER_KEY], scope[_GROUPS_KEY] = "", None, None
        if self.auth is not None and not _is_open(scope):
            found = self.auth(Request(scope))
            if inspect.isawaitable(found):
                found = await found
            if not found:
                await _send_json(send, 401, "Missing or invalid API key: send it in the "
                                 "'x-api-key' header (get_client(url=..., api_key=...)).",
                                 [(b"www-authenticate", b"x-api-key")])
                return
            try:
                principal = _principal(found)
            except ValueError as exc:  # the auth callable's bug: say so, serve nothing
                await _send_json(send, 500, str(exc))
                return
            scope[_SCOPE_KEY], scope[_USER_KEY] = principal.tenant, principal.user
            scope[_GROUPS_KEY] = principal.groups
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        limit = self.max_body_bytes
        too_big = (f"The request body is larger than the server's limit of {limit} bytes; "
                   "send less (the limit is ServerSettings.max_body_bytes).")
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_json(send, 413, too_big)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and length is None:
            await self.app(scope, receive, send)
            return
        # Read the body here, up to the limit, and replay it to the app.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self._on(scope, b"", message, receive, send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_json(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self._on(scope, b"".join(chunks), None, receive, send)

    async def _on(self, scope: Scope, body: bytes, ended: Message | None, receive: Receive,
                  send: Send) -> None:
        """Hand the request on with the body read (and the message that ended it early)."""
        if self._with_body is not None:
            await self._with_body(scope, body, ended, receive, send)
        else:
            await self.app(scope, replay(body, ended, receive), send)


def _is_open(scope: Scope) -> bool:
    """Whether the request needs no authentication: /ok, and GETs of the inbox shell, of /
    and of the icon."""
    path = scope.get("path")
    return path in _OPEN_PATHS or (path in _STATIC_PATHS
                                   and scope.get("method") in _STATIC_METHODS)
