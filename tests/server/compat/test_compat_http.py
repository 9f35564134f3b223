"""What the SDK does not show but HTTP clients read: response headers, compared between
langgraph dev and hitlgraph serve over plain HTTP."""

from __future__ import annotations

import uuid

import httpx
from _compat import Pair


def _search_headers(url: str) -> list[dict[str, str]]:
    mark = {"compat_pages": str(uuid.uuid4())}
    for _ in range(3):
        httpx.post(f"{url}/threads", json={"metadata": mark}, timeout=30).raise_for_status()
    pages = []
    for extra in ({}, {"limit": 2}, {"limit": 2, "offset": 2}):
        answer = httpx.post(f"{url}/threads/search", json={"metadata": mark, **extra},
                            timeout=30)
        pages.append({k: v for k, v in answer.headers.items() if k.startswith("x-pagination")})
    return pages


def test_thread_search_sends_the_same_pagination_headers(pair: Pair) -> None:
    assert _search_headers(pair.hitlgraph) == _search_headers(pair.langgraph)


def _preflight(url: str) -> dict[str, str]:
    answer = httpx.options(f"{url}/threads/search", timeout=30, headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key"})
    return {"status": str(answer.status_code),
            **{k: v for k, v in answer.headers.items() if k.startswith("access-control-")
               and k != "access-control-allow-private-network"}}


def test_a_browser_preflight_on_loopback_is_answered_alike(pair: Pair) -> None:
    assert _preflight(pair.hitlgraph) == _preflight(pair.langgraph)
