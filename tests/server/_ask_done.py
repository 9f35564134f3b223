"""The two-node graph several server tests run: `ask` (which pauses) then `done`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hitlgraph.graph import START, StateGraph


def ask_then_done(state: type[Any], ask: Callable[[Any], Any], done: Callable[[Any], Any]
                  ) -> StateGraph:
    """START -> "ask" -> "done", on `state`."""
    builder = StateGraph(state)
    builder.add_node("ask", ask)
    builder.add_node("done", done)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "done")
    return builder
