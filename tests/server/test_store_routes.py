"""The /store routes through langgraph-sdk's client.store and plain HTTP, on SQLite and on
PostgreSQL: items, search, namespaces, TTLs, each tenant in its own namespace tree, and the
bodies refused at the edge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

KEY_A = "store-key-a"
KEY_B = "store-key-b"


def test_items_round_trip_through_the_sdk(client: SyncLangGraphClient) -> None:
    store = client.store
    store.put_item(["users", "u1"], "prefs", {"tone": "short", "n": 1})
    store.put_item(["users", "u1"], "memo", {"tone": "long", "n": 5}, ttl=60)
    store.put_item(["users", "u2"], "prefs", {"tone": "short", "n": 2}, index=False)
    item = store.get_item(["users", "u1"], "prefs")
    assert (item["namespace"], item["key"], item["value"]) == (
        ["users", "u1"], "prefs", {"tone": "short", "n": 1})
    assert item["created_at"].endswith("+00:00") and item["updated_at"] == item["created_at"]
    assert store.get_item(["users", "u1"], "nope") is None
    found = store.search_items(["users"], filter={"tone": "short"})["items"]
    assert sorted((i["namespace"][1], i["key"], i["score"]) for i in found) == [
        ("u1", "prefs", None), ("u2", "prefs", None)]
    page = store.search_items(["users"], filter={"n": {"$gte": 2}}, limit=1, offset=1)
    assert len(page["items"]) == 1
    assert store.list_namespaces()["namespaces"] == [["users", "u1"], ["users", "u2"]]
    assert store.list_namespaces(prefix=["users"], max_depth=1) == {"namespaces": [["users"]]}
    assert store.list_namespaces(suffix=["u2"])["namespaces"] == [["users", "u2"]]
    store.delete_item(["users", "u2"], "prefs")
    assert store.get_item(["users", "u2"], "prefs") is None
    assert store.list_namespaces()["namespaces"] == [["users", "u1"]]


def test_each_tenant_sees_only_its_own_namespaces(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(api_keys={"team-a": KEY_A, "team-b": KEY_B})
    a, b = server.client(api_key=KEY_A).store, server.client(api_key=KEY_B).store
    a.put_item(["shared", "name"], "k", {"owner": "a"})
    b.put_item(["shared", "name"], "k", {"owner": "b"})
    a.put_item(["only", "a"], "k", {"owner": "a"})
    assert a.get_item(["shared", "name"], "k")["value"] == {"owner": "a"}
    assert b.get_item(["shared", "name"], "k")["value"] == {"owner": "b"}
    assert b.get_item(["only", "a"], "k") is None
    assert [i["value"] for i in b.search_items([])["items"]] == [{"owner": "b"}]
    assert b.list_namespaces()["namespaces"] == [["shared", "name"]]
    # A suffix longer than the tenant's namespace never reaches the hidden tenant label.
    assert b.list_namespaces(suffix=["*", "*", "name"])["namespaces"] == []
    b.delete_item(["only", "a"], "k")
    assert a.get_item(["only", "a"], "k") is not None


def _status(server: RunningServer, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    response = httpx.request(method, server.url + path, timeout=10, **kwargs)
    return response.status_code, response.json() if response.content else None


def test_bad_bodies_are_refused_before_the_store(server: RunningServer) -> None:
    bad: list[tuple[int, str, str, dict[str, Any]]] = [
        (422, "PUT", "/store/items", {"json": {"namespace": ["a.b"], "key": "k",
                                                "value": {}}}),
        (422, "PUT", "/store/items", {"json": {"namespace": ["a"], "key": "k", "value": [1]}}),
        (422, "PUT", "/store/items", {"json": {"namespace": "a", "key": "k", "value": {}}}),
        (422, "PUT", "/store/items", {"json": {"namespace": ["a"], "key": "k", "value": {},
                                                "ttl": -1}}),
        (400, "PUT", "/store/items", {"json": {"namespace": [], "key": "k", "value": {}}}),
        (400, "PUT", "/store/items", {"json": {"namespace": ["langgraph"], "key": "k",
                                                "value": {}}}),
        (422, "GET", "/store/items", {"params": {"namespace": "a"}}),
        (422, "GET", "/store/items", {"params": {"namespace": "", "key": "k"}}),
        (422, "POST", "/store/items/search", {"json": {}}),
        (422, "POST", "/store/items/search", {"json": {"namespace_prefix": [], "limit": -1}}),
        (400, "POST", "/store/items/search", {"json": {"namespace_prefix": [],
                                                       "filter": {"n": {"$near": 1}}}}),
        (422, "POST", "/store/namespaces", {"json": {"max_depth": 0}}),
        (422, "DELETE", "/store/items", {"json": {"key": "k"}}),
    ]
    for status, method, path, kwargs in bad:
        got, body = _status(server, method, path, **kwargs)
        assert got == status, f"{method} {path} {kwargs}: {got} {body}"
        assert isinstance(body["detail"], str) and body["detail"], body
    assert _status(server, "POST", "/store/namespaces", json={}) == (200, {"namespaces": []})
