"""Drawing a graph: its nodes and edges as data, and as Mermaid flowchart text.

`CompiledStateGraph.get_graph()` returns a `DrawableGraph` built from the graph's structure as it
was compiled:
plain edges are solid, edges chosen at run time (conditional edges, a node's Command(goto=...)
destinations) are dotted and carry their path_map key as a label when it differs from the target.
Nodes with breakpoints say so in their label.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from hitlgraph.constants import END, START
from hitlgraph.graph._structure import GraphStructure

__all__ = ["BREAKPOINT_KEY", "DrawableGraph", "Edge", "Node", "build_drawable"]

BREAKPOINT_KEY: Final = "__interrupt"
"""The metadata key of a drawn node with breakpoints (LangGraph's): "before", "after" or
"before,after"."""


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the drawing. `id` is the node's name; `metadata` holds the node's metadata and,
    for breakpoints, "__interrupt": "before", "after" or "before,after"."""

    id: str
    name: str
    data: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Edge:
    """An edge of the drawing; `conditional` when chosen at run time, `data` its label."""

    source: str
    target: str
    data: str | None = None
    conditional: bool = False


class DrawableGraph:
    """The structure of a graph: `nodes` by id (START and, when reached, END included) and
    `edges`, for drawing or inspecting."""

    def __init__(self, nodes: dict[str, Node], edges: list[Edge]) -> None:
        self.nodes = nodes
        self.edges = edges

    def __repr__(self) -> str:
        return f"DrawableGraph(nodes={list(self.nodes)}, edges={len(self.edges)})"

    def to_json(self) -> dict[str, Any]:
        """The nodes and edges as JSON-ready data."""
        return {
            "nodes": [{"id": n.id, "name": n.name, "metadata": dict(n.metadata)}
                      for n in self.nodes.values()],
            "edges": [{"source": e.source, "target": e.target, "data": e.data,
                       "conditional": e.conditional} for e in self.edges],
        }

    def draw_mermaid(self, *, with_styles: bool = True, curve_style: str = "linear") -> str:
        """The graph as Mermaid flowchart text (paste it into any Mermaid renderer).

        Args:
            with_styles: add a front matter with the curve style, and class definitions that
                tell START and END apart from the nodes.
            curve_style: Mermaid's flowchart curve ("linear", "basis", ...).
        """
        ids = _mermaid_ids(self.nodes)
        lines: list[str] = []
        if with_styles:
            lines += ["---", "config:", "  flowchart:", f"    curve: {curve_style}", "---"]
        lines.append("graph TD;")
        for node in self.nodes.values():
            label = _escape(node.name)
            where = node.metadata.get(BREAKPOINT_KEY)
            if where:
                label += f"<br/><small><em>interrupt {_escape(str(where))}</em></small>"
            if node.id == START:
                lines.append(f'\t{ids[node.id]}(["{label}"])' + (":::first" if with_styles else ""))
            elif node.id == END:
                lines.append(f'\t{ids[node.id]}(["{label}"])' + (":::last" if with_styles else ""))
            else:
                lines.append(f'\t{ids[node.id]}("{label}")')
        for edge in self.edges:
            arrow = "-.->" if edge.conditional else "-->"
            text = f"|{_escape(edge.data).replace('|', '#124;')}|" if edge.data else ""
            lines.append(f"\t{ids[edge.source]} {arrow}{text} {ids[edge.target]};")
        if with_styles:
            lines += [
                "\tclassDef default fill:#f2f0ff,line-height:1.2",
                "\tclassDef first fill-opacity:0",
                "\tclassDef last fill:#bfb6fc",
            ]
        return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")


def _mermaid_ids(nodes: Iterable[str]) -> dict[str, str]:
    """A Mermaid-safe, unique id for each node name."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in nodes:
        base = re.sub(r"[^0-9A-Za-z_]", "_", name) or "node"
        if base in {"end", "graph", "subgraph", "style", "class", "click"}:
            base = f"{base}_"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        out[name] = candidate
    return out


def build_drawable(builder: GraphStructure, interrupt_before: Iterable[str] = (),
                   interrupt_after: Iterable[str] = ()) -> DrawableGraph:
    """The drawing of a compiled graph's structure, with its breakpoints."""
    names = list(builder.nodes)
    before, after = set(interrupt_before), set(interrupt_after)
    found: dict[tuple[str, str, str | None], bool] = {}

    def add(source: str, target: str, label: str | None, conditional: bool) -> None:
        key = (source, target, label)
        found[key] = found.get(key, True) and conditional

    for src, dst in builder.edges:
        add(src, dst, None, False)
    for srcs, dst in builder.waiting_edges:
        for src in srcs:
            add(src, dst, None, False)
    anywhere = [*names, END]
    for src, branches in builder.branches.items():
        for branch in branches.values():
            mapping: Mapping[Hashable, str] | None = branch.path_map
            if mapping is None:
                for dst in anywhere:
                    if dst != src:
                        add(src, dst, None, True)
                continue
            for key, dst in mapping.items():
                add(src, dst, None if str(key) == dst else str(key), True)
    for name, node in builder.nodes.items():
        for dst in node.destinations or ():
            for target in (anywhere if dst == "*" else [dst]):
                add(name, target, None, True)

    reached_end = any(dst == END for (_, dst, _) in found)
    nodes: dict[str, Node] = {START: Node(START, START)}
    for name in names:
        meta = dict(builder.nodes[name].metadata)
        where = [w for w, chosen in (("before", before), ("after", after))
                 if name in chosen or "*" in chosen]
        if where:
            meta[BREAKPOINT_KEY] = ",".join(where)
        nodes[name] = Node(name, name, builder.nodes[name].action, meta)
    if reached_end:
        nodes[END] = Node(END, END)
    order = {name: i for i, name in enumerate(nodes)}
    edges = [
        Edge(src, dst, label, conditional)
        for (src, dst, label), conditional in sorted(
            found.items(),
            key=lambda item: (order.get(item[0][0], len(order)),
                              order.get(item[0][1], len(order)), item[0][2] or ""),
        )
        if src in nodes and dst in nodes
    ]
    return DrawableGraph(nodes, edges)
