"""GET /inbox: the reviewer inbox, a static page (HTML, one script, one style sheet) that
lists the threads waiting for a person and answers them through this server's own API.

The script is kept as small files with one job each (DOM helpers, the API, Markdown, schema
forms, review buttons, policies, questions, the graph drawing, the thread's context, the list,
the keyboard, the page) and served joined, in order, as one file: no build step, and one URL that
the page's Content-Security-Policy and the auth exemption name.

The three files hold no data, so they load without an API key (see `auth.py`): the page
asks for the key itself and sends it on every data call it makes.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Response

__all__ = ["PAGES", "router"]

PAGES: dict[str, tuple[tuple[str, ...], str]] = {
    "/inbox": (("index.html",), "text/html; charset=utf-8"),
    "/inbox/inbox.js": (("dom.js", "api.js", "markdown.js", "form.js", "reviews.js",
                         "policy.js", "questions.js", "graph.js", "details.js", "list.js",
                         "keys.js", "app.js"),
                        "text/javascript; charset=utf-8"),
    "/inbox/inbox.css": (("inbox.css",), "text/css; charset=utf-8"),
}
"""URL path -> (files in the `hitlgraph.server.inbox` package, joined in this order; content
type)."""

# The page runs only its own script and style sheet and talks only to this origin: a value
# that slipped through escaping still could not load or run anything.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; img-src 'self'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["inbox"])


@cache
def _read(names: tuple[str, ...]) -> bytes:
    folder = files("hitlgraph.server.inbox")
    return b"\n".join(folder.joinpath(name).read_bytes() for name in names)


def _serve(path: str) -> None:
    names, media_type = PAGES[path]
    served = path.rsplit("/", 1)[-1]

    async def page() -> Response:
        return Response(_read(names), media_type=media_type, headers=_HEADERS)

    page.__doc__ = f"The inbox page's {served} (no authentication: it holds no data)."
    router.add_api_route(path, page, methods=["GET", "HEAD"], include_in_schema=False,
                         name=f"inbox:{served}")


for _path in PAGES:
    _serve(_path)
