"""Request bodies are read as JSON whatever their Content-Type says, as LangGraph's server
reads them.

FastAPI parses a body as JSON only when the request says so (application/json, or a +json
type); any other body reaches the route as bytes, which every route here refuses with a 422.
Clients written for LangGraph's server count on the opposite: Agent Chat UI's proxy forwards
only the x-* and authorization headers, so its JSON arrives without a Content-Type, or as
text/plain when fetch() labels the string it forwards. This middleware labels the body of every
POST, PUT and PATCH as application/json before FastAPI sees it; a body that is not JSON then
fails FastAPI's parsing, a 422 "JSON decode error" giving the position. No route takes a form
or a file: one that does would need its path exempted here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["JsonBodies"]

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_CONTENT_TYPE = b"content-type"
_JSON = b"application/json"


def _says_json(value: bytes) -> bool:
    media_type = value.split(b";", 1)[0].strip().lower()
    return media_type == _JSON or (media_type.startswith(b"application/")
                                   and media_type.endswith(b"+json"))


class JsonBodies:
    """ASGI middleware: a POST, PUT or PATCH without a JSON Content-Type gets one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _WITH_BODY:
            headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
            given = [v for k, v in headers if k.lower() == _CONTENT_TYPE]
            if not (given and _says_json(given[0])):
                kept = [(k, v) for k, v in headers if k.lower() != _CONTENT_TYPE]
                scope = {**scope, "headers": [*kept, (_CONTENT_TYPE, _JSON)]}
        await self.app(scope, receive, send)
