"""The index of open interrupts as graphs use it: what a pause lists, and what closes it
(resume, update_state, delete_thread, a fork, a failed answer reopening), on every saver."""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import PendingIndex, PendingInterrupt
from hitlgraph.types import Command, Send, interrupt


class State(TypedDict, total=False):
    answers: Annotated[list[str], operator.add]
    fail: bool


def _asker(name: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        answer = interrupt({"asked_by": name})
        if answer == "boom":
            raise RuntimeError("bad answer")
        return {"answers": [f"{name}:{answer}"]}
    return node


def _graph(saver: BaseCheckpointSaver, *names: str) -> Any:
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, _asker(name))
        builder.add_edge(START, name)
        builder.add_edge(name, END)
    return builder.compile(checkpointer=saver)


def _config(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, "metadata": {"graph_id": "reviews"}}


def _pending(saver: BaseCheckpointSaver, **query: Any) -> list[PendingInterrupt]:
    assert isinstance(saver, PendingIndex)
    return list(saver.list_pending(**query))


def test_a_pause_is_listed_and_its_resume_closes_it(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "review")
    app.invoke({}, _config("t1"))
    [item] = _pending(saver)
    state = app.get_state(_config("t1"))
    assert (item.thread_id, item.node, item.value, item.graph_id, item.checkpoint_id) == (
        "t1", "review", {"asked_by": "review"}, "reviews",
        state.config["configurable"]["checkpoint_id"])
    assert [i.id for i in state.interrupts] == [item.interrupt_id]
    app.invoke(Command(resume={item.interrupt_id: "ok"}), _config("t1"))
    assert _pending(saver) == []


def test_update_state_and_delete_thread_close_pauses(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "review")
    for thread in ("updated", "deleted", "kept"):
        app.invoke({}, _config(thread))
    app.update_state(_config("updated"), {"answers": ["by hand"]}, as_node="review")
    saver.delete_thread("deleted")
    assert [p.thread_id for p in _pending(saver)] == ["kept"]


def test_parallel_pauses_answered_one_at_a_time(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "left", "right")
    app.invoke({}, _config("t"))
    by_node = {p.node: p for p in _pending(saver)}
    assert set(by_node) == {"left", "right"}
    app.invoke(Command(resume={by_node["left"].interrupt_id: "yes"}), _config("t"))
    assert [p.node for p in _pending(saver)] == ["right"]
    app.invoke(Command(resume={by_node["right"].interrupt_id: "no"}), _config("t"))
    assert _pending(saver) == []
    assert sorted(app.get_state(_config("t")).values["answers"]) == ["left:yes", "right:no"]


def test_a_failed_answer_reopens_the_interrupt(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "review")
    app.invoke({}, _config("t"))
    with pytest.raises(RuntimeError, match="bad answer"):
        app.invoke(Command(resume="boom"), _config("t"))
    [item] = _pending(saver)
    app.invoke(Command(resume={item.interrupt_id: "fine"}), _config("t"))
    assert _pending(saver) == []


def test_a_fork_from_before_the_pause_closes_it(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "review")
    app.invoke({}, _config("t"))
    first = list(app.get_state_history(_config("t")))[-1]
    app.update_state(first.config, {"answers": ["forked"]})
    assert _pending(saver) == []


def test_a_sends_task_has_no_node_name(saver: BaseCheckpointSaver) -> None:
    builder = StateGraph(State)
    builder.add_node("each", _asker("each"))
    builder.add_conditional_edges(START, lambda s: [Send("each", {}), Send("each", {})])
    app = builder.compile(checkpointer=saver)
    app.invoke({}, _config("t"))
    found = _pending(saver)
    assert len(found) == 2 and {p.node for p in found} == {None}


def test_async_saver_lists_under_ainvoke(tmp_path: Path) -> None:
    async def main() -> list[PendingInterrupt]:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "a.db")) as saver:
            await _graph(saver, "review").ainvoke({}, _config("t"))
            return [p async for p in saver.alist_pending(graph_id="reviews")]

    [item] = asyncio.run(main())
    assert (item.thread_id, item.node) == ("t", "review")


def test_every_saver_hitlgraph_ships_lists_pending_interrupts() -> None:
    from hitlgraph.checkpoint.memory import InMemorySaver
    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from hitlgraph.checkpoint.sqlite import SqliteSaver

    for kind in (InMemorySaver, SqliteSaver, AsyncSqliteSaver, PostgresSaver,
                 AsyncPostgresSaver):
        assert issubclass(kind, PendingIndex), kind
