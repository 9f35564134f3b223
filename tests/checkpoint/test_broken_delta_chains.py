"""A stored delta chain that loops (a delta based on itself, or a cycle, as tampered or damaged
rows can make) raises SerializationError naming the channel and version, instead of looping
forever while memory grows."""

from __future__ import annotations

import operator
import sqlite3
import threading
from pathlib import Path
from typing import Annotated, Any

import ormsgpack
import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint._delta import DELTA_TAG, ChainCache, resolve
from hitlgraph.checkpoint.serde import SerializationError
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import START, StateGraph


def _delta(base: Any, count: int = 1, items: bytes = b"\xa1x") -> tuple[str, bytes]:
    return DELTA_TAG, ormsgpack.packb([base, base, count, items])


def test_resolve_refuses_a_delta_based_on_itself() -> None:
    with pytest.raises(SerializationError, match=r"'log' at version 7 .*cycle"):
        resolve(_delta(7), {7: _delta(7)}, channel="log")


def test_resolve_refuses_a_cycle_of_two() -> None:
    with pytest.raises(SerializationError, match="cycle"):
        resolve(_delta(1), {1: _delta(2), 2: _delta(1)}, channel="log")


def test_chain_cache_refuses_a_cycle() -> None:
    rows = {1: _delta(2), 2: _delta(1)}
    cache = ChainCache(lambda channel, low, high: rows)
    with pytest.raises(SerializationError, match="cycle"):
        cache.full("log", 1, rows[1])


class Log(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int


def _grow(state: Log) -> Log:
    return {"log": ["x" * 50], "n": state.get("n", 0) + 1}


def _thread_with_deltas(path: Path) -> None:
    builder = StateGraph(Log).add_node("grow", _grow).add_edge(START, "grow")
    builder.add_conditional_edges("grow", lambda s: "grow" if s["n"] < 12 else "__end__")
    with SqliteSaver.from_conn_string(str(path)) as saver:
        builder.compile(checkpointer=saver).invoke({"log": []},
                                                   {"configurable": {"thread_id": "t"}})


def test_a_tampered_sqlite_row_makes_get_tuple_raise_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.sqlite"
    _thread_with_deltas(path)
    with sqlite3.connect(path) as conn:
        version, blob = conn.execute(
            "SELECT version, blob FROM blobs WHERE channel = 'log' AND type = ? "
            "ORDER BY version DESC LIMIT 1", (DELTA_TAG,)).fetchone()
        _base, root, count, items = ormsgpack.unpackb(blob)
        conn.execute("UPDATE blobs SET blob = ? WHERE channel = 'log' AND version = ?",
                     (ormsgpack.packb([version, root, count, items]), version))

    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            with SqliteSaver.from_conn_string(str(path)) as saver:
                saver.get_tuple({"configurable": {"thread_id": "t"}})
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "get_tuple kept following the tampered chain"
    assert isinstance(outcome[0], SerializationError)
    assert "'log'" in str(outcome[0]) and "cycle" in str(outcome[0])
