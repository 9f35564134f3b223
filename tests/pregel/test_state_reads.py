"""The state API's logic written once (pregel/_state.py): a snapshot is built by a generator
that asks for each checkpoint tuple it needs, so get_state and aget_state differ only in how
they fetch; and a graph's RunShape, fixed at compile, survives with_config."""

from __future__ import annotations

import asyncio
from typing import Any

from typing_extensions import TypedDict

from hitlgraph.checkpoint.base import CheckpointTuple
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.func import entrypoint
from hitlgraph.graph import START, StateGraph
from hitlgraph.pregel._shape import PLAIN_SHAPE, RunShape
from hitlgraph.pregel._state import state_reads
from hitlgraph.types import StateSnapshot, interrupt


class Log(TypedDict):
    log: list[str]


def _ask(state: Log) -> dict[str, Any]:
    return {"log": [*state["log"], str(interrupt("ok?"))]}


def _parent(saver: Any) -> Any:
    sub = StateGraph(Log).add_node("ask", _ask).add_edge(START, "ask").compile()
    return (StateGraph(Log).add_node("sub", sub).add_edge(START, "sub")
            .compile(checkpointer=saver))


def test_state_reads_by_hand_asks_for_the_thread_then_for_each_subgraph() -> None:
    saver = InMemorySaver()
    graph = _parent(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": []}, config)

    reads = state_reads(graph, config, subgraphs=True)
    asked = [next(reads)]
    try:
        while True:
            asked.append(reads.send(saver.get_tuple(asked[-1])))
    except StopIteration as stop:
        snapshot = stop.value

    assert len(asked) == 2
    assert asked[0]["configurable"].get("checkpoint_ns", "") == ""
    assert asked[1]["configurable"]["checkpoint_ns"].startswith("sub:")
    assert isinstance(snapshot.tasks[0].state, StateSnapshot)
    assert snapshot.tasks[0].state.next == ("ask",)


def test_state_reads_of_a_thread_without_checkpoints_is_the_empty_snapshot() -> None:
    graph = _parent(InMemorySaver())
    config = {"configurable": {"thread_id": "none-yet"}}
    reads = state_reads(graph, config, subgraphs=False)
    next(reads)
    try:
        reads.send(None)
    except StopIteration as stop:
        assert stop.value.values == {} and stop.value.config is config


class _CountedReads(InMemorySaver):
    """Counts the async reads made while the test looks at the state."""

    async_reads = 0

    async def aget_tuple(self, config: dict[str, Any]) -> CheckpointTuple | None:
        self.async_reads += 1
        return await super().aget_tuple(config)


def test_aget_state_with_subgraphs_reads_every_tuple_with_aget_tuple() -> None:
    saver = _CountedReads()
    graph = _parent(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": []}, config)

    state = asyncio.run(graph.aget_state(config, subgraphs=True))

    assert saver.async_reads == 2  # the thread's tuple, then the subgraph's
    assert state == graph.get_state(config, subgraphs=True)


def test_the_run_shape_is_fixed_at_compile_and_kept_by_with_config() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def echo(value: str) -> str:
        return value

    shaped = echo.graph.with_config({"configurable": {"thread_id": "s"}})
    assert shaped.shape == RunShape(stream_keys=("value",), direct_input=True)
    assert shaped.spec.direct_input
    assert list(shaped.stream({"input": "hi"}, stream_mode="values")) == [{"value": "hi"}]
    assert _parent(None).shape is PLAIN_SHAPE
