"""Checks compile() runs on a graph's structure; every problem is reported at once."""

from __future__ import annotations

from collections.abc import Iterable

from hitlgraph.constants import END, START
from hitlgraph.errors import GraphValidationError
from hitlgraph.graph._structure import GraphStructure


def _known(name: str, nodes: Iterable[str]) -> str:
    return f"'{name}' is not a node; known nodes: {sorted(nodes)}"


def validate(
    graph: GraphStructure,
    interrupt_before: Iterable[str] = (),
    interrupt_after: Iterable[str] = (),
) -> None:
    """Raise GraphValidationError listing every problem of `graph`, or return."""
    nodes = set(graph.nodes)
    problems: list[str] = []
    for src, dst in sorted(graph.edges):
        if src != START and src not in nodes:
            problems.append(f"Edge '{src}' -> '{dst}' starts at an unknown node: "
                            + _known(src, nodes) + ".")
        if dst != END and dst not in nodes:
            problems.append(f"Edge '{src}' -> '{dst}' ends at an unknown node: "
                            + _known(dst, nodes) + ".")
    for srcs, dst in sorted(graph.waiting_edges):
        for src in srcs:
            if src not in nodes:
                problems.append(f"Edge {list(srcs)} -> '{dst}' waits for an unknown node: "
                                + _known(src, nodes) + ".")
        if dst != END and dst not in nodes:
            problems.append(f"Edge {list(srcs)} -> '{dst}' ends at an unknown node: "
                            + _known(dst, nodes) + ".")
    for src, branches in graph.branches.items():
        if src != START and src not in nodes:
            problems.append(f"Conditional edge from '{src}' starts at an unknown node: "
                            + _known(src, nodes) + ".")
        for branch in branches.values():
            for dst in (branch.path_map or {}).values():
                if dst != END and dst not in nodes:
                    problems.append(f"Conditional edge from '{src}' maps to an unknown node: "
                                    + _known(dst, nodes) + ".")
    for name, node in graph.nodes.items():
        for dst in node.destinations or ():
            if dst not in (END, "*") and dst not in nodes:
                problems.append(f"Node '{name}' names an unknown destination: "
                                + _known(dst, nodes) + ".")
    has_entry = any(src == START for src, _ in graph.edges) or START in graph.branches
    if not has_entry:
        problems.append(
            "The graph has no entry point: add an edge from START, e.g. "
            "builder.add_edge(START, 'first_node') or builder.set_entry_point('first_node')."
        )
    for label, names in (("interrupt_before", interrupt_before),
                         ("interrupt_after", interrupt_after)):
        for name in names:
            if name != "*" and name not in nodes:
                problems.append(f"{label} names an unknown node: {_known(name, nodes)}.")
    if has_entry and not problems:
        problems.extend(_unreachable(graph))
    if problems:
        raise GraphValidationError(problems)


def _unreachable(graph: GraphStructure) -> list[str]:
    """Nodes no edge, conditional edge or declared Command destination can reach."""
    targets: dict[str, set[str]] = {name: set() for name in (*graph.nodes, START)}
    everything = set(graph.nodes)
    for src, dst in graph.edges:
        targets[src].add(dst)
    for srcs, dst in graph.waiting_edges:
        for src in srcs:
            targets[src].add(dst)
    for src, branches in graph.branches.items():
        for branch in branches.values():
            targets[src] |= set(branch.path_map.values()) if branch.path_map else everything
    for name, node in graph.nodes.items():
        if node.destinations is not None:
            targets[name] |= everything if "*" in node.destinations else set(node.destinations)
    seen = {START}
    todo = [START]
    while todo:
        for nxt in targets.get(todo.pop(), ()):
            if nxt not in seen and nxt != END:
                seen.add(nxt)
                todo.append(nxt)
    return [
        f"Node '{name}' is unreachable: no edge leads to it. Add one (builder.add_edge(...)); if a "
        f"node routes to it with Command(goto='{name}'), annotate that node's return type as "
        f"Command[Literal['{name}']] or pass destinations=('{name}',) to its add_node()."
        for name in graph.nodes
        if name not in seen
    ]
