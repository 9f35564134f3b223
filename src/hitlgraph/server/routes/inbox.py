"""GET /inbox: the reviewer inbox, a static page (HTML, one script, one style sheet) that
lists the threads waiting for a person and answers them through this server's own API.

The script is kept as small files with one job each (DOM helpers, the API, Markdown, schema
forms, review buttons, policies, assignment, questions, the graph drawing, the thread's
context, the list, the keyboard, the page) and served joined, in order, as one file: no build
step, and one URL that the page's Content-Security-Policy and the auth exemption name.

The three files hold no data, so they load without an API key (see `auth.py`): the page
asks for the key itself and sends it on every data call it makes.

GET /inbox/pending is the page's one route of its own (authenticated like every data route):
what the saver's index of open interrupts adds to the thread rows the page lists, namely each
interrupt's review policy, deadline and current assignee, read in deadline order.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from hitlgraph.review import PendingIndex, PendingInterrupt
from hitlgraph.server._json import to_jsonable
from hitlgraph.server.routes._deps import RuntimeDep, TenantDep

__all__ = ["PAGES", "router"]

PAGES: dict[str, tuple[tuple[str, ...], str]] = {
    "/inbox": (("index.html",), "text/html; charset=utf-8"),
    "/inbox/inbox.js": (("dom.js", "api.js", "markdown.js", "form.js", "reviews.js",
                         "policy.js", "assign.js", "questions.js", "graph.js", "details.js",
                         "list.js",
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


@router.get("/inbox/pending")
async def pending(rt: RuntimeDep, tenant: TenantDep,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 1000) -> list[dict[str, Any]]:
    """The caller's tenant's open interrupts as the saver's index holds them, the nearest
    deadline first: at most `limit`, each with its thread and interrupt ids, node, policy
    (as interrupt() asked), deadline, warning time, assignee, group, approvals needed and the
    principals whose answers count so far (approvals_given).
    Empty when the server's checkpointer keeps no index (the page then shows no policy)."""
    saver = rt.saver
    if not isinstance(saver, PendingIndex):
        return []
    prefix = rt.checkpoint_thread(tenant, "")
    # The worker records the tenant as the checkpoints' user_id; the prefix check keeps
    # another tenant's records out even if one were filed under the wrong user_id.
    scope = {"user_id": tenant} if tenant else None
    return [_record(p, p.thread_id[len(prefix):])
            async for p in saver.alist_pending(metadata=scope, limit=limit, order="deadline")
            if p.thread_id.startswith(prefix)]


def _record(p: PendingInterrupt, thread_id: str) -> dict[str, Any]:
    return {"thread_id": thread_id, "interrupt_id": p.interrupt_id, "node": p.node,
            "graph_id": p.graph_id, "created_at": p.created_at, "expires_at": p.expires_at,
            "warn_at": p.warn_at, "assignee": p.assignee, "group": p.group,
            "approvals": p.approvals, "approvals_given": list(p.approvals_given),
            "policy": None if p.policy is None else to_jsonable(dataclasses.asdict(p.policy))}
