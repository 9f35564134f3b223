"""Under ainvoke with "async" durability, saves that queue up while one is being written go
to the saver together (aput_saves: one transaction on SQLite), in order, with the same
history as saves written one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint._store.calls import SaveCall
from hitlgraph.checkpoint.base import RunnableConfig
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.graph import END, START, StateGraph


class State(TypedDict):
    n: int


def _graph() -> StateGraph:
    builder = StateGraph(State)
    for name in ("a", "b", "c"):
        builder.add_node(name, lambda s: {"n": s["n"] + 1})
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c").add_edge("c", END)
    return builder


class Counting(AsyncSqliteSaver):
    """Records how many saves each aput_saves call carried."""

    sizes: list[int]

    async def aput_saves(self, saves: Sequence[SaveCall]) -> list[RunnableConfig]:
        self.sizes.append(len(saves))
        return await super().aput_saves(saves)


class OneByOne(AsyncSqliteSaver):
    """A saver without aput_saves: each save is its own call."""

    aput_saves = None  # type: ignore[assignment]


class Failing(Counting):
    async def aput_saves(self, saves: Sequence[SaveCall]) -> list[RunnableConfig]:
        raise RuntimeError("the database is gone")


async def _history(saver: Any, thread: str) -> list[tuple[Any, ...]]:
    graph = _graph().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread}}
    assert await graph.ainvoke({"n": 0}, config) == {"n": 3}
    return [(s.metadata["step"], s.metadata["source"], s.values, s.next)
            async for s in graph.aget_state_history(config)]


def test_saves_queued_behind_a_write_go_in_one_call_with_the_same_history(
        tmp_path: Path) -> None:
    async def main() -> tuple[list[int], Any, Any]:
        async with Counting.from_conn_string(str(tmp_path / "a.sqlite")) as saver:
            saver.sizes = []
            batched = await _history(saver, "t")
        async with OneByOne.from_conn_string(str(tmp_path / "b.sqlite")) as apart:
            one_by_one = await _history(apart, "t")
        return saver.sizes, batched, one_by_one

    sizes, batched, one_by_one = asyncio.run(main())
    assert sizes and max(sizes) >= 2  # (the input's checkpoint and START's, at least)
    assert batched == one_by_one
    assert [step for step, *_ in batched] == [3, 2, 1, 0, -1]


def test_a_failed_batch_of_saves_fails_the_run_with_its_error(tmp_path: Path) -> None:
    async def main() -> None:
        async with Failing.from_conn_string(str(tmp_path / "f.sqlite")) as saver:
            saver.sizes = []
            graph = _graph().compile(checkpointer=saver)
            with pytest.raises(RuntimeError, match="the database is gone"):
                await graph.ainvoke({"n": 0}, {"configurable": {"thread_id": "t"}})

    asyncio.run(main())
