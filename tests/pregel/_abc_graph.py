"""A graph shared by the pregel tests: a -> b -> c over `State`, counting calls."""

from __future__ import annotations

import operator
from collections import Counter
from typing import Annotated, Any

from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, StateGraph


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


def abc(calls: Counter[str] | None = None, **compile_kwargs: Any) -> Any:
    """a -> b -> c, counting calls."""
    counts = calls if calls is not None else Counter()

    def logger(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            counts[name] += 1
            return {"log": [name]}

        return node

    builder = StateGraph(State)
    for name in ("a", "b", "c"):
        builder.add_node(name, logger(name))
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c")
    return builder.compile(checkpointer=InMemorySaver(), **compile_kwargs)


INPUT = {"x": 0, "log": []}
