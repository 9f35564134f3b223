"""GET / and GET /favicon.ico: a person who opens the server's address in a browser lands on
the reviewer inbox, and the browser's request for an icon gets one instead of a 404.

Neither holds data, so both answer without an API key, as the inbox page's own files do (see
`auth.py`); the inbox then asks for the key itself.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

__all__ = ["ICON_MEDIA_TYPE", "PATHS", "router"]

PATHS = ("/", "/favicon.ico")
"""The paths this module serves (GET and HEAD only)."""

ICON_MEDIA_TYPE = "image/svg+xml"

# A check mark on the inbox's accent colour. The inbox page links it as an SVG icon, and
# browsers that ask for /favicon.ico on their own take it by its media type.
_ICON = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
         b'<rect width="16" height="16" rx="3" fill="#2557d6"/>'
         b'<path d="M4 8.5l2.5 2.5L12 5.5" fill="none" stroke="#fff" stroke-width="2" '
         b'stroke-linecap="round" stroke-linejoin="round"/></svg>')
_ICON_HEADERS = {
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "max-age=86400",
}

router = APIRouter(tags=["inbox"])


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False, name="root")
async def root() -> RedirectResponse:
    """To the reviewer inbox. The target is relative ("inbox"), so the redirect also works
    behind a proxy that serves the app under a path prefix (/prefix/ -> /prefix/inbox)."""
    return RedirectResponse("inbox", status_code=307)


@router.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False,
                  name="favicon")
async def favicon() -> Response:
    """The server's icon, a small SVG."""
    return Response(_ICON, media_type=ICON_MEDIA_TYPE, headers=_ICON_HEADERS)
