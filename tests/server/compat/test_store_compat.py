"""The store routes at langgraph dev and hitlgraph serve: the same flows through
langgraph-sdk's client.store, the same statuses for bad requests over plain HTTP, and the
deliberate differences (each checking that LangGraph still behaves as the README says).

Both servers live for the whole session, so each flow keeps to a namespace of its own."""

from __future__ import annotations

from typing import Any

import httpx
from _compat import Observed, Pair, at_both, status_of
from langgraph_sdk.client import SyncLangGraphClient


def _keys(found: dict[str, Any]) -> list[tuple[list[str], str]]:
    """Search results without their order (see the deliberate test of the order)."""
    return sorted((item["namespace"], item["key"]) for item in found["items"])


def _items_flow(client: SyncLangGraphClient, seen: Observed) -> None:
    store = client.store
    seen.call("put", store.put_item, ["cmp", "u1"], "prefs", {"tone": "short", "n": 1})
    seen.call("put another", store.put_item, ["cmp", "u1"], "memo", {"tone": "long", "n": 5})
    seen.call("put with ttl", store.put_item, ["cmp", "u2"], "prefs", {"tone": "short",
                                                                        "n": 2}, ttl=60)
    seen.call("put unindexed", store.put_item, ["cmp", "u2", "deep"], "x", {"n": 9},
              index=False)
    seen.call("get", store.get_item, ["cmp", "u1"], "prefs")
    seen.call("get without refresh", store.get_item, ["cmp", "u1"], "memo", refresh_ttl=False)
    seen.call("get missing", store.get_item, ["cmp", "u1"], "nope")
    for label, kwargs in [("filter", {"filter": {"tone": "short"}}),
                          ("operator", {"filter": {"n": {"$gt": 1}}}),
                          ("two operators", {"filter": {"n": {"$gte": 2, "$lt": 9}}}),
                          ("ne", {"filter": {"tone": {"$ne": "short"}}}),
                          ("nothing", {"filter": {"n": 100}})]:
        seen.call(f"search {label}", lambda kw=kwargs: _keys(store.search_items(["cmp"], **kw)))
    seen.call("search one", store.search_items, ["cmp", "u2", "deep"])
    # Neither server has "store.index" here: the query is ignored, the items come unscored.
    seen.call("search with a query and no index", lambda: sorted(
        (i["key"], i["score"]) for i in store.search_items(
            ["cmp"], query="short", filter={"tone": "short"})["items"]))
    seen.call("search a page", lambda: len(store.search_items(["cmp"], limit=2)["items"]))
    seen.call("namespaces", store.list_namespaces, prefix=["cmp"])
    seen.call("namespaces to depth 2", store.list_namespaces, prefix=["cmp"], max_depth=2)
    seen.call("namespaces by suffix", store.list_namespaces, prefix=["cmp"], suffix=["deep"])
    seen.call("namespaces with a wildcard", store.list_namespaces, prefix=["cmp", "*", "deep"])
    seen.call("namespaces paged", store.list_namespaces, prefix=["cmp"], limit=1, offset=1)
    seen.call("update", store.put_item, ["cmp", "u1"], "prefs", {"tone": "long"})
    seen.call("get the update", lambda: store.get_item(["cmp", "u1"], "prefs")["value"])
    seen.call("delete", store.delete_item, ["cmp", "u1"], "prefs")
    seen.call("get the deleted", store.get_item, ["cmp", "u1"], "prefs")
    seen.call("delete again", store.delete_item, ["cmp", "u1"], "prefs")


def test_store_items_search_and_namespaces_answer_alike(pair: Pair) -> None:
    pair.compare(_items_flow)


BAD: list[tuple[str, str, dict[str, Any]]] = [
    ("PUT", "/store/items", {"json": {"namespace": [], "key": "k", "value": {}}}),
    ("PUT", "/store/items", {"json": {"namespace": ["langgraph"], "key": "k", "value": {}}}),
    ("PUT", "/store/items", {"json": {"namespace": ["a.b"], "key": "k", "value": {}}}),
    ("PUT", "/store/items", {"json": {"namespace": ["bad"], "key": "k", "value": [1]}}),
    ("PUT", "/store/items", {"json": {"namespace": ["bad"], "key": "k"}}),
    ("PUT", "/store/items", {"json": {"namespace": "bad", "key": "k", "value": {}}}),
    ("GET", "/store/items", {"params": {"namespace": "", "key": "k"}}),
    ("GET", "/store/items", {"params": {"namespace": "a.", "key": "k"}}),
    ("POST", "/store/items/search", {"json": {"namespace_prefix": ["bad"], "limit": "x"}}),
    ("DELETE", "/store/items", {}),
]


def test_bad_store_requests_get_the_same_statuses(pair: Pair) -> None:
    def statuses(url: str) -> list[int]:
        return [httpx.request(method, url + path, timeout=10, **kwargs).status_code
                for method, path, kwargs in BAD]

    theirs, ours = statuses(pair.langgraph), statuses(pair.hitlgraph)
    assert ours == theirs
    assert all(400 <= status < 500 for status in ours), ours


def test_search_order_is_most_recently_updated_first(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> list[str]:
        for key in ("a", "b", "c"):
            client.store.put_item(["order"], key, {"k": key})
        client.store.put_item(["order"], "a", {"k": "a2"})
        return [i["key"] for i in client.store.search_items(["order"])["items"]]

    ours, theirs = at_both(pair, flow)
    assert theirs == ["a", "b", "c"]  # langgraph dev (in memory): first written first
    assert ours == ["a", "c", "b"]  # as LangGraph's PostgreSQL store orders them


def test_only_namespaces_holding_items_are_listed(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> Any:
        client.store.put_item(["emptied", "x"], "k", {"v": 1})
        client.store.delete_item(["emptied", "x"], "k")
        assert client.store.get_item(["emptied", "read"], "k") is None
        return client.store.list_namespaces(prefix=["emptied"])["namespaces"]

    ours, theirs = at_both(pair, flow)
    # langgraph dev lists a namespace whose items were deleted, and one that was only read
    assert theirs == [["emptied", "read"], ["emptied", "x"]]
    assert ours == []


def test_a_search_without_prefix_or_with_a_negative_limit_is_422(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> tuple[int, int]:
        client.store.put_item(["negative"], "k", {"v": 1})
        url = f"{client.http.client.base_url}/store/items/search"
        # A connection of its own per request: langgraph dev's 500 resets the one it used.
        return (httpx.post(url, json={}, timeout=10).status_code,
                httpx.post(url, json={"namespace_prefix": ["negative"], "limit": -1},
                           timeout=10).status_code)

    ours, theirs = at_both(pair, flow)
    assert theirs == (500, 200)  # LangGraph: a KeyError, and a page cut at [0:-1]
    assert ours == (422, 422)


def test_an_unknown_filter_operator_is_400_even_with_nothing_to_filter(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> tuple[int, int]:
        client.store.put_item(["operator", "full"], "k", {"n": 1})
        bad = {"n": {"$near": 1}}
        return (status_of(lambda: client.store.search_items(["operator", "empty"], filter=bad)),
                status_of(lambda: client.store.search_items(["operator", "full"], filter=bad)))

    ours, theirs = at_both(pair, flow)
    assert theirs == (200, 400)  # LangGraph finds the operator unknown only at an item
    assert ours == (400, 400)
