"""Where a person starts: `hitlgraph serve` prints the inbox's URL once it listens, the
server's address (/) leads to the inbox, and the browser's icon request finds an icon."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
from _harness import RunningServer, ServerProcess

from hitlgraph.server import auth
from hitlgraph.server.routes.inbox import PAGES
from hitlgraph.server.routes.root import ICON_MEDIA_TYPE, PATHS


def test_serve_prints_the_inbox_url_once_it_listens_and_root_leads_there(
        start_process: Callable[..., ServerProcess], database: str) -> None:
    served = start_process(database)  # --port 0: the line must name the port really taken
    line = served.wait_for("hitlgraph server on ")
    assert f"hitlgraph server on {served.url}, reviewer inbox at {served.url}/inbox" in line
    landed = httpx.get(f"{served.url}/", follow_redirects=True)
    assert landed.status_code == 200 and str(landed.url) == f"{served.url}/inbox"
    assert "<h1>Inbox</h1>" in landed.text


def test_root_redirects_to_the_inbox_by_a_relative_url(server: RunningServer) -> None:
    for method in ("GET", "HEAD"):
        answer = httpx.request(method, f"{server.url}/")
        assert answer.status_code == 307, method
        assert answer.headers["location"] == "inbox"  # /prefix/ -> /prefix/inbox behind a proxy


def test_favicon_is_an_svg_icon_not_a_404(server: RunningServer) -> None:
    for method in ("GET", "HEAD"):
        icon = httpx.request(method, f"{server.url}/favicon.ico")
        assert icon.status_code == 200, method
        assert icon.headers["content-type"] == ICON_MEDIA_TYPE
        assert icon.headers["content-security-policy"] == "default-src 'none'"
    body = httpx.get(f"{server.url}/favicon.ico").content
    assert body.startswith(b"<svg") and b"<script" not in body
    page = httpx.get(f"{server.url}/inbox").text
    assert '<link rel="icon" href="favicon.ico" type="image/svg+xml">' in page


def test_root_and_favicon_need_no_key_and_nothing_else_opens_with_them(
        start_server: Callable[..., RunningServer]) -> None:
    keyed = start_server(api_keys={"alice": "alice-key"})
    assert set(PAGES) | set(PATHS) == auth._STATIC_PATHS  # exactly these files are open
    with httpx.Client(base_url=keyed.url, timeout=30) as http:
        assert http.get("/").status_code == 307 and http.get("/").content == b""
        assert http.get("/favicon.ico").status_code == 200
        assert http.get("/", follow_redirects=True).status_code == 200  # the inbox shell
        for method, path in (("POST", "/"), ("DELETE", "/"), ("POST", "/favicon.ico"),
                             ("GET", "/favicon.ico/x"), ("GET", "/favicon.svg")):
            assert http.request(method, path).status_code == 401, (method, path)


def test_root_and_favicon_stay_out_of_the_openapi_schema(server: RunningServer) -> None:
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert not set(PATHS) & set(paths)
    assert "/threads/{thread_id}/runs/wait" in paths


def test_serve_names_keys_without_effect_once(
        start_process: Callable[..., ServerProcess], database: str, config_file: Path) -> None:
    # `hitlgraph serve` reads the config twice (the auth check, then the app): one warning.
    data = json.loads(config_file.read_text(encoding="utf-8"))
    config_file.write_text(json.dumps({**data, "dependencies": ["."]}), encoding="utf-8")
    served = start_process(database)
    served.wait_for("hitlgraph server on ")
    warned = [line for line in served.log if "no effect in hitlgraph serve" in line]
    assert len(warned) == 1 and "'dependencies'" in warned[0]
