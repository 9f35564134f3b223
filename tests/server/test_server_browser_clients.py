"""What browser clients (Agent Chat UI, Agent Inbox, a page of another origin) need of the
server, as LangGraph's server gives it: CORS ("http.cors", or the loopback default), JSON
bodies whatever their Content-Type, and a resume sent with `input: {}` beside the command."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer, ServerProcess

from hitlgraph.server import ServerSettings, create_app
from hitlgraph.server.config import ConfigError

PAGE = "http://localhost:3000"
OTHER = "http://elsewhere.test"
KEY = "browser-key-0123456789"
EXPOSED = {"x-pagination-total", "x-pagination-next", "content-location"}

Start = Callable[..., RunningServer]


def _preflight(url: str, origin: str = PAGE, method: str = "POST", **extra: str
               ) -> httpx.Response:
    headers = {"origin": origin, "access-control-request-method": method, **extra}
    return httpx.options(f"{url}/threads/search", headers=headers)


def _exposed(response: httpx.Response) -> set[str]:
    given = response.headers.get("access-control-expose-headers", "")
    return {h.strip().lower() for h in given.split(",") if h.strip()}


def _with_cors(config_file: Path, cors: dict[str, Any]) -> None:
    """Add "http": {"cors": cors} to the test's langgraph.json."""
    data = json.loads(config_file.read_text(encoding="utf-8"))
    config_file.write_text(json.dumps({**data, "http": {"cors": cors}}), encoding="utf-8")


# CORS on a loopback address, without "http.cors": any page may call (local development).


def test_preflight_on_loopback_lets_any_origin_call_without_settings(start_server: Start
                                                                     ) -> None:
    server = start_server(host="127.0.0.1")
    answer = _preflight(server.url, **{"access-control-request-headers": "content-type,x-api-key"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert answer.headers["access-control-allow-headers"] == "content-type,x-api-key"
    assert answer.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in answer.headers


def test_simple_request_on_loopback_exposes_paging_and_run_location_headers(
        start_server: Start) -> None:
    server = start_server(host="127.0.0.1")
    answer = httpx.post(f"{server.url}/assistants/search", json={"limit": 1},
                        headers={"origin": PAGE})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert _exposed(answer) == EXPOSED
    assert answer.headers["x-pagination-next"] == "1"


def test_private_network_preflight_is_granted_on_loopback(start_server: Start) -> None:
    server = start_server(host="127.0.0.1")
    answer = _preflight(server.url, "https://chat.example.com",
                        **{"access-control-request-private-network": "true"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-private-network"] == "true"


def test_hitlgraph_serve_on_loopback_answers_preflights(
        start_process: Callable[..., ServerProcess], database: str) -> None:
    running = start_process(database)
    answer = _preflight(running.url)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"


# Elsewhere, without "http.cors": no CORS headers.


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", None])
def test_without_settings_a_server_not_on_loopback_sends_no_cors_headers(
        start_server: Start, host: str | None) -> None:
    server = start_server(host=host)
    preflight = _preflight(server.url)
    assert preflight.status_code == 405
    simple = httpx.post(f"{server.url}/threads/search", json={}, headers={"origin": PAGE})
    assert simple.status_code == 200
    for answer in (preflight, simple):
        assert not [h for h in answer.headers if h.startswith("access-control-")]


# "http.cors" in langgraph.json, or ServerSettings.cors.


def test_configured_origins_are_allowed_and_others_refused(start_server: Start,
                                                          config_file: Path) -> None:
    _with_cors(config_file, {"allow_origins": [PAGE], "allow_methods": ["GET", "POST"],
                             "allow_headers": ["x-api-key", "content-type"],
                             "expose_headers": ["x-request-id"]})
    server = start_server(host="0.0.0.0")
    allowed = _preflight(server.url, **{"access-control-request-headers": "x-api-key"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PAGE
    refused = _preflight(server.url, OTHER)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = httpx.post(f"{server.url}/threads/search", json={}, headers={"origin": PAGE})
    assert simple.headers["access-control-allow-origin"] == PAGE
    assert _exposed(simple) == {*EXPOSED, "x-request-id"}
    other = httpx.post(f"{server.url}/threads/search", json={}, headers={"origin": OTHER})
    assert "access-control-allow-origin" not in other.headers


def test_configured_cors_replaces_the_loopback_default(start_server: Start,
                                                       config_file: Path) -> None:
    _with_cors(config_file, {"allow_origin_regex": r"https://.*\.example\.com",
                             "allow_methods": ["POST"]})
    server = start_server(host="127.0.0.1")
    assert _preflight(server.url, "https://inbox.example.com").status_code == 200
    assert _preflight(server.url, PAGE).status_code == 400


def test_configured_cors_keeps_starlette_defaults_for_the_keys_it_leaves_out(
        start_server: Start) -> None:
    # As on LangGraph's server: allow_methods defaults to ["GET"] once "http.cors" is given.
    server = start_server(host="127.0.0.1", cors={"allow_origins": [PAGE]})
    assert _preflight(server.url, method="GET").status_code == 200
    post = _preflight(server.url, method="POST")
    assert post.status_code == 400 and post.text == "Disallowed CORS method"


def test_credentials_are_allowed_when_configured(start_server: Start) -> None:
    server = start_server(cors={"allow_origins": [PAGE], "allow_methods": ["POST"],
                                "allow_credentials": True})
    preflight = _preflight(server.url)
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-allow-origin"] == PAGE
    simple = httpx.post(f"{server.url}/threads/search", json={}, headers={"origin": PAGE})
    assert simple.headers["access-control-allow-credentials"] == "true"
    assert simple.headers["access-control-allow-origin"] == PAGE


def test_preflight_needs_no_api_key_but_the_request_does(start_server: Start) -> None:
    server = start_server(host="127.0.0.1", api_keys={"team": KEY})
    assert _preflight(server.url, **{"access-control-request-headers": "x-api-key"}
                      ).status_code == 200
    refused = httpx.post(f"{server.url}/threads/search", json={}, headers={"origin": PAGE})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"  # the page can read the 401
    accepted = httpx.post(f"{server.url}/threads/search", json={},
                          headers={"origin": PAGE, "x-api-key": KEY})
    assert accepted.status_code == 200


@pytest.mark.parametrize(("cors", "named"), [
    ({"allow_orgins": [PAGE]}, "'allow_orgins'"),
    ({"allow_origins": PAGE}, "'http.cors.allow_origins'"),
    ({"allow_credentials": "yes"}, "'http.cors.allow_credentials'"),
    ({"max_age": "600"}, "'http.cors.max_age'"),
    ({"allow_origin_regex": "(unclosed"}, "'http.cors.allow_origin_regex'"),
    (["*"], "'http.cors'"),
])
def test_unusable_cors_settings_fail_naming_the_key(config_file: Path, tmp_path: Path,
                                                    cors: Any, named: str) -> None:
    _with_cors(config_file, cors)
    with pytest.raises(ConfigError, match=named) as caught:
        create_app(ServerSettings(config=config_file, db=tmp_path / "x.sqlite",
                                  read_env=False))
    assert "langgraph.json" in str(caught.value)


def test_unusable_cors_setting_is_named_as_server_settings(config_file: Path,
                                                           tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'ServerSettings\.cors\.allow_methods' must be a list"):
        create_app(ServerSettings(config=config_file, db=tmp_path / "x.sqlite",
                                  read_env=False, cors={"allow_methods": "POST"}))


# JSON bodies whatever their Content-Type says.

UNLABELLED: list[dict[str, str]] = [{}, {"content-type": "text/plain;charset=UTF-8"}]
"""No Content-Type (a proxy dropped it), and what fetch() labels a string body."""


@pytest.mark.parametrize("headers", UNLABELLED)
def test_json_body_without_json_content_type_creates_and_finds_a_thread(
        server: RunningServer, headers: dict[str, str]) -> None:
    made = httpx.post(f"{server.url}/threads", content=b'{"metadata": {"via": "proxy"}}',
                      headers=headers)
    assert made.status_code == 200, made.text
    assert made.json()["metadata"] == {"via": "proxy"}
    found = httpx.post(f"{server.url}/threads/search",
                       content=b'{"metadata": {"via": "proxy"}}', headers=headers)
    assert found.status_code == 200, found.text
    assert made.json()["thread_id"] in [t["thread_id"] for t in found.json()]


@pytest.mark.parametrize("headers", UNLABELLED)
def test_json_body_without_json_content_type_runs_and_waits(
        server: RunningServer, headers: dict[str, str]) -> None:
    tid = server.client().threads.create()["thread_id"]
    body = json.dumps({"assistant_id": "steps", "input": {"value": "x"}}).encode()
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", content=body,
                        headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["log"] == ["a", "b saw x", "c"]


@pytest.mark.parametrize("headers", UNLABELLED)
def test_invalid_json_body_without_content_type_is_422_naming_the_decode_error(
        server: RunningServer, headers: dict[str, str]) -> None:
    answer = httpx.post(f"{server.url}/threads", content=b'{"metadata":', headers=headers)
    assert answer.status_code == 422
    # A string detail, as LangGraph's server answers ("Invalid JSON in request body").
    assert "JSON decode error" in answer.json()["detail"]


# A resume with input {} (or null) beside the command.


def _interrupted(server: RunningServer) -> str:
    client = server.client()
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "review", input={"topic": "cats"})
    assert client.threads.get(tid)["status"] == "interrupted"
    return tid


@pytest.mark.parametrize("empty", [{}, None])
def test_empty_input_beside_a_command_resumes_the_interrupted_thread(
        server: RunningServer, empty: Any) -> None:
    tid = _interrupted(server)
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", timeout=30, json={
        "assistant_id": "review", "input": empty, "command": {"resume": {"approved": True}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["published"] == "TIPS FOR CATS"


def test_non_empty_input_beside_a_command_is_still_refused(server: RunningServer) -> None:
    tid = _interrupted(server)
    answer = httpx.post(f"{server.url}/threads/{tid}/runs/wait", json={
        "assistant_id": "review", "input": {"topic": "dogs"},
        "command": {"resume": {"approved": True}}})
    assert answer.status_code == 422
    assert "either 'input'" in answer.text and "{} or null" in answer.text
    assert server.client().threads.get(tid)["status"] == "interrupted"
