"""/store/items/search with `query` when the server's store has an index (langgraph.json's
"store.index"): ranked by similarity with scores, on SQLite and on PostgreSQL with pgvector;
without an index the query is ignored, as on LangGraph's server. And the "store" section as
`store_index` reads it.

The store router runs in a bare FastAPI app whose lifespan opens the store the way the
server's does (`open_items_store`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from _services import require_pgvector
from hitlgraph.server._store_items import open_items_store
from hitlgraph.server._store_items_index import store_index
from hitlgraph.server.routes.store import router
from hitlgraph.store.base import IndexConfig
from hitlgraph.store.conformance import embed_words

_EMBED = "from hitlgraph.store.conformance import embed_words as embed\n"


@contextmanager
def _client(db: str, index: IndexConfig | None) -> Iterator[TestClient]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.items_store = await open_items_store(stack, db, index)
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    with TestClient(app) as client:
        yield client


@contextmanager
def _database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield str(tmp_path / "items.sqlite")
        return
    import psycopg

    dsn = require_pgvector()
    schema = f"routes_{uuid.uuid4().hex[:12]}"
    # A postgresql:// URL (the server tells its databases apart by that prefix; a key=value
    # conninfo would be taken for a SQLite file name).
    options = quote(f"-c search_path={schema},public")
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{dsn}{'&' if '?' in dsn else '?'}options={options}"
            vectors = admin.execute(
                "SELECT count(*) FROM information_schema.tables"
                " WHERE table_schema = %s AND table_name = 'store_vectors'", (schema,)
            ).fetchone()
            assert vectors == (1,), f"the store did not run on PostgreSQL schema {schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _put_three(client: TestClient) -> None:
    for key, text in [("cat", "cat cat"), ("dog", "dog"), ("mix", "cat dog")]:
        answer = client.put("/store/items", json={"namespace": ["m"], "key": key,
                                                  "value": {"text": text}})
        assert answer.status_code == 204, answer.text


def _search(client: TestClient, **body: Any) -> list[tuple[str, Any]]:
    answer = client.post("/store/items/search", json={"namespace_prefix": ["m"], **body})
    assert answer.status_code == 200, answer.text
    return [(i["key"], i["score"] and round(i["score"], 4)) for i in answer.json()["items"]]


@pytest.mark.parametrize("kind", ["sqlite", "pgvector"])
def test_a_query_ranks_items_when_the_store_has_an_index(kind: str, tmp_path: Path) -> None:
    index: IndexConfig = {"dims": 3, "embed": embed_words, "fields": ["text"]}
    with _database(kind, tmp_path) as db, _client(db, index) as client:
        _put_three(client)
        assert _search(client, query="cat") == [("cat", 1.0), ("mix", 0.7071), ("dog", 0.0)]
        assert _search(client, query="dog", limit=1, offset=1) == [("mix", 0.7071)]


def test_without_an_index_a_query_is_ignored_as_on_langgraphs_server(tmp_path: Path) -> None:
    with _client(str(tmp_path / "items.sqlite"), None) as client:
        _put_three(client)
        assert _search(client, query="cat") == _search(client) == [
            ("mix", None), ("dog", None), ("cat", None)]


def test_the_store_section_gives_the_index(tmp_path: Path) -> None:
    (tmp_path / "emb.py").write_text(_EMBED)
    where = "\"store\" in 'langgraph.json'"
    found = store_index({"index": {"embed": "./emb.py:embed", "dims": 3}}, tmp_path, where)
    assert found == {"dims": 3, "embed": embed_words, "fields": None}
    named = store_index({"index": {"embed": "openai:text-embedding-3-small", "dims": 1536,
                                   "fields": ["$"]}}, tmp_path, where)
    assert named == {"dims": 1536, "embed": "openai:text-embedding-3-small", "fields": ["$"]}
    assert store_index(None, tmp_path, where) is None
    assert store_index({"ttl": {"default_ttl": 5}}, tmp_path, where) is None


@pytest.mark.parametrize(("section", "error"), [
    ([], "must be an object"),
    ({"index": {"embed": "a:b", "dims": 3, "distance": "l2"}}, "object of \"embed\""),
    ({"index": {"embed": "a:b", "dims": 0}}, "dims must be a positive whole number"),
    ({"index": {"embed": "a:b", "dims": True}}, "got True"),
    ({"index": {"embed": "nocolon", "dims": 3}}, "got 'nocolon'"),
    ({"index": {"embed": "a:b", "dims": 3, "fields": "$"}}, "fields must be a list"),
    ({"index": {"embed": "./missing.py:embed", "dims": 3}}, "which does not exist"),
    ({"index": {"embed": "./emb.py:nothing", "dims": 3}}, "named 'nothing'"),
    ({"index": {"embed": "./broken.py:embed", "dims": 3}}, "ZeroDivisionError"),
])
def test_a_wrong_store_section_is_refused_naming_it(section: Any, error: str,
                                                    tmp_path: Path) -> None:
    (tmp_path / "emb.py").write_text(_EMBED)
    (tmp_path / "broken.py").write_text("1 / 0\n")
    with pytest.raises(ValueError, match=error) as caught:
        store_index(section, tmp_path, "\"store\" in 'langgraph.json'")
    assert "\"store\" in 'langgraph.json'" in str(caught.value)


def test_langgraph_json_store_index_reaches_the_search_route(tmp_path: Path) -> None:
    """The whole way: "store.index" in langgraph.json, read by load_config, gives the served
    store its index; "store.ttl" is named among the keys with no effect."""
    import json

    from hitlgraph.server.config import load_config

    (tmp_path / "emb.py").write_text(_EMBED)
    (tmp_path / "g.py").write_text(
        "from typing_extensions import TypedDict\nfrom hitlgraph.graph import StateGraph\n"
        "class S(TypedDict):\n    x: int\n"
        "graph = StateGraph(S).add_node('a', lambda s: s).set_entry_point('a')\n")
    file = tmp_path / "langgraph.json"
    file.write_text(json.dumps({
        "graphs": {"g": "./g.py:graph"},
        "store": {"index": {"embed": "./emb.py:embed", "dims": 3, "fields": ["text"]},
                  "ttl": {"default_ttl": 5}}}))
    config = load_config(file)
    assert config.store_index == {"dims": 3, "embed": embed_words, "fields": ["text"]}
    assert [w for w in config.warnings if "'store.ttl'" in w and "no effect" in w]
    assert not [w for w in config.warnings if "'store.index'" in w]
    with _client(str(tmp_path / "items.sqlite"), config.store_index) as client:
        _put_three(client)
        assert _search(client, query="dog")[0] == ("dog", 1.0)
