"""A loaded graph object made to run with a given checkpointer (the command line's file, the
server's database), shared by `hitlgraph run` and `hitlgraph serve`."""

from __future__ import annotations

import copy
from typing import Any

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.func import EntrypointGraph
from hitlgraph.graph.state import StateGraph
from hitlgraph.pregel.compiled import CompiledStateGraph


def with_checkpointer(
    value: Any, saver: BaseCheckpointSaver | None
) -> tuple[Any, CompiledStateGraph]:
    """(what runs, the CompiledStateGraph underneath) for `value` with `saver`.

    A builder is compiled (GraphValidationError if it is invalid); a compiled graph or an
    @entrypoint is copied with its checkpointer replaced, so its breakpoints, name and config
    stay. Raises TypeError for anything else.
    """
    if isinstance(value, StateGraph):
        compiled = value.compile(checkpointer=saver)
        return compiled, compiled
    if isinstance(value, EntrypointGraph):
        entry = copy.copy(value)
        entry.graph = copy.copy(value.graph)
        entry.graph.checkpointer = saver
        entry.checkpointer = saver
        return entry, entry.graph
    if isinstance(value, CompiledStateGraph):
        compiled = copy.copy(value)
        compiled.checkpointer = saver
        return compiled, compiled
    raise TypeError(f"{type(value).__name__} is not a StateGraph, a compiled graph or an "
                    "@entrypoint.")
