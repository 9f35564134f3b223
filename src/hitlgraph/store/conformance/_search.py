"""Checks of search (prefix, filters, pages) and of list_namespaces."""

from __future__ import annotations

from typing import Any

from hitlgraph.store.conformance._calls import Calls

__all__ = ["check_list_namespaces", "check_search_filters", "check_search_pages",
           "check_search_prefix"]


async def check_search_prefix(s: Calls) -> None:
    """A prefix matches whole labels: ("a",) finds items in ("a",) and ("a", "b"), not in
    ("ab",); () finds everything; results are SearchItems without a score."""
    await s.put(("a",), "1", {"v": 1})
    await s.put(("a", "b"), "2", {"v": 2})
    await s.put(("ab",), "3", {"v": 3})
    found = await s.search(("a",))
    assert sorted(i.key for i in found) == ["1", "2"], f"('a',) found {found!r}"
    assert all(i.score is None for i in found), "a search without query has scores"
    assert sorted(i.key for i in await s.search(())) == ["1", "2", "3"], "() missed items"
    assert [i.key for i in await s.search(("a", "b"))] == ["2"], "('a', 'b') missed"
    assert await s.search(("zzz",)) == [], "an unknown prefix found items"


async def check_search_filters(s: Calls) -> None:
    """Equality (True == 1 as in Python, nested dicts key by key, lists item by item) and
    $eq, $ne, $gt, $gte, $lt, $lte; a key an item lacks passes $ne and fails comparisons."""
    items: dict[str, dict[str, Any]] = {
             "a": {"color": "red", "size": 1, "ok": True, "tags": ["x", "y"], "m": {"k": 1}},
             "b": {"color": "blue", "size": 2.5, "ok": False, "tags": ["x"]},
             "c": {"color": "red", "size": 10, "m": {"k": 2, "j": 0}},
             "d": {"name": "no color"}}
    for key, value in items.items():
        await s.put(("f",), key, value)
    cases = [({"color": "red"}, "ac"), ({"color": "red", "size": 10}, "c"),
             ({"ok": True}, "a"), ({"ok": 1}, "a"), ({"tags": ["x"]}, "b"),
             ({"m": {"k": 2}}, "c"), ({"size": {"$gt": 1}}, "bc"),
             ({"size": {"$gte": 2.5, "$lt": 10}}, "b"), ({"size": {"$lte": 2.5}}, "ab"),
             ({"color": {"$ne": "red"}}, "bd"), ({"color": {"$eq": "blue"}}, "b"),
             ({"color": {"$gt": "c"}}, "ac"), ({"missing": None}, "abcd"),
             ({"size": 3}, "")]
    for filter, want in cases:
        got = "".join(sorted(i.key for i in await s.search(("f",), filter=filter)))
        assert got == want, f"filter {filter!r} found {got!r}, expected {want!r}"
    try:
        await s.search(("f",), filter={"size": {"$near": 1}})
    except ValueError:
        return
    raise AssertionError("an unknown operator was accepted")


async def check_search_pages(s: Calls) -> None:
    """limit and offset page through the results without repeats or gaps, with and
    without a filter."""
    for n in range(7):
        await s.put(("p", str(n % 2)), f"k{n}", {"n": n, "even": n % 2 == 0})
    for filter in (None, {"even": True}):
        want = len(await s.search(("p",), filter=filter, limit=100))
        seen = [i.key for off in range(0, 8, 3)
                for i in await s.search(("p",), filter=filter, limit=3, offset=off)]
        assert len(seen) == want == len(set(seen)), f"pages with {filter!r} gave {seen!r}"
    assert want == 4, f"{want} even items instead of 4"
    assert len(await s.search(("p",), limit=2)) == 2, "limit was not applied"


async def check_list_namespaces(s: Calls) -> None:
    """Sorted namespaces that hold items, by prefix and suffix ("*" for any label),
    max_depth, limit and offset; a namespace whose last item is deleted is not listed."""
    for ns in [("a", "b", "c"), ("a", "b", "d"), ("a", "x"), ("b", "c"), ("gone",)]:
        await s.put(ns, "k", {"v": 1})
    await s.delete(("gone",), "k")
    everything = [("a", "b", "c"), ("a", "b", "d"), ("a", "x"), ("b", "c")]
    cases: list[tuple[dict[str, Any], list[tuple[str, ...]]]] = [
             ({}, everything), ({"prefix": ("a", "b")}, everything[:2]),
             ({"prefix": ("a", "*", "c")}, [("a", "b", "c")]),
             ({"suffix": ("c",)}, [("a", "b", "c"), ("b", "c")]),
             ({"prefix": ("a",), "suffix": ("*", "d")}, [("a", "b", "d")]),
             ({"max_depth": 2}, [("a", "b"), ("a", "x"), ("b", "c")]),
             ({"max_depth": 1}, [("a",), ("b",)]),
             ({"limit": 2, "offset": 1}, everything[1:3]), ({"prefix": ("zz",)}, [])]
    for kwargs, want in cases:
        got = await s.list_namespaces(**kwargs)
        assert got == want, f"list_namespaces({kwargs}) gave {got!r}, expected {want!r}"
