"""The graph the review groups tests ask on: one node whose interrupt carries the review
policy a test gives (approvers, approvals, group, ...), its answer kept in the state."""

from __future__ import annotations

from typing import Any, TypedDict

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import interrupt


class AskState(TypedDict, total=False):
    answer: Any


def ask_graph(saver: BaseCheckpointSaver, **policy: Any) -> Any:
    """START -> ask -> END, compiled on `saver`; "ask" interrupts with `policy`."""
    builder = StateGraph(AskState)
    builder.add_node("ask", lambda s: {"answer": interrupt("pay it?", **policy)})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)
