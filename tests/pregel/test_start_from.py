"""A run handed the thread's latest checkpoint (StartFrom, as the server's worker reads it
before the run) starts from it without reading it again, and its result, state and history
are those of a run that read it; its nodes and subgraphs never see it."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.pregel._params import START_FROM, StartFrom
from hitlgraph.types import Command, interrupt


class S(TypedDict, total=False):
    text: str
    seen: list[str]


class CountingSaver(InMemorySaver):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def aget_tuple(self, config: dict[str, Any]) -> Any:
        self.reads += 1
        return await super().aget_tuple(config)


def _graph(saver: Any, seen_keys: list[list[str]]) -> Any:
    inner = StateGraph(S)

    def look(state: S, config: dict[str, Any]) -> dict[str, Any]:
        seen_keys.append(sorted(config["configurable"]))
        return {}

    inner.add_node("look", look)
    inner.add_edge(START, "look")
    inner.add_edge("look", END)

    def ask(state: S, config: dict[str, Any]) -> dict[str, Any]:
        seen_keys.append(sorted(config["configurable"]))
        return {"text": state["text"] + ":" + interrupt("ok?")}

    g = StateGraph(S)
    g.add_node("ask", ask)
    g.add_node("sub", inner.compile())
    g.add_edge(START, "ask")
    g.add_edge("ask", "sub")
    g.add_edge("sub", END)
    return g.compile(checkpointer=saver)


def _plain(chunk: Any) -> Any:
    """A chunk without interrupt ids (made from checkpoint ids, new in each thread)."""
    if isinstance(chunk, dict) and "__interrupt__" in chunk:
        return {**chunk, "__interrupt__": [i.value for i in chunk["__interrupt__"]]}
    return chunk


async def _runs(hand: bool) -> tuple[list[Any], list[Any], list[list[str]], int]:
    saver = CountingSaver()
    keys: list[list[str]] = []
    graph = _graph(saver, keys)
    config = {"configurable": {"thread_id": "t"}}
    results = []
    for value in ({"text": "a"}, Command(resume="yes")):
        run_config = config
        if hand:
            run_config = StartFrom(await saver.aget_tuple(config)).on(config)
        results.append([_plain(c) async for c in graph.astream(value, run_config)])
    history = [(s.values, s.next, s.metadata) async for s in graph.aget_state_history(config)]
    return results, history, keys, saver.reads


def test_handed_run_is_the_same_and_reads_less() -> None:
    read, read_history, read_keys, read_count = asyncio.run(_runs(hand=False))
    handed, handed_history, handed_keys, handed_count = asyncio.run(_runs(hand=True))
    assert handed == read
    assert handed_history == read_history
    assert handed_keys == read_keys and all(START_FROM not in k for k in handed_keys)
    # each handed run: the caller's read instead of the engine's (the subgraph reads its own)
    assert handed_count == read_count


def test_a_stale_start_is_refused_by_compare_and_set() -> None:
    from hitlgraph.errors import CheckpointConflictError

    async def go() -> None:
        saver = InMemorySaver()
        graph = _graph(saver, [])
        config = {"configurable": {"thread_id": "t"}}
        stale = await saver.aget_tuple(config)
        await graph.ainvoke({"text": "a"}, config)
        with pytest.raises(CheckpointConflictError):
            await graph.ainvoke({"text": "b"}, StartFrom(stale).on(config))
    asyncio.run(go())


def test_start_from_must_be_typed() -> None:
    graph = _graph(InMemorySaver(), [])
    with pytest.raises(TypeError, match="StartFrom"):
        graph.invoke({"text": "a"}, {"configurable": {"thread_id": "t", START_FROM: "x"}})
