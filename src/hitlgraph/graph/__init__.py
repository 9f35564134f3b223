"""Graph builders: StateGraph, with the START and END virtual nodes; MessagesState for chats.

StateGraph is imported on first use (PEP 562): the engine reads this package's schema helpers
(`hitlgraph.graph._schema`) without loading the builder, which itself needs the engine. The
message helpers load at once (they register hitlgraph's message types for decoding)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hitlgraph._lazy import lazy_names
from hitlgraph.constants import END, START
from hitlgraph.graph.message import MessagesState, add_messages

if TYPE_CHECKING:
    from hitlgraph.graph.state import StateGraph

_WHERE = {"StateGraph": "hitlgraph.graph.state"}
"""The lazily imported names, and the module of each."""

__all__ = ["END", "START", "MessagesState", "StateGraph", "add_messages"]

__getattr__, __dir__ = lazy_names("hitlgraph.graph", _WHERE, globals())
