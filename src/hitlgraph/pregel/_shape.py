"""RunShape: how a compiled graph takes new input and which keys its "values" chunks show,
fixed when it is compiled. StateGraph.compile() gives every graph the plain shape; the
functional API compiles its one-node graph with its own shape through
`graph.state.compile_graph` rather than editing the compiled graph afterwards."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PLAIN_SHAPE", "RunShape"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunShape:
    """What a compiled graph's runs look like beyond its nodes and edges."""

    stream_keys: tuple[str, ...] = ()
    """The keys "values" chunks show (empty: every channel, as LangGraph's StateGraph)."""
    direct_input: bool = False
    """New input is written in the input checkpoint itself, with no START step, as LangGraph
    runs an @entrypoint (the engine reads it as GraphSpec.direct_input)."""


PLAIN_SHAPE = RunShape()
"""A StateGraph's shape."""
