"""What a DeltaChannel key costs stored, and that it reads back as it was: over 200 steps its
stored bytes grow with the writes (the batches since a snapshot), not with the value; the
snapshot is taken every `snapshot_frequency` updates; history, on every saver, shows the
values a plain reducer key shows; and a checkpoint holding the value itself (written before
this form, or by a reducer key) is still read."""

from __future__ import annotations

import contextlib
import operator
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from _services import require_postgres
from hitlgraph.channels import DeltaChannel
from hitlgraph.channels.delta import LOG
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import END, START, StateGraph

STEPS = 200


def edit(old: dict[str, Any], writes: list[dict[str, Any]]) -> dict[str, Any]:
    """A reducer that changes entries in place of appending: the value is a dict."""
    new = dict(old)
    for write in writes:
        new.update(write)
    return new


def append(old: list[str], writes: list[list[str]]) -> list[str]:
    return old + [x for write in writes for x in write]


def _graph(key: Any, steps: int, kind: str, saver: BaseCheckpointSaver) -> Any:
    # The call form: in a class body `ev: key` would be the unresolvable string "key".
    S = TypedDict("S", {"n": int, "ev": key}, total=False)  # type: ignore[misc]  # noqa: UP013

    def step(s: dict[str, Any]) -> dict[str, Any]:
        n = s.get("n", 0)
        write: Any = ([f"item {n:04d} " + "x" * 90] if kind == "append"
                      else {f"k{n % 150:04d}": f"{n} " + "y" * 90, "last": n})
        return {"n": n + 1, "ev": write}

    g = StateGraph(S)
    g.add_node("step", step)
    g.add_edge(START, "step")
    g.add_conditional_edges("step", lambda s: END if s["n"] >= steps else "step")
    return g.compile(checkpointer=saver)


def _blob_bytes(path: Path) -> int:
    """Every BLOB column's bytes in the SQLite file."""
    total = 0
    with contextlib.closing(sqlite3.connect(path)) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for column in con.execute(f"PRAGMA table_info({table})").fetchall():
                if column[2].upper() == "BLOB":
                    total += con.execute(f"SELECT COALESCE(SUM(LENGTH({column[1]})), 0) "
                                         f"FROM {table}").fetchone()[0]
    return total


def _stored(tmp_path: Path, key: Any, kind: str) -> int:
    path = tmp_path / f"{uuid.uuid4().hex}.sqlite"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        _graph(key, STEPS, kind, saver).invoke(
            {"n": 0}, {"configurable": {"thread_id": "t"}, "recursion_limit": 1000})
    return _blob_bytes(path)


def test_an_editing_reducer_stores_its_writes_not_its_value(tmp_path: Path) -> None:
    """A dict of up to 150 entries of ~100 bytes, one edited or added a step: stored whole at
    each checkpoint (as a reducer key is) that is about 1.3 MB; as batches, about 0.1 MB."""
    whole = _stored(tmp_path, Annotated[dict, operator.or_], "edit")
    delta = _stored(tmp_path, Annotated[dict, DeltaChannel(edit)], "edit")
    assert whole > 1_000_000, whole
    assert delta < whole / 8, (delta, whole)


def test_an_appending_reducer_stays_as_compact_as_a_reducer_key(tmp_path: Path) -> None:
    whole = _stored(tmp_path, Annotated[list, operator.add], "append")
    delta = _stored(tmp_path, Annotated[list, DeltaChannel(append)], "append")
    assert delta < 2 * whole, (delta, whole)


@pytest.mark.parametrize("frequency", [1, 7, 100])
def test_the_snapshot_is_taken_every_snapshot_frequency_updates(frequency: int) -> None:
    saver = InMemorySaver()
    app = _graph(Annotated[list, DeltaChannel(append, snapshot_frequency=frequency)], 20,
                 "append", saver)
    config = {"configurable": {"thread_id": "t"}}
    app.invoke({"n": 0}, config)
    stored = saver.get_tuple(config).checkpoint["channel_values"]["ev"]  # type: ignore[union-attr]
    assert stored[0] == LOG
    assert len(stored[2:]) == 20 % frequency, stored
    assert len(stored[1]) == 20 - 20 % frequency


@contextlib.contextmanager
def _saver(kind: str, tmp_path: Path) -> Iterator[BaseCheckpointSaver]:
    if kind == "memory":
        yield InMemorySaver()
    elif kind == "sqlite":
        with SqliteSaver.from_conn_string(str(tmp_path / f"{uuid.uuid4().hex}.sqlite")
                                          ) as saver:
            yield saver
    else:
        import psycopg
        from psycopg.conninfo import make_conninfo

        from hitlgraph.checkpoint.postgres import PostgresSaver

        dsn = require_postgres()
        schema = f"delta_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
            try:
                conninfo = make_conninfo(dsn, options=f"-c search_path={schema}")
                with PostgresSaver.from_conn_string(conninfo) as saver:
                    saver.setup()
                    yield saver
            finally:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.parametrize("kind", ["append", "edit"])
@pytest.mark.parametrize("saver_kind", ["memory", "sqlite", "postgres"])
def test_history_reads_back_what_a_reducer_key_shows(saver_kind: str, kind: str,
                                                      tmp_path: Path) -> None:
    plain = (Annotated[list, operator.add] if kind == "append"
             else Annotated[dict, operator.or_])
    delta = Annotated[list if kind == "append" else dict,
                      DeltaChannel(append if kind == "append" else edit, snapshot_frequency=9)]
    shown = []
    for key in (plain, delta):
        with _saver(saver_kind, tmp_path) as saver:
            app = _graph(key, 40, kind, saver)
            config = {"configurable": {"thread_id": "t"}, "recursion_limit": 100}
            app.invoke({"n": 0}, config)
            shown.append([s.values for s in app.get_state_history(config)])
    assert len(shown[1]) == 42
    assert shown[1] == shown[0]


def test_a_stored_plain_value_is_read_and_extended(tmp_path: Path) -> None:
    """A thread written when its key was a reducer key (or by a DeltaChannel before batches
    were stored) goes on under a DeltaChannel."""
    path = str(tmp_path / "old.sqlite")
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(path) as saver:
        _graph(Annotated[list, operator.add], 3, "append", saver).invoke({"n": 0}, config)
    with SqliteSaver.from_conn_string(path) as saver:
        app = _graph(Annotated[list, DeltaChannel(append)], 5, "append", saver)
        assert len(app.get_state(config).values["ev"]) == 3
        app.invoke({"n": 3}, config)
        assert [x[:9] for x in app.get_state(config).values["ev"]] == [
            f"item {n:04d}" for n in (0, 1, 2, 3, 4)]


def test_a_reducer_that_extends_the_value_in_place_reads_back_the_same() -> None:
    def extend(old: list[str], writes: list[list[str]]) -> list[str]:
        for write in writes:
            old.extend(write)
        return old

    saver = InMemorySaver()
    app = _graph(Annotated[list, DeltaChannel(extend, snapshot_frequency=4)], 10, "append",
                 saver)
    config = {"configurable": {"thread_id": "t"}}
    app.invoke({"n": 0}, config)
    assert [x[:9] for x in app.get_state(config).values["ev"]] == [
        f"item {n:04d}" for n in range(10)]
    assert [len(s.values.get("ev", [])) for s in app.get_state_history(config)] == [
        10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]
