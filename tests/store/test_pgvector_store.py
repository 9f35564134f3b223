"""PostgresStore with an index (pgvector): what the conformance suite leaves out: the error
on a server without the extension, the index settings LangGraph's PostgresStore takes
(distance_type, ann_index_config), a vector table made for other dims, vectors deleted with
their items, and the same programs side by side with LangGraph's PostgresStore."""

from __future__ import annotations

import asyncio
import textwrap

import psycopg
import pytest
from _store_postgres import fresh_schema, open_postgres

from _services import require_pgvector, require_postgres
from _side_by_side import on_both, require_langgraph
from hitlgraph.store.conformance import INDEX, embed_words
from hitlgraph.store.postgres import PostgresStore
from hitlgraph.store.postgres.aio import AsyncPostgresStore


def test_an_index_on_a_server_without_pgvector_fails_at_setup_saying_so() -> None:
    dsn = require_postgres()
    with psycopg.connect(dsn) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
                        ).fetchone():
            pytest.skip("this server has pgvector")
    with pytest.raises(RuntimeError, match="needs the pgvector extension"), \
            PostgresStore.from_conn_string(dsn, index=INDEX):
        pass

    async def open_async() -> None:
        async with AsyncPostgresStore.from_conn_string(dsn, index=INDEX):
            pass

    with pytest.raises(RuntimeError, match="needs the pgvector extension"):
        asyncio.run(open_async())


@pytest.mark.parametrize(("index", "error"), [
    ({"embed": embed_words}, "needs 'dims'"),
    ({"dims": 0, "embed": embed_words}, "got 0"),
    ({"dims": "3", "embed": embed_words}, "got '3'"),
    ({"dims": 3, "embed": embed_words, "distance_type": "dot"}, "distance_type='dot'"),
    ({"dims": 3, "embed": embed_words, "ann_index_config": {"kind": "tree"}}, "kind='tree'"),
    ({"dims": 3, "embed": embed_words, "ann_index_config": {"vector_type": "bit"}},
     "vector_type='bit'"),
])
def test_wrong_index_settings_fail_when_the_store_is_made(index: dict[str, object],
                                                           error: str) -> None:
    with pytest.raises(ValueError, match=error):
        PostgresStore(None, index=index)  # type: ignore[arg-type,typeddict-item]


def _run(dsn: str, body: object) -> None:
    async def go() -> None:
        await body(dsn)  # type: ignore[operator]
    asyncio.run(go())


def test_a_vector_table_made_for_other_dims_is_refused() -> None:
    dsn = require_pgvector()
    with fresh_schema(dsn) as schema, psycopg.connect(
            dsn, autocommit=True, options=f"-c search_path={schema},public") as conn:
        PostgresStore(conn, index=INDEX).setup()
        again = PostgresStore(conn, index={**INDEX, "dims": 4})
        with pytest.raises(ValueError, match=r"holds vector\(3\) embeddings.*vector\(4\)"):
            again.setup()
        PostgresStore(conn, index=INDEX).setup()


@pytest.mark.parametrize(("distance", "scores"), [
    ("cosine", [("cat", 1.0), ("mix", 0.7071), ("dog", 0.0)]),
    ("l2", [("cat", -1.0), ("mix", -1.0), ("dog", -1.4142)]),
    ("inner_product", [("cat", 2.0), ("mix", 1.0), ("dog", 0.0)]),
])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_distance_types_score_as_langgraph_does(distance: str, scores: list[object],
                                                mode: str) -> None:
    dsn = require_pgvector()

    async def body(dsn: str) -> None:
        index = {**INDEX, "distance_type": distance, "ann_index_config": {"kind": "flat"}}
        async with open_postgres(dsn, mode, index, None) as store:  # type: ignore[arg-type]
            for key, text in [("cat", "cat cat"), ("dog", "dog"), ("mix", "cat dog")]:
                if mode == "sync":
                    await asyncio.to_thread(store.put, ("m",), key, {"text": text})
                else:
                    await store.aput(("m",), key, {"text": text})
            found = (await asyncio.to_thread(store.search, ("m",), query="cat")
                     if mode == "sync" else await store.asearch(("m",), query="cat"))
            got = [(i.key, round(i.score or 0.0, 4)) for i in found]
            assert sorted(got, key=lambda p: (-p[1], p[0])) == scores, got
    _run(dsn, body)


def test_vectors_go_with_their_items_on_delete_and_expiry() -> None:
    dsn = require_pgvector()
    with fresh_schema(dsn) as schema, psycopg.connect(
            dsn, autocommit=True, options=f"-c search_path={schema},public") as conn:
        store = PostgresStore(conn, index=INDEX)
        store.put(("a",), "k", {"text": "cat"})
        store.put(("a",), "gone", {"text": "dog"}, ttl=1e-6)
        store.delete(("a",), "k")
        assert store.sweep_ttl() == 1
        assert conn.execute("SELECT count(*) FROM store_vectors").fetchone() == (0,)


_SCRIPT = """
import uuid
import psycopg
from langgraph.store.postgres import PostgresStore

WORDS = ("cat", "dog", "fish")

def embed(texts):
    return [[float(t.count(w)) for w in WORDS] for t in texts]

def show(found):
    print([(i.key, i.namespace, i.value, None if i.score is None else round(i.score, 4))
           for i in found])

DSN = {dsn!r}
schema = "sbs_" + uuid.uuid4().hex[:12]
with psycopg.connect(DSN, autocommit=True) as admin:
    admin.execute(f"CREATE SCHEMA {{schema}}")
try:
    url = DSN + "?options=-csearch_path%3D" + schema + ",public"
    index = {{"dims": 3, "embed": embed, "fields": ["text"], {extra}}}
    with PostgresStore.from_conn_string(url, index=index) as store:
        store.setup()
{body}
finally:
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {{schema}} CASCADE")
"""

# Ties in score are ordered differently (LangGraph leaves their order to the database):
# every ranking below has distinct scores under each distance.
_BODIES = {
    "ranking, filters, prefixes and pages": """
        store.put(("m", "u1"), "cat", {"text": "cat cat cat", "kind": "pet"})
        store.put(("m", "u1"), "dog", {"text": "dog dog", "kind": "pet"})
        store.put(("m", "u2"), "mix", {"text": "cat dog fish", "kind": "wild"})
        store.put(("m", "u2"), "fish", {"text": "fish fish fish dog cat cat", "kind": "wild"})
        show(store.search(("m",), query="cat"))
        show(store.search(("m",), query="dog fish", filter={"kind": "wild"}))
        show(store.search(("m", "u1"), query="dog"))
        show(store.search(("m",), query="cat", limit=2, offset=1))
        show(store.search(("m",), query="fish", limit=1))
        show(store.search(("m",), query="cat", filter={"kind": {"$ne": "pet"}}))
    """,
    "per-put index choices, updates and deletes": """
        store.put(("i",), "plain", {"text": "cat"}, index=False)
        store.put(("i",), "other", {"text": "nothing", "title": "cat"}, index=["title"])
        store.put(("i",), "list", {"text": "dog", "notes": ["fish", "cat cat fish"]},
                  index=["notes[*]"])
        store.put(("i",), "none", {"nothing": "here"})
        show(store.search(("i",), query="cat"))
        store.put(("i",), "other", {"text": "nothing", "title": "dog dog"}, index=["title"])
        show(store.search(("i",), query="cat"))
        store.delete(("i",), "list")
        show(store.search(("i",), query="fish"))
        print([i.key for i in store.search(("i",))], store.get(("i",), "plain").value)
    """,
}


@pytest.mark.parametrize("extra", ['"distance_type": "cosine"', '"distance_type": "l2"',
                                   '"distance_type": "inner_product"'])
@pytest.mark.parametrize("name", list(_BODIES))
def test_side_by_side_with_langgraphs_postgres_store(name: str, extra: str) -> None:
    require_langgraph("langgraph.store.postgres")
    dsn = require_pgvector()
    source = _SCRIPT.format(dsn=dsn, extra=extra + ', "ann_index_config": {"kind": "flat"}',
                            body=textwrap.indent(textwrap.dedent(_BODIES[name]), " " * 8))
    theirs, ours = on_both(source)
    assert ours == theirs
    assert theirs.count("\n") >= 4, theirs


def test_a_put_replaces_an_items_vectors_where_langgraph_keeps_the_old_ones() -> None:
    """A deliberate difference (README, "The store"): after put(..., index=False) LangGraph's
    PostgresStore still ranks the item by the vectors of its earlier value."""
    require_langgraph("langgraph.store.postgres")
    dsn = require_pgvector()
    body = """
        store.put(("i",), "k", {"text": "cat"})
        store.put(("i",), "k", {"text": "dog"}, index=False)
        show(store.search(("i",), query="cat"))
        print("-")
    """
    source = _SCRIPT.format(dsn=dsn, extra='"distance_type": "cosine"',
                            body=textwrap.indent(textwrap.dedent(body), " " * 8))
    theirs, ours = on_both(source)
    assert theirs == "[('k', ('i',), {'text': 'dog'}, 1.0)]\n-\n"
    assert ours == "[]\n-\n"


def test_halfvec_vectors_are_stored_in_half_precision_or_refused_before_pgvector_0_7(
        ) -> None:
    """The test server (pgserver's) has pgvector 0.6: the clear refusal; a newer one stores
    halfvec columns and ranks with them."""
    dsn = require_pgvector()
    index = {**INDEX, "ann_index_config": {"kind": "hnsw", "vector_type": "halfvec"}}
    with fresh_schema(dsn) as schema, psycopg.connect(
            dsn, autocommit=True, options=f"-c search_path={schema},public") as conn:
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'"
                               ).fetchone()[0]  # type: ignore[index]
        store = PostgresStore(conn, index=index)  # type: ignore[arg-type]
        if tuple(map(int, version.split(".")[:2])) < (0, 7):
            with pytest.raises(RuntimeError, match=f"needs pgvector 0.7 or later; this "
                                                   f"server has {version}"):
                store.setup()
            return
        store.put(("h",), "cat", {"text": "cat"})
        store.put(("h",), "dog", {"text": "dog dog"})
        assert [(i.key, i.score) for i in store.search(("h",), query="cat")] == [
            ("cat", 1.0), ("dog", 0.0)]
        assert conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                            "attrelid = 'store_vectors'::regclass AND attname = 'embedding'"
                            ).fetchone() == ("halfvec(3)",)
