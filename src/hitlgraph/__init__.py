"""hitlgraph: durable, human-in-the-loop graph workflows with LangGraph's API.

The names used most are here; everything also lives where LangGraph keeps it
(`hitlgraph.graph`, `hitlgraph.types`, `hitlgraph.checkpoint.memory`, ...).
"""

from hitlgraph.checkpoint.memory import InMemorySaver, MemorySaver
from hitlgraph.constants import END, START
from hitlgraph.errors import (
    EmptyInputError,
    GraphInterrupt,
    GraphRecursionError,
    InvalidUpdateError,
)
from hitlgraph.graph.state import StateGraph
from hitlgraph.pregel.compiled import CompiledStateGraph
from hitlgraph.types import (
    Command,
    Interrupt,
    RetryPolicy,
    Send,
    StateSnapshot,
    interrupt,
)

__version__ = "0.1.0"

__all__ = [
    "END",
    "START",
    "Command",
    "CompiledStateGraph",
    "EmptyInputError",
    "GraphInterrupt",
    "GraphRecursionError",
    "InMemorySaver",
    "Interrupt",
    "InvalidUpdateError",
    "MemorySaver",
    "RetryPolicy",
    "Send",
    "StateGraph",
    "StateSnapshot",
    "interrupt",
]
