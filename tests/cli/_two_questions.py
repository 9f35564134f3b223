"""A graph whose two parallel nodes each ask a question: two interrupts open on one thread,
for the tests of how `hitlgraph threads` lists paused threads."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import interrupt


class Both(TypedDict, total=False):
    left: str
    right: str


def two_questions(saver: BaseCheckpointSaver) -> Any:
    """The graph, compiled with `saver`."""
    builder = StateGraph(Both)
    builder.add_node("left", lambda s: {"left": interrupt("left?")})
    builder.add_node("right", lambda s: {"right": interrupt("right?")})
    for name in ("left", "right"):
        builder.add_edge(START, name)
        builder.add_edge(name, END)
    return builder.compile(checkpointer=saver)
