"""What the cold-start tests share: a graph that asks one question at once, as source text
for a fresh interpreter (each check runs in a subprocess, since this one has imported
everything already)."""

from __future__ import annotations

ONE_QUESTION = """
from typing import TypedDict
from hitlgraph.graph import StateGraph
from hitlgraph.types import interrupt

class S(TypedDict, total=False):
    answer: str

def ask(state: S) -> S:
    return {"answer": interrupt("Your name?")}

builder = StateGraph(S)
builder.add_node("ask", ask)
builder.set_entry_point("ask")
"""
"""The builder of a graph whose only node asks "Your name?"; the caller compiles it."""
