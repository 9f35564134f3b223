"""Graphs the reliability tests run, importable by the child processes they kill."""

from __future__ import annotations

from typing import TypedDict

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import interrupt

__all__ = ["review_builder"]


class Review(TypedDict, total=False):
    topic: str
    approved: bool


def _ask(state: Review) -> Review:
    return {"approved": bool(interrupt({"question": f"Publish {state['topic']}?"}))}


review_builder = StateGraph(Review).add_node("ask", _ask)
review_builder.add_edge(START, "ask").add_edge("ask", END)
