"""Stored rows changed behind the saver's back (a hand edit, a bad restore, disk damage) are
refused with a SerializationError naming the thread, namespace and checkpoint: never a
KeyError, UnicodeDecodeError, AttributeError or RecursionError from deep inside a read, and
never a hang. Other threads of the same database keep working.

The matrix corrupts each column the SQL savers read (checkpoint record, metadata, channel
values and deltas, task writes, the index of open interrupts) on a SQLite file and on
PostgreSQL, then reads the thread every way a program does: get_state, get_state_history,
invoke(None) and list_pending.
"""

from __future__ import annotations

import operator
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import ormsgpack
import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.serde import SerializationError
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.graph.state import CompiledStateGraph
from hitlgraph.types import interrupt

VICTIM, BYSTANDER = "victim", "bystander"


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int
    answer: str


def _grow(state: State) -> State:
    return {"log": ["x" * 40], "n": state.get("n", 0) + 1}


def _ask(state: State) -> State:
    return {"answer": interrupt({"question": "ship it?"})}


def _graph(saver: BaseCheckpointSaver) -> CompiledStateGraph:
    builder = StateGraph(State).add_node("grow", _grow).add_node("ask", _ask)
    builder.add_edge(START, "grow")
    builder.add_conditional_edges("grow", lambda s: "grow" if s["n"] < 6 else "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


class Backend(NamedTuple):
    """A database holding the two paused threads: open a saver on it, run SQL on it."""

    open: Callable[[], AbstractContextManager[BaseCheckpointSaver]]
    execute: Callable[[str, tuple[Any, ...]], None]
    tables: dict[str, str]
    mark: str


def _sqlite(tmp_path: Path) -> Backend:
    from hitlgraph.checkpoint.sqlite import SqliteSaver

    path = str(tmp_path / "checkpoints.sqlite")

    def execute(sql: str, params: tuple[Any, ...]) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute(sql, params)
        conn.close()

    names = ("checkpoints", "blobs", "writes", "pending_interrupts")
    return Backend(lambda: SqliteSaver.from_conn_string(path), execute,
                   {name: name for name in names}, "?")


def _postgres(conninfo: str) -> Backend:
    import psycopg

    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.checkpoint.postgres._schema import BLOBS, CHECKPOINTS, PENDING, WRITES

    def execute(sql: str, params: tuple[Any, ...]) -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.encode(), params)

    tables = {"checkpoints": CHECKPOINTS, "blobs": BLOBS, "writes": WRITES,
              "pending_interrupts": PENDING}
    return Backend(lambda: PostgresSaver.from_conn_string(conninfo), execute, tables, "%s")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        found = _sqlite(tmp_path)
    else:
        found = _postgres(request.getfixturevalue("pg_conninfo"))
    with found.open() as saver:
        if hasattr(saver, "setup"):
            saver.setup()
        graph = _graph(saver)
        for thread_id in (VICTIM, BYSTANDER):
            graph.invoke({"log": []}, _config(thread_id))
    yield found


def _msgpack_ext(code: int, data: bytes) -> bytes:
    return ormsgpack.packb(ormsgpack.Ext(code, data))


_HUGE_ARRAY = b"\xdd\x7f\xff\xff\xff"  # an array header claiming 2**31 - 1 items
_BAD_UTF8 = b"\xa2\xff\xfe"  # a msgpack str of two bytes that are not UTF-8


class Tamper(NamedTuple):
    """One corruption: `column` of `table` set to `value` on the victim's rows (`where`:
    which of them, as SQL over that table's columns)."""

    table: str
    column: str
    value: Any
    where: str = ""
    extra: str = ""
    """Another assignment for the same rows, in SQL."""
    only: str | None = None
    """The one backend whose schema has this column or can hold this value."""


def _record(*fields: Any) -> bytes:
    return ormsgpack.packb(list(fields))


TAMPERS: dict[str, Tamper] = {
    "record truncated": Tamper("checkpoints", "record", b"\x95\x04"),
    "record garbage": Tamper("checkpoints", "record", b"\xc1\xc1\xc1"),
    "record huge length": Tamper("checkpoints", "record", _HUGE_ARRAY),
    "record not a list": Tamper("checkpoints", "record", ormsgpack.packb(7)),
    "record map missing keys": Tamper("checkpoints", "record", ormsgpack.packb({"v": 1})),
    "record versions wrong type": Tamper("checkpoints", "record", _record(4, 5, [], [], [])),
    "record triggers wrong type": Tamper("checkpoints", "record",
                                         _record(4, {}, 9, None, [])),
    "record bad utf-8": Tamper("checkpoints", "record", b"\x95\x04\x80\x90" + _BAD_UTF8 + b"\x90"),
    "record as text": Tamper("checkpoints", "record", "not bytes", only="sqlite"),
    "metadata json garbage": Tamper("checkpoints", "metadata_json", "{not json",
                                    only="sqlite"),
    "metadata json a list": Tamper("checkpoints", "metadata_json", "[1, 2]", only="sqlite"),
    "metadata json bad utf-8": Tamper("checkpoints", "metadata_json", b"{\"a\": \"\xff\"}",
                                      only="sqlite"),
    "metadata blob garbage": Tamper("checkpoints", "metadata", b"\xc1",
                                    extra="metadata_type = 'msgpack'"),
    "metadata blob wrong ext": Tamper("checkpoints", "metadata", _msgpack_ext(99, b"x"),
                                      extra="metadata_type = 'msgpack'"),
    "metadata blob not a map": Tamper("checkpoints", "metadata", ormsgpack.packb([1]),
                                      extra="metadata_type = 'msgpack'"),
    "metadata unknown tag": Tamper("checkpoints", "metadata_type", "nonsense",
                                   extra="metadata = ''"),
    "value truncated": Tamper("blobs", "blob", b"\x92\xa1", "type = 'msgpack'"),
    "value wrong ext code": Tamper("blobs", "blob", _msgpack_ext(77, b"\x00"),
                                   "type = 'msgpack'"),
    "value ext bad payload": Tamper("blobs", "blob", _msgpack_ext(1, b"\xc1"),
                                    "type = 'msgpack'"),
    "value bad utf-8": Tamper("blobs", "blob", _BAD_UTF8, "type = 'msgpack'"),
    "value huge length": Tamper("blobs", "blob", _HUGE_ARRAY, "type = 'msgpack'"),
    "value unknown tag": Tamper("blobs", "type", "nonsense", "type = 'msgpack'"),
    "value as text": Tamper("blobs", "blob", "text", "type = 'msgpack'", only="sqlite"),
    "delta garbage": Tamper("blobs", "blob", b"\xc1", "type = 'delta'"),
    "delta wrong shape": Tamper("blobs", "blob", ormsgpack.packb([1]), "type = 'delta'"),
    "delta not a list": Tamper("blobs", "blob", ormsgpack.packb({"a": 1}), "type = 'delta'"),
    "delta base missing": Tamper("blobs", "blob", ormsgpack.packb(["nope", "nope", 1, b"\xa1x"]),
                                 "type = 'delta'"),
    "delta items wrong type": Tamper("blobs", "blob", ormsgpack.packb([1, 1, "x", 5]),
                                     "type = 'delta'"),
    "delta huge count": Tamper("blobs", "blob", ormsgpack.packb([None, None, 2**40, b""]),
                               "type = 'delta'"),
    "delta as full list": Tamper("blobs", "type", "delta", "type = 'msgpack' AND channel = 'n'"),
    "writes garbage": Tamper("writes", "writes", b"\xc1", only="sqlite"),
    "writes not a list": Tamper("writes", "writes", ormsgpack.packb(3), only="sqlite"),
    "writes wrong arity": Tamper("writes", "writes", ormsgpack.packb([[0, "x"]]),
                                 only="sqlite"),
    "writes entry wrong types": Tamper("writes", "writes", ormsgpack.packb([[0, 1, 2, 3]]),
                                       only="sqlite"),
    "writes interrupt not an Interrupt": Tamper(
        "writes", "writes", ormsgpack.packb([[0, "__interrupt__", "msgpack", b"\x92\x01\x02"]]),
        only="sqlite"),
    "writes wrong ext": Tamper(
        "writes", "writes", ormsgpack.packb([[0, "answer", "msgpack", _msgpack_ext(99, b"")]]),
        only="sqlite"),
    "write blob garbage": Tamper("writes", "blob", b"\xc1", only="postgres"),
    "write blob wrong ext": Tamper("writes", "blob", _msgpack_ext(99, b""), only="postgres"),
    "write unknown tag": Tamper("writes", "type", "nonsense", only="postgres"),
    "write interrupt not an Interrupt": Tamper("writes", "blob", ormsgpack.packb([1, 2]),
                                              "channel = '__interrupt__'", only="postgres"),
    "pending value garbage": Tamper("pending_interrupts", "value", b"\xc1"),
    "pending value unknown tag": Tamper("pending_interrupts", "value_type", "nonsense"),
    "pending schema not json": Tamper("pending_interrupts", "response_schema", "{oops"),
}


PENDING_ROWS = [name for name, case in TAMPERS.items() if case.table == "pending_interrupts"]
CHECKPOINT_ROWS = [name for name in TAMPERS if name not in PENDING_ROWS]


def _tamper(backend: Backend, name: str) -> None:
    case = TAMPERS[name]
    where = f"thread_id = {backend.mark}" + (f" AND {case.where}" if case.where else "")
    extra = f", {case.extra}" if case.extra else ""
    backend.execute(f"UPDATE {backend.tables[case.table]} SET {case.column} = {backend.mark}"
                    f"{extra} WHERE {where}", (case.value, VICTIM))


def _within(seconds: float, read: Callable[[], Any]) -> BaseException | None:
    """Run `read` in a thread; its exception (None if it returned); fail if it hangs."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            read()
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    assert not worker.is_alive(), "the read did not finish: it hangs on the tampered rows"
    return outcome[0]


def _reads(graph: CompiledStateGraph, saver: BaseCheckpointSaver, thread_id: str
           ) -> dict[str, Callable[[], Any]]:
    config = _config(thread_id)
    return {
        "get_state": lambda: graph.get_state(config),
        "get_state_history": lambda: list(graph.get_state_history(config)),
        "invoke(None)": lambda: graph.invoke(None, config),
        "list_pending": lambda: saver.list_pending(thread_id=thread_id),  # type: ignore[attr-defined]
    }


@pytest.mark.parametrize("name", CHECKPOINT_ROWS)
def test_tampered_rows_are_refused_with_a_typed_error(backend: Backend, name: str,
                                                      request: pytest.FixtureRequest) -> None:
    only = TAMPERS[name].only
    if only is not None and only != request.node.callspec.params["backend"]:
        pytest.skip(f"only {only}'s schema has this column or holds this value")
    _tamper(backend, name)
    refused = []
    with backend.open() as saver:
        graph = _graph(saver)
        for read_name, read in _reads(graph, saver, VICTIM).items():
            error = _within(20, read)
            if error is None:
                continue
            assert isinstance(error, SerializationError), (
                f"{read_name} raised {type(error).__name__}: {error}")
            assert repr(VICTIM) in str(error), f"{read_name}: {error}"
            refused.append(read_name)
        assert refused, "no read noticed the tampered rows"
        state = graph.get_state(_config(BYSTANDER))
        assert state.next == ("ask",) and len(state.values["log"]) == 6
        assert [p.thread_id for p in saver.list_pending(thread_id=BYSTANDER)  # type: ignore[attr-defined]
                ] == [BYSTANDER]
        assert graph.invoke(None, _config(BYSTANDER))["__interrupt__"]


@pytest.mark.parametrize("name", PENDING_ROWS)
def test_tampered_pending_rows_name_the_thread(backend: Backend, name: str) -> None:
    _tamper(backend, name)
    with backend.open() as saver:
        error = _within(20, lambda: saver.list_pending(thread_id=VICTIM))  # type: ignore[attr-defined]
    assert isinstance(error, SerializationError) and repr(VICTIM) in str(error), error
