"""ChainCache (a page of history read from stored deltas): every version of a chain reads back
as the list it was, in whatever order the page asks for them, and a chain's rows are fetched
and walked once for the whole page rather than once per checkpoint."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Annotated, Any

import ormsgpack
import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint._delta import DELTA_TAG, ChainCache, DeltaEncoder
from hitlgraph.checkpoint.conformance._helpers import conf, make_checkpoint
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import END, START, StateGraph

Typed = tuple[str, bytes]


def _stored_chain(length: int) -> tuple[dict[int, Typed], dict[int, list[str]]]:
    """The rows a saver stores for a list that gains one item per version (1..length), and
    the list at each version."""
    encoder = DeltaEncoder()
    rows: dict[int, Typed] = {}
    values: dict[int, list[str]] = {}
    for version in range(1, length + 1):
        values[version] = [f"item {i}" for i in range(version)]
        rows[version] = encoder.encode("key", version,
                                       ("msgpack", ormsgpack.packb(values[version])))
    assert sum(typed[0] == DELTA_TAG for typed in rows.values()) == length - 1
    return rows, values


class _Fetches:
    """A fetch that counts its calls and the rows it hands out."""

    def __init__(self, rows: dict[int, Typed]) -> None:
        self.rows, self.calls, self.handed = rows, 0, 0

    def __call__(self, channel: str, low: Any, high: Any) -> dict[int, Typed]:
        self.calls += 1
        found = {v: t for v, t in self.rows.items() if low <= v <= high}
        self.handed += len(found)
        return found


@pytest.mark.parametrize("order", ["newest first", "oldest first", "shuffled"])
def test_every_version_reads_back_whole_in_any_order(order: str) -> None:
    rows, values = _stored_chain(40)
    versions = sorted(rows, reverse=order == "newest first")
    if order == "shuffled":
        versions = versions[::7] + [v for v in versions if v % 7]
    cache = ChainCache(_Fetches(rows))
    for version in versions:
        assert ormsgpack.unpackb(cache.full("log", version, rows[version])[1]) == values[version]


def test_a_page_newest_first_fetches_the_chain_once() -> None:
    rows, values = _stored_chain(60)
    fetch = _Fetches(rows)
    cache = ChainCache(fetch)
    for version in range(60, 50, -1):
        assert ormsgpack.unpackb(cache.full("log", version, rows[version])[1]) == values[version]
    assert (fetch.calls, fetch.handed) == (1, 60)


def test_a_row_the_walk_fetched_is_at_hand() -> None:
    rows, _ = _stored_chain(5)
    cache = ChainCache(_Fetches(rows))
    assert cache.row("log", 3) is None
    cache.full("log", 5, rows[5])
    assert cache.row("log", 3) == rows[3]
    assert cache.row("other", 3) is None


def test_a_seeded_newest_version_reads_its_page_without_a_fetch() -> None:
    rows, values = _stored_chain(300)
    fetch = _Fetches(rows)
    cache = ChainCache(fetch)
    cache.seed("log", 300, ("msgpack", ormsgpack.packb(values[300])))
    for version in range(300, 290, -1):
        assert ormsgpack.unpackb(cache.full("log", version, rows[version])[1]) == values[version]
    assert fetch.calls == 0


def _grow_thread(saver: SqliteSaver, steps: int) -> dict[str, Any]:
    """Thread "t", whose list gains one 200-byte item per step for `steps` steps; its config."""

    class State(TypedDict):
        log: Annotated[list[str], operator.add]

    def grow(state: State) -> dict[str, Any]:
        return {"log": [f"{len(state['log']):08d}".ljust(200, "m")]}

    builder = StateGraph(State)
    builder.add_node("grow", grow)
    builder.add_edge(START, "grow")
    builder.add_conditional_edges("grow", lambda s: "grow" if len(s["log"]) < steps else END)
    config: dict[str, Any] = {"configurable": {"thread_id": "t"},
                              "recursion_limit": steps + 10}
    builder.compile(checkpointer=saver).invoke({"log": []}, config)
    return {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}


def _page_statements(saver: SqliteSaver, config: dict[str, Any]) -> tuple[list[str], list[Any]]:
    statements: list[str] = []
    saver.conn.set_trace_callback(statements.append)
    try:
        page = list(saver.list(config, limit=10))
    finally:
        saver.conn.set_trace_callback(None)
    return statements, [tup.checkpoint["channel_values"].get("log") for tup in page]


def test_the_first_page_reads_as_many_rows_however_long_the_thread(tmp_path: Path) -> None:
    counts = []
    for steps in (60, 400):
        path = str(tmp_path / f"{steps}.sqlite")
        with SqliteSaver.from_conn_string(path) as saver:
            config = _grow_thread(saver, steps)
            statements, logs = _page_statements(saver, config)
        assert [len(log) for log in logs] == list(range(steps, steps - 10, -1))
        assert not any("version >= " in sql for sql in statements)  # no walk along the chain
        assert len(statements) == 4  # BEGIN, the page, its values and writes, COMMIT
        counts.append(len(statements))
        with SqliteSaver.from_conn_string(path) as cold:  # a new process walks, reads the same
            assert _page_statements(cold, config)[1] == logs
    assert counts[0] == counts[1]


def test_a_page_whose_checkpoints_name_more_values_than_a_statement_reads(tmp_path: Path
                                                                           ) -> None:
    """A page reads its values in chunks of 250 keys (older SQLite builds allow 999
    parameters): 3 checkpoints of 130 channels, each version new, are 390 keys."""
    with SqliteSaver.from_conn_string(str(tmp_path / "wide.sqlite")) as saver:
        config = conf("wide")
        for step in range(3):
            values = {f"c{i}": f"{step}-{i}" for i in range(130)}
            versions = {f"c{i}": step + 1 for i in range(130)}
            config = saver.put(config, make_checkpoint(values, versions), {"step": step},
                               versions)
            saver.put_writes(config, [("c0", f"write {step}")], f"task {step}")
        page = list(saver.list(conf("wide")))
    assert [tup.checkpoint["channel_values"]["c129"] for tup in page] == ["2-129", "1-129",
                                                                           "0-129"]
    assert [tup.pending_writes for tup in page] == [
        [(f"task {step}", "c0", f"write {step}")] for step in (2, 1, 0)]


def _values_newest_first(items: list[Any]) -> list[list[Any]]:
    """The values ChainCache.value decodes for a chain whose versions 1..len(items) each add
    one of `items`, read newest first as a page is."""
    encoder = DeltaEncoder()
    rows = {version: encoder.encode("key", version, ("msgpack", ormsgpack.packb(
        items[:version]))) for version in range(1, len(items) + 1)}
    cache = ChainCache(_Fetches(rows))
    return [cache.value("log", version, rows[version], _loads)
            for version in range(len(items), 0, -1)]


def _loads(typed: Typed) -> Any:
    return ormsgpack.unpackb(typed[1])


def test_a_page_of_scalar_lists_gives_each_checkpoint_its_own_list() -> None:
    items: list[Any] = [f"item {i}" for i in range(30)] + [1, 2.5, True, None, b"x"]
    values = _values_newest_first(items)
    assert values == [items[:n] for n in range(len(items), 0, -1)]
    values[1].append("changed")
    values[2][0] = "changed"
    assert values[0] == items and values[3] == items[:-3]
    assert len({id(value) for value in values}) == len(values)


def test_a_page_of_mutable_items_shares_no_item_between_checkpoints() -> None:
    items: list[Any] = [{"role": "user", "text": f"message {i}"} for i in range(20)]
    newest, older = _values_newest_first(items)[:2]
    assert older == items[:-1]
    assert all(a is not b for a, b in zip(newest, older, strict=False))
