"""Hostile input gets a typed refusal (422 naming the field or the limit), never a 500:
non-standard JSON constants, nesting deeper than MAX_DEPTH, too many search ids, mistyped run
settings, a malformed checkpoint namespace. Data stored before these bounds (deep values)
leaves searches working. Tests that touch the store run on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from _harness import RunningServer

from hitlgraph.server import _json_body
from hitlgraph.server._json_body import MAX_DEPTH, deeper_than
from hitlgraph.server.routes._deps import contains
from hitlgraph.server.schemas import MAX_SEARCH_IDS

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def nested(levels: int, leaf: Any = None) -> Any:
    """{"a": {"a": ... leaf}}: `levels` objects, built without recursion."""
    value = {} if leaf is None else leaf
    for _ in range(levels - (leaf is None)):
        value = {"a": value}
    return value


def send(server: RunningServer, path: str, body: str | dict[str, Any],
         method: str = "POST") -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    return httpx.request(method, f"{server.url}{path}", content=content, timeout=30,
                         headers={"content-type": "application/json"})


def new_thread(server: RunningServer) -> str:
    answer = send(server, "/threads", {})
    assert answer.status_code == 200
    return str(answer.json()["thread_id"])


# -- non-standard JSON and depth, at the edge ------------------------------------------------

@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(("path", "template"), [
    ("/threads", '{"metadata": {"score": %s}}'),
    ("/threads/search", '{"limit": %s}'),
    ("/runs/wait", '{"assistant_id": "steps", "input": {"value": [1, %s]}}'),
    ("/assistants/search", '{"metadata": {"x": %s}}'),
])
def test_non_standard_json_constants_are_refused_naming_them(
        server: RunningServer, path: str, template: str, constant: str) -> None:
    answer = send(server, path, template % constant)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert f"'{constant}' is not JSON" in detail and "send a number" in detail
    assert send(server, "/threads/search", {}).status_code == 200  # the server goes on


@pytest.mark.parametrize(("path", "body"), [
    ("/threads", json.dumps({"metadata": nested(300)})),
    ("/threads/search", '{"metadata": {"a": %s}}' % ("[" * 900 + "]" * 900)),
    ("/threads/search", "[" * 100_000 + "]" * 100_000),  # deeper than Python's parser goes
    ("/threads", json.dumps({"metadata": nested(MAX_DEPTH)})),  # one level too many
])
def test_a_body_nested_deeper_than_the_limit_is_refused_naming_it(
        server: RunningServer, path: str, body: str) -> None:
    answer = send(server, path, body)
    assert answer.status_code == 422
    assert f"deeper than {MAX_DEPTH} levels" in answer.json()["detail"]


def test_a_body_nested_exactly_to_the_limit_is_taken(server: RunningServer) -> None:
    metadata = nested(MAX_DEPTH - 1, leaf=1)  # the body's own object is the last level
    answer = send(server, "/threads", {"metadata": metadata})
    assert answer.status_code == 200 and answer.json()["metadata"] == metadata


def test_a_body_that_is_not_json_keeps_its_decode_error(server: RunningServer) -> None:
    answer = send(server, "/threads/search", '{"limit": ')
    assert answer.status_code == 422 and "JSON decode error" in answer.json()["detail"]


def post_bytes(server: RunningServer, path: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", content=body, timeout=30,
                      headers={"content-type": "application/json"})


@pytest.mark.parametrize(("body", "named"), [
    (b'{"metadata": {"k": "\xff"}}', "byte 20 (0xff) is not UTF-8"),
    (b"\xff", "byte 0 (0xff) is not UTF-8"),
    (b'{"metadata": {"k": ["x", "a\\udE00b"]}}', "'\\ude00' in 'metadata.k[1]' is half"),
    (b'{"metadata": {"k": "\xed\xa0\x80"}}', "'\\ud800' in 'metadata.k' is half"),
    (b'{"metadata": {"\\ud800": 1}}', "'\\ud800' in 'metadata' is half"),
])
def test_a_body_that_is_not_unicode_text_is_refused_naming_where(
        server: RunningServer, body: bytes, named: str) -> None:
    answer = post_bytes(server, "/threads", body)
    assert answer.status_code == 422, answer.text
    assert named in answer.json()["detail"], answer.text


@BOTH
@pytest.mark.parametrize(("method", "path", "body", "named"), [
    ("POST", "/threads", b'{"metadata": {"k": ["x", "a\\u0000b"]}}', "in 'metadata.k[1]'"),
    ("POST", "/threads", b'{"metadata": {"k\\u0000": 1}}', "in 'metadata'"),
    ("PUT", "/store/items", b'{"namespace": ["a"], "key": "k", "value": {"v": "\\u0000"}}',
     "in 'value.v'"),
])
def test_a_nul_character_is_refused_naming_where_on_either_database(
        server: RunningServer, method: str, path: str, body: bytes, named: str) -> None:
    # PostgreSQL cannot store NUL in text or jsonb (found by fuzzing a server on it: a 500
    # from the store item's write); SQLite could, but both refuse it alike.
    answer = httpx.request(method, f"{server.url}{path}", content=body, timeout=30,
                           headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert "'\\u0000' " + named + " is the NUL character" in answer.json()["detail"]


@BOTH
@pytest.mark.parametrize(("path", "named"), [
    ("/store/items?namespace=a&key=x%00y", "query parameter 'key' holds the NUL character"),
    ("/store/items?namespace=a&k%00=1&key=k", "query parameter 'k%00' holds the NUL"),
    ("/assistants/a%00b", "the path holds the NUL character"),
])
def test_a_nul_character_in_a_url_is_refused_on_either_database(
        server: RunningServer, path: str, named: str) -> None:
    # GET /store/items with a NUL in its key was a 500 on PostgreSQL (found by fuzzing).
    answer = httpx.get(f"{server.url}{path}", timeout=30)
    assert answer.status_code == 422 and named in answer.json()["detail"], answer.text


def test_a_delete_body_that_is_not_utf8_is_refused_naming_the_byte(
        server: RunningServer) -> None:
    answer = httpx.request("DELETE", f"{server.url}/store/items", content=b"\xcc\x9e\xb9z",
                           headers={"content-type": "application/json"}, timeout=30)
    assert answer.status_code == 422 and "byte 2 (0xb9) is not UTF-8" in answer.text, answer.text


@BOTH
def test_a_whole_surrogate_pair_is_one_character_and_is_kept(server: RunningServer) -> None:
    answer = post_bytes(server, "/threads", b'{"metadata": {"k": "a\\ud83d\\ude00b"}}')
    assert answer.status_code == 200 and answer.json()["metadata"] == {"k": "a\U0001f600b"}
    thread = answer.json()["thread_id"]
    assert send(server, f"/threads/{thread}", "", "GET").json()["metadata"]["k"] == "a\U0001f600b"


def test_depth_is_measured_without_recursion() -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert deeper_than(deep, MAX_DEPTH) and not deeper_than(nested(MAX_DEPTH), MAX_DEPTH)
    assert not deeper_than("scalar", 0)


def test_containment_of_deep_values_is_bounded_and_deeper_filters_match_nothing() -> None:
    stored = nested(5_000, leaf=1)
    assert contains(stored, nested(3))  # {"a": {"a": {}}}: a prefix of it
    assert not contains(stored, nested(MAX_DEPTH + 1))
    assert not contains(nested(MAX_DEPTH + 5, leaf=1), nested(MAX_DEPTH + 5, leaf=1))


@BOTH
def test_a_thread_stored_deep_before_the_bound_leaves_searches_working(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = nested(300, leaf=1)
    with monkeypatch.context() as before_the_bound:
        before_the_bound.setattr(_json_body, "body_problem", lambda body: None)
        send(server, "/threads", {"metadata": {"k": deep}})  # stored, whatever it answers
    plain = new_thread(server)

    listed = send(server, "/threads/search", {"limit": 10})
    assert listed.status_code == 200 and listed.headers["X-Pagination-Total"] == "2"
    assert [t["metadata"] for t in listed.json()][1:] == [{"k": deep}]
    matched = send(server, "/threads/search", {"metadata": {"k": nested(3)}})
    assert [t["metadata"] for t in matched.json()] == [{"k": deep}]
    missed = send(server, "/threads/search", {"metadata": {"k": nested(3, leaf=2)}})
    assert missed.status_code == 200 and missed.json() == []
    assert send(server, "/threads/count", {"metadata": {"k": nested(2)}}).json() == 1
    assert listed.json()[0]["thread_id"] == plain


# -- search ids ------------------------------------------------------------------------------

@BOTH
def test_search_takes_up_to_the_limit_of_ids_and_refuses_more_naming_it(
        server: RunningServer) -> None:
    thread = new_thread(server)
    ids = [str(uuid.uuid4()) for _ in range(MAX_SEARCH_IDS - 1)] + [thread]
    found = send(server, "/threads/search", {"ids": ids})
    assert found.status_code == 200 and [t["thread_id"] for t in found.json()] == [thread]
    for many in ([*ids, thread], ["x"] * 300_000):
        answer = send(server, "/threads/search", {"ids": many})
        assert answer.status_code == 422
        assert f"ids: List should have at most {MAX_SEARCH_IDS} items" in answer.json()["detail"]


# -- run bodies ------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "named"), [
    ({"config": {"configurable": "fast"}}, "config.configurable"),
    ({"config": {"configurable": 3}}, "config.configurable"),
    ({"config": {"configurable": ["a"]}}, "config.configurable"),
    ({"config": {"metadata": "m"}}, "config.metadata"),
    ({"config": {"tags": "t"}}, "config.tags"),
    ({"config": {"recursion_limit": "many"}}, "config.recursion_limit"),
    ({"config": {"callbacks": []}}, "config.callbacks"),
    ({"config": "fast"}, "config"),
    ({"context": ["a"]}, "context"),
    ({"metadata": 7}, "metadata"),
    ({"checkpoint": {"checkpoint_ns": "bad|||ns"}}, "checkpoint.checkpoint_ns"),
    ({"interrupt_before": ["nowhere"]}, "interrupt_before"),
    ({"interrupt_after": [1]}, "interrupt_after"),
])
def test_run_bodies_with_mistyped_settings_are_refused_naming_the_field(
        server: RunningServer, fields: dict[str, Any], named: str) -> None:
    thread = new_thread(server)
    body = {"assistant_id": "steps", "input": {"value": "v"}, **fields}
    paths = [f"/threads/{thread}/runs", f"/threads/{thread}/runs/wait"]
    if "checkpoint" not in fields:
        paths.append("/runs/wait")
    for path in paths:
        answer = send(server, path, body)
        assert answer.status_code == 422, (path, answer.text)
        assert named in answer.json()["detail"]
    assert send(server, f"/threads/{thread}", "", "GET").json()["status"] == "idle"
    done = send(server, f"/threads/{thread}/runs/wait", {"assistant_id": "steps", "input": {}})
    assert done.json()["log"] == ["a", "b saw ", "c"]


def test_run_config_of_known_keys_reaches_the_run(server: RunningServer) -> None:
    config = {"tags": ["t"], "recursion_limit": 9, "configurable": {"tier": 1},
              "metadata": {"m": 1}}
    answer = send(server, "/runs", {"assistant_id": "steps", "input": {}, "config": config})
    assert answer.status_code == 200 and answer.json()["kwargs"]["config"]["tags"] == ["t"]


# -- history ---------------------------------------------------------------------------------

@pytest.mark.parametrize("namespace", ["bad|||ns", "|", "node:", ":task", "a||b"])
def test_history_of_a_malformed_namespace_is_refused_naming_it(
        server: RunningServer, namespace: str) -> None:
    thread = new_thread(server)
    answer = send(server, f"/threads/{thread}/history",
                  {"checkpoint": {"checkpoint_ns": namespace}})
    assert answer.status_code == 422
    assert "checkpoint.checkpoint_ns" in answer.json()["detail"]


def test_history_of_a_namespace_the_graph_lacks_is_not_found(server: RunningServer) -> None:
    thread = new_thread(server)
    send(server, f"/threads/{thread}/runs/wait", {"assistant_id": "steps", "input": {}})
    for namespace in ("step_a:123", "nowhere", "nowhere:1|inner:2"):
        answer = send(server, f"/threads/{thread}/history",
                      {"checkpoint": {"checkpoint_ns": namespace}})
        assert answer.status_code == 404
        assert "has no checkpoints in that namespace" in answer.json()["detail"]
    own = send(server, f"/threads/{thread}/history", {"checkpoint": {"checkpoint_ns": ""}})
    assert own.status_code == 200 and len(own.json()) == 5


# A count or position past 64 bits was a 500 on PostgreSQL ("bigint out of range"), a cron
# timezone too long for a file name a 500 on both (found by the full-tier fuzzing on
# PostgreSQL); each is a 422 naming the field, on either database.
@BOTH
@pytest.mark.parametrize(("path", "body", "field"), [
    ("/store/items/search", {"namespace_prefix": ["a"], "limit": 2**63}, "limit"),
    ("/store/items/search", {"namespace_prefix": ["a"], "offset": 2**63}, "offset"),
    ("/store/namespaces", {"limit": 2**64}, "limit"),
    ("/store/namespaces", {"max_depth": 2**63}, "max_depth"),
    ("/threads/search", {"offset": 2**63}, "offset"),
    ("/assistants/search", {"offset": 2**63}, "offset"),
    ("/assistants/5f0e9a47-3a55-4f3c-9d0e-2b7c1f6a8e01/versions", {"offset": 2**63}, "offset"),
    ("/runs/crons/search", {"offset": 2**63}, "offset"),
])
def test_a_count_past_64_bits_is_refused_naming_the_field(
        server: RunningServer, path: str, body: dict[str, object], field: str) -> None:
    answer = httpx.post(f"{server.url}{path}", json=body, timeout=30)
    assert answer.status_code == 422 and field in answer.text, answer.text


@BOTH
def test_a_runs_page_past_64_bits_is_refused_naming_the_offset(server: RunningServer) -> None:
    thread = httpx.post(f"{server.url}/threads", json={}, timeout=30).json()["thread_id"]
    answer = httpx.get(f"{server.url}/threads/{thread}/runs", params={"offset": 2**63},
                       timeout=30)
    assert answer.status_code == 422 and "offset" in answer.text, answer.text


@BOTH
def test_a_timezone_too_long_for_a_file_name_is_refused(server: RunningServer) -> None:
    # ZoneInfo raised OSError (File name too long), a 500 (found by the full-tier fuzzing).
    answer = httpx.post(f"{server.url}/runs/crons", timeout=30, json={
        "assistant_id": "agent", "schedule": "0 * * * *", "timezone": "x" * 300})
    assert answer.status_code == 422 and "timezone" in answer.text.lower(), answer.text
