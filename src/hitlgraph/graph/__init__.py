"""Graph builders: StateGraph, with the START and END virtual nodes; MessagesState for chats.

StateGraph, MessagesState and add_messages are imported on first use (PEP 562): the engine
reads this package's schema helpers (`hitlgraph.graph._schema`) without loading the builder,
which itself needs the engine, and `import hitlgraph.graph` stays cheap. The serializer finds
hitlgraph's message types without this package (`checkpoint.serde._own`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hitlgraph._lazy import lazy_names
from hitlgraph.constants import END, START

if TYPE_CHECKING:
    from hitlgraph.graph.message import MessagesState, add_messages
    from hitlgraph.graph.state import StateGraph

_WHERE = {
    "MessagesState": "hitlgraph.graph.message",
    "StateGraph": "hitlgraph.graph.state",
    "add_messages": "hitlgraph.graph.message",
}
"""The lazily imported names, and the module of each."""

__all__ = ["END", "START", "MessagesState", "StateGraph", "add_messages"]

__getattr__, __dir__ = lazy_names("hitlgraph.graph", _WHERE, globals())
