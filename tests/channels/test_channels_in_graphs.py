"""Channel objects in a graph's state, under both drivers: what each step leaves, what a
checkpoint stores (memory and SQLite, read back by a new saver), what update_state does, and
that an accumulating Topic is stored as its new items rather than whole each step."""

from __future__ import annotations

import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from _run_modes import Runner
from hitlgraph.channels import (
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    Topic,
    UntrackedValue,
)
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.errors import InvalidUpdateError
from hitlgraph.graph import START, StateGraph
from hitlgraph.graph._schema import channel_specs
from hitlgraph.types import Command, Send, interrupt


class State(TypedDict, total=False):
    x: int
    note: Annotated[str, EphemeralValue(str)]
    events: Annotated[list[str], Topic(str, accumulate=True)]
    token: Annotated[str, UntrackedValue(str)]


class Log(TypedDict, total=False):
    n: int
    lines: Annotated[list[str], Topic(str, accumulate=True)]


SHARED = Topic(int)


class Two(TypedDict, total=False):
    p: Annotated[list[int], SHARED]
    q: Annotated[list[int], SHARED]


class Plain(TypedDict):
    a: Annotated[int, LastValue(int)]
    b: Annotated[int, BinaryOperatorAggregate(int, operator.add)]
    c: Annotated[list[int], BinaryOperatorAggregate(list[int], operator.add)]
    d: Annotated[str, EphemeralValue]


def _write(state: State) -> dict[str, Any]:
    return {"note": "seen once", "events": ["wrote"], "token": "secret-token"}


def _read(state: State) -> dict[str, Any]:
    return {"x": len(state.get("note", "")), "events": "read"}


def _builder() -> StateGraph:
    builder = StateGraph(State)
    builder.add_sequence([_write, _read])
    builder.add_edge(START, "_write")
    return builder


def test_each_key_after_a_run(run: Runner, config: dict[str, Any]) -> None:
    graph = _builder().compile(checkpointer=InMemorySaver())
    out = run.invoke(graph, {"x": 0}, config)
    assert out == {"x": 9, "events": ["wrote", "read"], "token": "secret-token"}
    assert run.get_state(graph, config).values == {"x": 9, "events": ["wrote", "read"]}
    steps = {s.metadata["step"]: s.values for s in run.history(graph, config)}
    assert steps[1] == {"x": 0, "note": "seen once", "events": ["wrote"]}


def test_a_new_sqlite_saver_reads_the_same_state(run: Runner, tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite")
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(path) as saver:
        run.invoke(_builder().compile(checkpointer=saver, interrupt_before=["_read"]),
                   {"x": 0}, config)
    with SqliteSaver.from_conn_string(path) as saver:
        graph = _builder().compile(checkpointer=saver)
        stored = saver.get_tuple(config)
        assert stored is not None and "token" not in stored.checkpoint["channel_values"]
        assert run.get_state(graph, config).values == {
            "x": 0, "note": "seen once", "events": ["wrote"]}
        assert run.invoke(graph, None, config) == {"x": 9, "events": ["wrote", "read"]}
    assert b"secret-token" not in Path(path).read_bytes()


def test_update_state_clears_an_ephemeral_key_it_does_not_write(
        run: Runner, config: dict[str, Any]) -> None:
    graph = _builder().compile(checkpointer=InMemorySaver(), interrupt_before=["_read"])
    run.invoke(graph, {"x": 0}, config)
    run.update_state(graph, config, {"events": ["edited"]}, as_node="_write")
    assert run.get_state(graph, config).values == {"x": 0, "events": ["wrote", "edited"]}
    run.update_state(graph, config, {"note": "again"}, as_node="_write")
    assert run.invoke(graph, None, config)["x"] == 5


def test_two_writes_to_a_guarded_key_in_one_step_name_the_key(run: Runner) -> None:
    builder = StateGraph(State)
    builder.add_node("a", lambda s: {"note": "a"})
    builder.add_node("b", lambda s: {"note": "b"})
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    with pytest.raises(InvalidUpdateError, match="'note'"):
        run.invoke(builder.compile(), {})


def test_an_accumulating_topic_is_stored_as_its_new_items(tmp_path: Path) -> None:
    path = str(tmp_path / "grow.sqlite")

    builder = StateGraph(Log)
    builder.add_node("grow", lambda s: {"lines": ["x" * 200], "n": s.get("n", 0) + 1})
    builder.add_edge(START, "grow")
    builder.add_conditional_edges("grow", lambda s: "grow" if s["n"] < 20 else "__end__")
    config = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(path) as saver:
        out = builder.compile(checkpointer=saver).invoke({}, config)
    assert len(out["lines"]) == 20
    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT sum(length(blob)) FROM blobs WHERE channel = 'lines'"
                            ).fetchone()[0]
    # whole lists each step would take 200 * (1 + 2 + ... + 20) = 42,000 bytes
    assert stored < 15_000
    with SqliteSaver.from_conn_string(path) as saver:
        assert builder.compile(checkpointer=saver).get_state(config).values["lines"] == [
            "x" * 200] * 20


def test_lastvalue_and_binop_objects_are_plain_keys() -> None:
    specs = channel_specs(Plain)
    assert specs["a"].reducer is None and specs["a"].channel is None
    assert specs["b"].reducer is operator.add and specs["b"].initial is not None
    assert specs["c"].initial is not None and specs["c"].initial() == []
    channel = specs["d"].channel
    assert isinstance(channel, EphemeralValue) and channel.key == "d" and channel.typ is str


def test_one_channel_instance_can_annotate_several_keys(run: Runner) -> None:
    builder = StateGraph(Two)
    builder.add_node("w", lambda s: {"p": 1, "q": [2, 3]})
    builder.add_edge(START, "w")
    assert run.invoke(builder.compile(), {}) == {"p": [1], "q": [2, 3]}
    assert SHARED.key == "" and SHARED.values == []


def test_pending_writes_keep_no_untracked_value(run: Runner, config: dict[str, Any]) -> None:
    def sender(state: State) -> Command[Any]:
        return Command(update={"token": "secret-1", "x": 1},
                       goto=[Send("show", {"token": "secret-2", "x": 2})])

    seen: list[Any] = []
    builder = StateGraph(State)
    builder.add_node("sender", sender)
    builder.add_node("asker", lambda s: {"note": interrupt("go on?")})
    builder.add_node("show", lambda s: seen.append(sorted(s.items())))
    builder.add_edge(START, "sender")
    builder.add_edge(START, "asker")
    saver = InMemorySaver()
    graph = builder.compile(checkpointer=saver)
    run.invoke(graph, {}, config)
    stored = saver.get_tuple(config)
    assert stored is not None
    written = [(chan, value) for _, chan, value in stored.pending_writes]
    assert ("x", 1) in written
    assert "secret" not in repr(written)
    run.invoke(graph, Command(resume="yes"), config)
    assert seen == [[("x", 2)]]
