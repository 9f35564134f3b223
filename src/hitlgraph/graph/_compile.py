"""From a frozen GraphStructure to the engine's GraphSpec: channels that trigger nodes, join
barriers, and each node's callable, input coercion and routing, worked out once at compile()."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import hitlgraph.graph._schema as _schema
from hitlgraph.constants import END, JOIN_PREFIX, START, TRIGGER_PREFIX
from hitlgraph.graph._structure import GraphStructure, NodeDef
from hitlgraph.managed.base import ManagedValueSpec
from hitlgraph.pregel._spec import (
    INJECTED,
    BranchSpec,
    GraphSpec,
    NodeSpec,
    accepts,
    is_async_callable,
    passthrough,
)
from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = ["build_spec"]


def build_spec(structure: GraphStructure, channels: Mapping[str, _schema.ChannelSpec], *,
               direct_input: bool = False) -> GraphSpec:
    """The engine's description of the graph `structure` describes, over `channels`;
    `direct_input` as GraphSpec's."""
    state_keys = tuple(_schema.keys_of(structure.state_schema))
    all_keys = tuple(channels)
    managed = _managed(structure)
    successors, joins, barriers = _wiring(structure)
    nodes: dict[str, NodeSpec] = {
        START: NodeSpec(
            name=START, fn=passthrough, is_async=False, wants_config=False,
            coerce=_schema.coercer(structure.input_schema, all_keys, full=True),
            edges=tuple(successors.get(START, ())), branches=_branches(structure, START),
        )
    }
    for name, node in structure.nodes.items():
        nodes[name] = _node_spec(structure, name, node, (*all_keys, *managed),
                                 tuple(successors.get(name, ())), tuple(joins.get(name, ())))
    return GraphSpec(
        channels=dict(channels),
        state_keys=state_keys,
        input_keys=frozenset(_schema.keys_of(structure.input_schema)),
        output_keys=tuple(_schema.keys_of(structure.output_schema)),
        nodes=nodes,
        barriers=barriers,
        state_coerce=_schema.coercer(structure.state_schema,
                                     _schema.read_keys(structure.state_schema),
                                     full=set(state_keys) == set(all_keys)),
        direct_input=direct_input, managed=managed,
    )


def _managed(structure: GraphStructure) -> dict[str, ManagedValueSpec]:
    """The managed values the state schema and the nodes' input schemas name."""
    managed = _schema.managed_specs(structure.state_schema)
    for node in structure.nodes.values():
        if node.input_schema is not None:
            managed.update(_schema.managed_specs(node.input_schema))
    return managed


def _wiring(structure: GraphStructure) -> tuple[
    dict[str, list[str]], dict[str, list[str]], dict[str, tuple[frozenset[str], str]]
]:
    """For each node, the trigger channels its plain edges write and the join channels it
    feeds; and each join channel's barrier (the nodes it waits for, the node it triggers)."""
    successors: dict[str, list[str]] = {}
    for src, dst in sorted(structure.edges):
        if dst != END:
            successors.setdefault(src, []).append(TRIGGER_PREFIX + dst)
    barriers: dict[str, tuple[frozenset[str], str]] = {}
    joins: dict[str, list[str]] = {}
    for srcs, dst in sorted(structure.waiting_edges):
        if dst == END:
            continue
        chan = f"{JOIN_PREFIX}{'+'.join(srcs)}:{dst}"
        barriers[chan] = (frozenset(srcs), dst)
        for src in srcs:
            joins.setdefault(src, []).append(chan)
    return successors, joins, barriers


def _branches(structure: GraphStructure, src: str) -> tuple[BranchSpec, ...]:
    return tuple(
        BranchSpec(source=src, path=b.path,
                   path_map=None if b.path_map is None else dict(b.path_map),
                   wants_config=accepts(b.path, "config"), is_async=is_async_callable(b.path))
        for b in structure.branches.get(src, {}).values()
    )


def _node_spec(structure: GraphStructure, name: str, node: NodeDef, all_keys: tuple[str, ...],
               edges: tuple[str, ...], joins: tuple[str, ...]) -> NodeSpec:
    fn = node.action
    subgraph = fn if isinstance(fn, CompiledStateGraph) else None
    afn = None
    if subgraph is not None:
        fn, afn = subgraph.invoke, subgraph.ainvoke
    elif not callable(fn) and hasattr(fn, "invoke"):
        fn = fn.invoke
    schema = node.input_schema or structure.state_schema
    keys = _schema.read_keys(schema)
    return NodeSpec(
        name=name, fn=fn, is_async=is_async_callable(fn),
        wants_config=accepts(fn, "config"),
        injects=() if subgraph is not None else _injected(fn),
        coerce=_schema.coercer(schema, keys, full=set(keys) == set(all_keys)),
        edges=edges, joins=joins, branches=_branches(structure, name), retry=node.retry,
        metadata=node.metadata, cache_policy=node.cache_policy,
        afn=afn, subgraph=subgraph if subgraph is not None else _referenced_graph(fn),
    )


def _referenced_graph(fn: Callable[..., Any]) -> CompiledStateGraph | None:
    """A compiled graph a node function reaches (a variable it closes over, or a global it
    names): the subgraph it presumably runs. As in LangGraph, get_state(subgraphs=True) then
    shows that subgraph's state under the node's task, and its checkpoint_ns can be read and
    edited. Graphs compiled with checkpointer=False keep no state and are not considered."""
    func = getattr(fn, "__func__", fn)
    wrapped = getattr(func, "__wrapped__", None)
    if callable(wrapped):
        func = getattr(wrapped, "__func__", wrapped)
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    found: list[Any] = []
    for cell in getattr(func, "__closure__", None) or ():
        try:
            found.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    names: set[str] = set()
    todo = [code]
    while todo:
        current = todo.pop()
        names.update(current.co_names)
        todo.extend(c for c in current.co_consts if hasattr(c, "co_names"))
    scope = getattr(func, "__globals__", {})
    found.extend(scope[n] for n in sorted(names) if n in scope)
    for value in found:
        if isinstance(value, CompiledStateGraph) and value.checkpointer is not False:
            return value
    return None


def _injected(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The run-time arguments `fn` names as parameters (not merely **kwargs)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return ()
    return tuple(name for name in INJECTED if name in params)
