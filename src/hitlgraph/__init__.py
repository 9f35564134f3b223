"""hitlgraph: durable, human-in-the-loop graph workflows with LangGraph's API.

The names used most are here; everything also lives where LangGraph keeps it
(`hitlgraph.graph`, `hitlgraph.types`, `hitlgraph.checkpoint.memory`, ...).

They are imported on first use (PEP 562): every `import hitlgraph.x` runs this file first, and
a command that only opens a saver (`hitlgraph threads`) or prints its help should not pay for
loading the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hitlgraph._lazy import lazy_names

if TYPE_CHECKING:
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

_WHERE = {
    "END": "hitlgraph.constants",
    "START": "hitlgraph.constants",
    "Command": "hitlgraph.types",
    "CompiledStateGraph": "hitlgraph.pregel.compiled",
    "EmptyInputError": "hitlgraph.errors",
    "GraphInterrupt": "hitlgraph.errors",
    "GraphRecursionError": "hitlgraph.errors",
    "InMemorySaver": "hitlgraph.checkpoint.memory",
    "Interrupt": "hitlgraph.types",
    "InvalidUpdateError": "hitlgraph.errors",
    "MemorySaver": "hitlgraph.checkpoint.memory",
    "RetryPolicy": "hitlgraph.types",
    "Send": "hitlgraph.types",
    "StateGraph": "hitlgraph.graph.state",
    "StateSnapshot": "hitlgraph.types",
    "interrupt": "hitlgraph.types",
}
"""The exported names, and the module of each."""

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

__getattr__, __dir__ = lazy_names("hitlgraph", _WHERE, globals())
