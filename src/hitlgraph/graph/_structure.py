"""What a StateGraph builder holds, frozen: nodes, edges, conditional edges and schemas.

`StateGraph.compile()` takes one `GraphStructure` and gives it to the compiled graph, whose
validation, drawing and engine spec read it instead of the builder. So a builder changed after
compile() leaves the compiled graph as it was (as in LangGraph), and the compiled graph needs no
import of the builder's module.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hitlgraph.types import CachePolicy, RetryPolicy

__all__ = ["BranchDef", "GraphStructure", "NodeDef", "freeze_branches"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeDef:
    """A node as add_node() received it."""

    action: Callable[..., Any]
    input_schema: Any
    """The schema of the node's input; None: the state schema."""
    retry: tuple[RetryPolicy, ...]
    cache_policy: CachePolicy[Any] | None
    destinations: tuple[str, ...] | None
    """Where the node may route with Command(goto=...); ("*",) for anywhere, None unknown."""
    metadata: dict[str, Any]
    """The builder's own copy of the caller's metadata; nobody changes it afterwards."""
    defer: bool


@dataclass(frozen=True, slots=True)
class BranchDef:
    """A conditional edge: `path(state)` chooses, `path_map` (if any) translates its answer."""

    path: Callable[..., Any]
    path_map: Mapping[Hashable, str] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphStructure:
    """A builder's graph at one moment; its maps are read-only views of copies."""

    nodes: Mapping[str, NodeDef]
    edges: frozenset[tuple[str, str]]
    waiting_edges: frozenset[tuple[tuple[str, ...], str]]
    """Edges from several nodes that wait for all of them: (sources, target)."""
    branches: Mapping[str, Mapping[str, BranchDef]]
    """Conditional edges by source node, then by name."""
    state_schema: Any
    input_schema: Any
    output_schema: Any


def freeze_branches(branches: Mapping[str, Mapping[str, BranchDef]]
                    ) -> Mapping[str, Mapping[str, BranchDef]]:
    """A read-only copy of a builder's conditional edges."""
    return MappingProxyType({src: MappingProxyType(dict(by_name))
                             for src, by_name in branches.items()})
