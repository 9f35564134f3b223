"""Shared fixtures.

`run` drives a compiled graph either synchronously (invoke / stream / get_state ...) or through
the asyncio API (ainvoke / astream / aget_state ..., each call under its own asyncio.run), so a
test written once checks both drivers: it runs twice, as `[sync]` and `[async]`.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hitlgraph.pregel.compiled import CompiledStateGraph
    from hitlgraph.types import StateSnapshot

_threads = itertools.count()


class Runner:
    """One way of driving a graph: `mode` is "sync" or "async"."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __repr__(self) -> str:
        return f"Runner({self.mode!r})"

    def invoke(self, graph: CompiledStateGraph, input: Any, config: Any = None,
               **kwargs: Any) -> Any:
        """graph.invoke(...) or asyncio.run(graph.ainvoke(...))."""
        if self.mode == "sync":
            return graph.invoke(input, config, **kwargs)
        return asyncio.run(graph.ainvoke(input, config, **kwargs))

    def stream(self, graph: CompiledStateGraph, input: Any, config: Any = None,
               **kwargs: Any) -> list[Any]:
        """Every chunk of graph.stream(...) or graph.astream(...), as a list."""
        if self.mode == "sync":
            return list(graph.stream(input, config, **kwargs))

        async def collect() -> list[Any]:
            return [chunk async for chunk in graph.astream(input, config, **kwargs)]

        return asyncio.run(collect())

    def get_state(self, graph: CompiledStateGraph, config: Any) -> StateSnapshot:
        if self.mode == "sync":
            return graph.get_state(config)
        return asyncio.run(graph.aget_state(config))

    def history(self, graph: CompiledStateGraph, config: Any,
                **kwargs: Any) -> list[StateSnapshot]:
        """get_state_history(...) as a list, newest first."""
        if self.mode == "sync":
            return list(graph.get_state_history(config, **kwargs))

        async def collect() -> list[StateSnapshot]:
            return [s async for s in graph.aget_state_history(config, **kwargs)]

        return asyncio.run(collect())

    def update_state(self, graph: CompiledStateGraph, config: Any, values: Any,
                     as_node: str | None = None) -> dict[str, Any]:
        if self.mode == "sync":
            return graph.update_state(config, values, as_node=as_node)
        return asyncio.run(graph.aupdate_state(config, values, as_node=as_node))


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Runs each test body once with the sync API and once with the async API."""
    return Runner(request.param)


@pytest.fixture
def config() -> dict[str, Any]:
    """A config naming a thread no other test uses."""
    return {"configurable": {"thread_id": f"thread-{next(_threads)}"}}
