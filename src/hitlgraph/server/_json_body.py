"""Request bodies are read as JSON whatever their Content-Type says, as LangGraph's server
reads them, and only standard JSON nested at most MAX_DEPTH levels gets through.

FastAPI parses a body as JSON only when the request says so (application/json, or a +json
type); any other body reaches the route as bytes, which every route here refuses with a 422.
Clients written for LangGraph's server count on the opposite: Agent Chat UI's proxy forwards
only the x-* and authorization headers, so its JSON arrives without a Content-Type, or as
text/plain when fetch() labels the string it forwards. This middleware labels the body of every
POST, PUT, PATCH and DELETE (DELETE /store/items takes a body) as application/json before
FastAPI sees it; a body that is not JSON then fails FastAPI's parsing, a 422 "JSON decode
error" giving the position. No route takes a form or a file: one that does would need its
path exempted here.

Python's parser also takes NaN, Infinity and -Infinity, nesting as deep as its recursion
limit, and text that is not Unicode: half of a UTF-16 surrogate pair (`"\\ud800"`, or its
bytes), which no answer can encode (a 500 after the value was stored). PostgreSQL's text and
jsonb refuse the NUL character too (`"\\u0000"`, a 500 from the store, found by fuzzing a
server on PostgreSQL); SQLite would keep it, but it is refused on both, so a client meets one
behaviour. None of these can be stored in PostgreSQL's jsonb or answered back, and deep
values break every later comparison and answer, so all are refused here (422) before any
route parses the body; so is a body that is not UTF-8 at all, which FastAPI would answer
with a bare 400. A body is parsed once more for that only when a cheap look at its bytes
cannot rule it out (it is not UTF-8, names NaN or Infinity, holds a surrogate's or NUL's
escape, or opens more than MAX_DEPTH brackets); its size is bounded already (RequestGuard).

NUL reaches PostgreSQL through URLs as well (`%00` in a query parameter or a path segment:
a 500, found by fuzzing GET /store/items on PostgreSQL), so a URL holding one is refused
here too, for every method, naming the parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hitlgraph.server._asgi import replay

__all__ = ["MAX_DEPTH", "JsonBodies", "body_problem", "deeper_than", "url_problem"]

MAX_DEPTH = 64
"""How many levels arrays and objects may nest in a request body (the body itself is one)."""

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CONTENT_TYPE = b"content-type"
_JSON = b"application/json"
_TOO_DEEP = (f"arrays and objects nest deeper than {MAX_DEPTH} levels, the server's limit: "
             "send flatter data.")


class _NotStandard(ValueError):
    """A constant Python's parser takes and JSON does not."""


def _refuse_constant(name: str) -> Any:
    raise _NotStandard(f"'{name}' is not JSON (JSON has no NaN, Infinity or -Infinity): "
                       "send a number, null or a string instead.")


def deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels in `value` (walked without
    recursion, so any depth can be measured)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""An escape of a UTF-16 surrogate: half of a pair, or a whole pair (which is fine)."""
_NUL_ESCAPE = b"\\u0000"
"""JSON's only spelling of NUL in a string (a raw control character is not JSON)."""


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _may_be_refused(body: bytes) -> bool:
    """A cheap look that rules out most bodies without parsing them: NaN and Infinity spell
    their names, surrogates and NUL are escaped, and nesting deeper than MAX_DEPTH opens
    more than MAX_DEPTH brackets."""
    return (b"NaN" in body or b"Infinity" in body
            or _SURROGATE_ESCAPE.search(body) is not None or _NUL_ESCAPE in body
            or body.count(b"[") + body.count(b"{") > MAX_DEPTH)


def _texts(value: Any) -> Iterator[tuple[str, str]]:
    """(where, text) of every key and string in `value`, walked without recursion (the
    value is no deeper than MAX_DEPTH and its size is bounded by the body's)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield where, key
                stack.append((f"{where}.{key}" if where else key, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in enumerate(item))


def _not_storable(value: Any) -> str | None:
    """Why a key or string of `value` cannot be stored: half a surrogate pair, or NUL."""
    for where, text in _texts(value):
        at = f" in '{where}'" if where else ""
        if "\x00" in text:
            return (f"'\\u0000'{at} is the NUL character, which the server's database "
                    "cannot store in text: leave it out.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            half = f"\\u{ord(text[exc.start]):04x}"
            return (f"'{half}'{at} is half of a UTF-16 surrogate pair, not a character: "
                    "send the whole pair, or the character itself.")
    return None


def body_problem(body: bytes) -> str | None:
    """Why a request body is refused: bytes that are not UTF-8, non-standard constants,
    nesting deeper than MAX_DEPTH, half a surrogate pair, or NUL. None for any other body
    (one that is not JSON at all is left to FastAPI's parser, whose 422 gives the
    position)."""
    if not body or (_is_utf8(body) and not _may_be_refused(body)):
        return None
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except _NotStandard as exc:
        return str(exc)
    except RecursionError:
        return _TOO_DEEP
    except UnicodeDecodeError as exc:
        return (f"byte {exc.start} (0x{body[exc.start]:02x}) is not UTF-8 text: send JSON "
                "encoded as UTF-8.")
    except ValueError:
        return None
    return _TOO_DEEP if deeper_than(value, MAX_DEPTH) else _not_storable(value)


def url_problem(scope: Scope) -> str | None:
    """Why a request's URL is refused: the NUL character in its path or a query parameter
    (see the module docstring). None for any other URL; a cheap look first."""
    nul = "the NUL character (%00), which the server's database cannot store: leave it out."
    if "\x00" in scope.get("path", ""):
        return f"the path holds {nul}"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query parameter '{name.replace(chr(0), '%00')}' holds {nul}"
    return None


def _says_json(value: bytes) -> bool:
    media_type = value.split(b";", 1)[0].strip().lower()
    return media_type == _JSON or (media_type.startswith(b"application/")
                                   and media_type.endswith(b"+json"))


def _labelled(scope: Scope) -> Scope:
    headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
    given = [v for k, v in headers if k.lower() == _CONTENT_TYPE]
    if given and _says_json(given[0]):
        return scope
    kept = [(k, v) for k, v in headers if k.lower() != _CONTENT_TYPE]
    return {**scope, "headers": [*kept, (_CONTENT_TYPE, _JSON)]}


async def _read(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, and the message that ended it early (a disconnect), if one did."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


class JsonBodies:
    """ASGI middleware: a POST, PUT, PATCH or DELETE without a JSON Content-Type gets one,
    and a body body_problem() (or any request's URL url_problem()) finds fault with is
    answered 422 (its detail a string, as validation errors are)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = url_problem(scope)
        if refused is not None:
            await _refuse_url(refused, scope, receive, send)
            return
        if scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        body, ended = await _read(receive)
        await self._checked(scope, body, ended, receive, send)

    async def with_body(self, scope: Scope, body: bytes, ended: Message | None,
                        receive: Receive, send: Send) -> None:
        """As a call, for an HTTP request whose body the middleware before this one read
        (RequestGuard): `body`, and the message that ended it early (a disconnect), if one
        did; `receive` reads on after them. The body is not read and replayed twice."""
        refused = url_problem(scope)
        if refused is not None:
            await _refuse_url(refused, scope, receive, send)
            return
        if scope["method"] not in _WITH_BODY:
            await self.app(scope, replay(body, ended, receive), send)
            return
        await self._checked(scope, body, ended, receive, send)

    async def _checked(self, scope: Scope, body: bytes, ended: Message | None,
                       receive: Receive, send: Send) -> None:
        problem = body_problem(body) if ended is None else None
        if problem is not None:
            answer = JSONResponse({"detail": f"Invalid request body: {problem}"}, 422)
            await answer(scope, receive, send)
            return
        await self.app(_labelled(scope), replay(body, ended, receive), send)


async def _refuse_url(refused: str, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"detail": f"Invalid request: {refused}"}, 422)(scope, receive, send)
