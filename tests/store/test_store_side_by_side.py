"""The same store programs run on LangGraph and on hitlgraph: each script is written against
`langgraph.store.*` and run as it is, then with the import prefix replaced by `hitlgraph`;
their printed output, with timestamps masked, must be equal.

Where hitlgraph differs on purpose (README, "The store"), the scripts stay off that ground:
LangGraph's InMemoryStore lists a namespace whose items were all deleted (or that was only
read), resets created_at on update, raises TypeError for $gt on a missing key, and refuses
TTLs; its SqliteStore keeps returning expired items until a sweep that does not remove them.
"""

from __future__ import annotations

import textwrap

import pytest

from _side_by_side import on_both, require_langgraph

_HEADER = """
import asyncio
from langgraph.store.memory import InMemoryStore
from langgraph.store.base import GetOp, PutOp, SearchOp, ListNamespacesOp, MatchCondition

def show(items):
    for item in items:
        print(item)
"""

SCRIPTS = {
    "put, get, update, delete": """
        store = InMemoryStore()
        store.put(("users", "u1"), "prefs", {"tone": "short", "n": 1})
        print(store.get(("users", "u1"), "prefs"))
        store.put(("users", "u1"), "prefs", {"tone": "long"})
        item = store.get(("users", "u1"), "prefs")
        print(item.value, item.key, item.namespace, item.dict()["namespace"])
        print(store.get(("users", "u1"), "nope"), store.get(("users",), "prefs"))
        store.delete(("users", "u1"), "prefs")
        print(store.get(("users", "u1"), "prefs"))
        store.delete(("users", "u1"), "never")
    """,
    "search by prefix, filter and page": """
        store = InMemoryStore()
        rows = [(("docs", "a"), "1", {"color": "red", "size": 1, "tags": ["x"]}),
                (("docs", "b"), "2", {"color": "blue", "size": 2.5, "ok": True}),
                (("docs",), "3", {"color": "red", "size": 10, "meta": {"k": 1, "j": 2}}),
                (("docsx",), "4", {"color": "red", "size": 3}),
                (("docs", "a"), "5", {"color": "green", "size": 7, "ok": 1})]
        for ns, key, value in rows:
            store.put(ns, key, value)
        show(store.search(("docs",)))
        for f in [{"color": "red"}, {"size": {"$gt": 1}}, {"size": {"$gte": 2.5, "$lt": 10}},
                  {"color": {"$ne": "red"}}, {"ok": True}, {"meta": {"k": 1}},
                  {"tags": ["x"]}, {"color": {"$eq": "blue"}}, {"size": {"$lte": 2.5}}]:
            print(f, [i.key for i in store.search(("docs",), filter=f)])
        print([i.key for i in store.search((), limit=2)],
              [i.key for i in store.search((), limit=2, offset=2)])
        print([i.key for i in store.search(("docs", "a"))], store.search(("zzz",)))
        store.put(("docs", "a"), "1", {"color": "red", "size": 100})
        print([i.key for i in store.search(("docs",))])
    """,
    "list namespaces": """
        store = InMemoryStore()
        for ns in [("a", "b", "c"), ("a", "b", "d"), ("a", "x"), ("b", "c"), ("c",)]:
            store.put(ns, "k", {"v": 1})
        print(store.list_namespaces())
        print(store.list_namespaces(prefix=("a", "b")))
        print(store.list_namespaces(prefix=("a", "*", "c")))
        print(store.list_namespaces(suffix=("c",)))
        print(store.list_namespaces(prefix=("a",), suffix=("*", "d")))
        print(store.list_namespaces(max_depth=1), store.list_namespaces(max_depth=2))
        print(store.list_namespaces(limit=2, offset=1), store.list_namespaces(prefix=("q",)))
    """,
    "batch results in order, reads before writes": """
        store = InMemoryStore()
        store.put(("b",), "old", {"v": 0})
        results = store.batch([PutOp(("b",), "k", {"v": 1}), GetOp(("b",), "k"),
                               PutOp(("b",), "k", {"v": 2}), SearchOp(("b",)),
                               ListNamespacesOp(), GetOp(("b",), "old")])
        for r in results:
            print(r)
        print(store.get(("b",), "k").value)
        print(asyncio.run(store.abatch([GetOp(("b",), "k"), SearchOp(("b",), limit=1)])))
    """,
    "namespace rules": """
        store = InMemoryStore()
        reserved = "lang" + "graph"  # kept as it is when the script's imports are renamed
        for ns in [(), ("a.b",), ("ok", ""), (reserved, "x")]:
            try:
                store.put(ns, "k", {"v": 1})
            except ValueError as exc:
                print(type(exc).__name__)
        try:
            store.get(("a.b",), "k")
        except ValueError as exc:
            print(type(exc).__name__)
        print(store.get((reserved,), "k"))
    """,
    "similarity search with an embed function": """
        words = ("cat", "dog", "fish")
        def embed(texts):
            return [[float(t.count(w)) for w in words] for t in texts]
        store = InMemoryStore(index={"dims": 3, "embed": embed, "fields": ["text"]})
        store.put(("m", "u1"), "cat", {"text": "cat cat", "kind": "pet"})
        store.put(("m", "u1"), "dog", {"text": "dog", "kind": "pet"})
        store.put(("m", "u2"), "mix", {"text": "cat dog", "kind": "wild"})
        store.put(("m", "u2"), "other", {"text": "x", "title": "fish"}, index=["title"])
        for item in store.search(("m",), query="cat"):
            print(item.key, round(item.score, 4))
        pets = store.search(("m",), query="dog", filter={"kind": "pet"})
        print([(i.key, round(i.score, 4)) for i in pets])
        print([i.key for i in store.search(("m",), query="fish", limit=2, offset=1)])
        print([i.score for i in store.search(("m",))])
    """,
    "similarity search with an async embed function": """
        async def aembed(texts):
            return [[float(len(t)), 1.0] for t in texts]
        async def main():
            store = InMemoryStore(index={"dims": 2, "embed": aembed, "fields": ["t"]})
            await store.aput(("n",), "short", {"t": "ab"})
            await store.aput(("n",), "long", {"t": "abcdefghij"})
            found = await store.asearch(("n",), query="abcdefghi")
            print([(i.key, round(i.score, 4)) for i in found])
        asyncio.run(main())
    """,
    "SqliteStore with TTLs, before they expire": """
        from langgraph.store.sqlite import SqliteStore
        with SqliteStore.from_conn_string(":memory:", ttl={"default_ttl": 60}) as store:
            store.setup()
            store.put(("t", "u"), "a", {"v": 1})
            store.put(("t",), "b", {"v": 2}, ttl=5)
            store.put(("t",), "c", {"v": 3}, ttl=None)
            print(store.get(("t", "u"), "a").value, store.get(("t",), "b", refresh_ttl=False))
            print(sorted(i.key for i in store.search(("t",))), store.list_namespaces())
            print(sorted(i.key for i in store.search(("t",), filter={"v": {"$gte": 2}})))
            store.delete(("t",), "b")
            print(store.get(("t",), "b"), store.list_namespaces(prefix=("t",)))
    """,
}


@pytest.fixture(scope="module", autouse=True)
def _langgraph() -> None:
    require_langgraph("langgraph.store.memory")


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_the_same_store_program_prints_the_same(name: str) -> None:
    source = _HEADER + textwrap.dedent(SCRIPTS[name])
    theirs, ours = on_both(source)
    assert ours == theirs
    assert theirs.strip()
