"""Checks of single items: put, get, update, delete, namespace rules, and batches."""

from __future__ import annotations

from datetime import datetime

from hitlgraph.store.base import GetOp, InvalidNamespaceError, ListNamespacesOp, PutOp, SearchOp
from hitlgraph.store.conformance._calls import EVIL, Calls

__all__ = ["check_batch_reads_before_writes", "check_namespace_rules", "check_put_get_delete",
           "check_update_keeps_created_at", "check_values_round_trip"]


async def check_put_get_delete(s: Calls) -> None:
    """An item reads back with its namespace, key, value and aware timestamps; a missing
    key reads None; delete removes it, and deleting a missing key is no error."""
    assert await s.get(("users", "u1"), "prefs") is None, "an empty store found an item"
    await s.put(("users", "u1"), "prefs", {"tone": "short", "n": 3})
    item = await s.get(("users", "u1"), "prefs")
    assert item is not None, "a put item was not found"
    assert (item.namespace, item.key, item.value) == (
        ("users", "u1"), "prefs", {"tone": "short", "n": 3}), f"read back {item!r}"
    assert isinstance(item.created_at, datetime) and item.created_at.tzinfo is not None, (
        f"created_at is {item.created_at!r}, not an aware datetime")
    assert item.updated_at == item.created_at, "a new item's timestamps differ"
    assert await s.get(("users", "u1"), "other") is None, "another key found an item"
    assert await s.get(("users",), "prefs") is None, "the parent namespace found the item"
    await s.delete(("users", "u1"), "prefs")
    assert await s.get(("users", "u1"), "prefs") is None, "a deleted item is still there"
    await s.delete(("users", "u1"), "never-there")


async def check_update_keeps_created_at(s: Calls) -> None:
    """A second put replaces the value, keeps created_at and moves updated_at on."""
    await s.put(("docs",), "d", {"v": 1, "old": True})
    first = await s.get(("docs",), "d")
    await s.put(("docs",), "d", {"v": 2})
    second = await s.get(("docs",), "d")
    assert first is not None and second is not None, "the item went missing"
    assert second.value == {"v": 2}, f"the update stored {second.value!r}"
    assert second.created_at == first.created_at, "an update changed created_at"
    assert second.updated_at >= first.updated_at, "updated_at went back"


async def check_values_round_trip(s: Calls) -> None:
    """Nested values, unicode, numbers, booleans, null and SQL-looking text are data."""
    value = {"text": EVIL, "emoji": "café ☕", "n": 1.5, "i": -7, "ok": False, "none": None,
             "nested": {"list": [1, "two", {"three": [3]}]}, EVIL: EVIL}
    await s.put((EVIL.replace(".", ""), "ns"), EVIL, value)
    item = await s.get((EVIL.replace(".", ""), "ns"), EVIL)
    assert item is not None and item.value == value, f"read back {item!r}"
    hits = await s.search((EVIL.replace(".", ""),), filter={"text": EVIL})
    assert [h.key for h in hits] == [EVIL], f"filter on SQL-looking text found {hits!r}"


async def check_namespace_rules(s: Calls) -> None:
    """Writes refuse an empty namespace, a label with "." or empty, and the root label
    "langgraph"; reads refuse bad labels."""
    for bad in [(), ("a.b",), ("ok", ""), ("langgraph", "x")]:
        try:
            await s.put(bad, "k", {"v": 1})
        except InvalidNamespaceError:
            continue
        raise AssertionError(f"put accepted the namespace {bad!r}")
    try:
        await s.get(("a.b",), "k")
    except InvalidNamespaceError:
        pass
    else:
        raise AssertionError("get accepted the label 'a.b'")
    assert await s.get(("langgraph",), "k") is None, "reading under 'langgraph' failed"


async def check_batch_reads_before_writes(s: Calls) -> None:
    """batch returns one result per op in order; its reads see the store before its writes,
    and of two puts to one key the last is kept."""
    await s.put(("b",), "old", {"v": 0})
    results = await s.batch([
        PutOp(("b",), "k", {"v": 1}),
        GetOp(("b",), "k"),
        PutOp(("b",), "k", {"v": 2}),
        SearchOp(("b",)),
        ListNamespacesOp(),
        PutOp(("b",), "old", None),
        GetOp(("b",), "old"),
    ])
    assert len(results) == 7, f"{len(results)} results for 7 ops"
    assert results[0] is None and results[2] is None and results[5] is None, (
        f"puts returned {results[0]!r}, {results[2]!r}, {results[5]!r}")
    assert results[1] is None, f"a get saw a put of its own batch: {results[1]!r}"
    assert [i.key for i in results[3]] == ["old"], f"search saw {results[3]!r}"  # type: ignore[union-attr]
    assert results[4] == [("b",)], f"list_namespaces gave {results[4]!r}"
    assert results[6] is not None, "a get saw a delete of its own batch"
    after = await s.get(("b",), "k")
    assert after is not None and after.value == {"v": 2}, f"the last put did not win: {after!r}"
    assert await s.get(("b",), "old") is None, "the batch's delete was not applied"
