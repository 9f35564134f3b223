"""The index of open interrupts lists each interrupt with the response_schema it asked for
(as JSON Schema, keys in order) on every saver, sync and async, and the migration that builds
the index for an older database reads it from the stored interrupts too."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

import pytest
from pydantic import BaseModel

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt


class Refund(BaseModel):
    approved: bool
    amount: int = 0


class State(TypedDict, total=False):
    answer: Any


def _app(saver: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("ask", lambda s: {"answer": interrupt("refund?", response_schema=Refund)})
    builder.add_node("note", lambda s: {"answer": interrupt("note?")})
    builder.add_edge(START, "ask")
    builder.add_edge(START, "note")
    return builder.compile(checkpointer=saver)


def _listed(saver: Any) -> dict[str, Any]:
    return {p.node: p.response_schema for p in saver.list_pending(thread_id="t")}


@contextmanager
def _saver(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    if kind == "memory":
        yield InMemorySaver()
    elif kind == "sqlite":
        with SqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as saver:
            yield saver
    else:
        from hitlgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(request.getfixturevalue("pg_conninfo")) as saver:
            yield saver


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_each_saver_lists_the_schema_the_interrupt_asked_for(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with _saver(kind, tmp_path, request) as saver:
        app = _app(saver)
        config = {"configurable": {"thread_id": "t"}}
        app.invoke({}, config)
        listed = _listed(saver)
        assert listed == {"ask": Refund.model_json_schema(), "note": None}
        assert list(listed["ask"]) == list(Refund.model_json_schema())  # keys in order
        asked = {i.value: i for i in app.get_state(config).interrupts}
        assert listed["ask"] == asked["refund?"].response_schema
        app.invoke(Command(resume={asked["refund?"].id: {"approved": True}}), config)
        assert _listed(saver) == {"note": None}


def test_alist_pending_gives_the_schema_too(tmp_path: Path) -> None:
    from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async def main() -> dict[str | None, Any]:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "a.sqlite")) as saver:
            await _app(saver).ainvoke({}, {"configurable": {"thread_id": "t"}})
            return {p.node: p.response_schema async for p in saver.alist_pending()}

    assert asyncio.run(main()) == {"ask": Refund.model_json_schema(), "note": None}


def test_the_sqlite_migration_indexes_the_schema_of_an_older_database(tmp_path: Path) -> None:
    """A database of schema 2 (no index yet) that holds a paused thread with a schema: the
    schema comes from the stored interrupt when migration 3 builds the index."""
    path = str(tmp_path / "old.sqlite")
    with SqliteSaver.from_conn_string(path) as saver:
        _app(saver).invoke({}, {"configurable": {"thread_id": "t"}})
    with sqlite3.connect(path) as conn:  # back to schema 2
        for table in ("pending_interrupts", "decisions", "decisions_head"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM hitlgraph_checkpoint_migrations WHERE v >= 3")
    with SqliteSaver.from_conn_string(path) as saver:
        assert _listed(saver) == {"ask": Refund.model_json_schema(), "note": None}


def test_a_schema_json_cannot_hold_is_indexed_as_its_repr() -> None:
    """A dict schema with a value JSON has no form for (not JSON Schema then, though the
    checkpoint's serializer stores it): the write succeeds, and the index shows its repr."""
    saver = InMemorySaver()
    builder = StateGraph(State)
    odd = {"type": "object", "default": {1, 2}}
    builder.add_node("ask", lambda s: {"answer": interrupt("?", response_schema=odd)})
    builder.add_edge(START, "ask")
    builder.compile(checkpointer=saver).invoke({}, {"configurable": {"thread_id": "t"}})
    assert _listed(saver) == {"ask": {"type": "object", "default": repr({1, 2})}}
