"""Runner: one way of driving a compiled graph, synchronously (invoke / stream / get_state
...) or through the asyncio API (ainvoke / astream / aget_state ..., each call under its own
asyncio.run). The `run` fixture (tests/conftest.py) gives one of each; tests import the class
from here for their annotations (not from conftest: several test folders have one)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitlgraph.pregel.compiled import CompiledStateGraph
    from hitlgraph.types import StateSnapshot


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
