"""The compiled form of a graph that the engine runs: nodes with their edges, channels, barriers."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitlgraph.channels.base import BaseChannel
from hitlgraph.constants import END, TASKS, TRIGGER_PREFIX
from hitlgraph.errors import InvalidUpdateError
from hitlgraph.graph._schema import ChannelSpec
from hitlgraph.managed.base import ManagedValueSpec
from hitlgraph.types import CachePolicy, RetryPolicy, Send

Write = tuple[str, Any]
INJECTED = ("writer", "store", "runtime")
"""The run-time arguments a node's function can take by name, in the order they are given."""


def accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether `fn` takes a parameter called `name` (or **kwargs)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """Whether calling `fn` returns a coroutine."""
    call = getattr(fn, "__call__", None)  # noqa: B004 - objects with an async __call__
    return _is_coroutine_function(fn) or (call is not None and _is_coroutine_function(call))


def _is_coroutine_function(fn: Any) -> bool:
    """asyncio.iscoroutinefunction without importing asyncio: what it adds to inspect's check
    (its own marker) can only be on a function if asyncio is loaded."""
    if inspect.iscoroutinefunction(fn):
        return True
    aio = sys.modules.get("asyncio")
    return aio is not None and bool(aio.iscoroutinefunction(fn))


@dataclass(slots=True, kw_only=True)
class BranchSpec:
    """A conditional edge: `path(state)` names the next node(s), mapped through `path_map`."""

    source: str
    path: Callable[..., Any]
    path_map: dict[Any, str] | None
    wants_config: bool
    is_async: bool

    def writes(self, result: Any, nodes: dict[str, Any]) -> list[Write]:
        """The trigger writes for what `path` returned."""
        items = result if isinstance(result, (list, tuple)) else [result]
        out: list[Write] = []
        for item in items:
            if isinstance(item, Send):
                if item.node not in nodes:
                    raise InvalidUpdateError(
                        f"Conditional edge from '{self.source}' sent to '{item.node}', which is "
                        f"not a node. Known nodes: {sorted(n for n in nodes if n[:2] != '__')}."
                    )
                out.append((TASKS, item))
                continue
            dest = item
            if self.path_map is not None:
                try:
                    dest = self.path_map[item]
                except (KeyError, TypeError):
                    raise InvalidUpdateError(
                        f"Conditional edge from '{self.source}' returned {item!r}, which its "
                        f"path_map does not have. path_map keys: {list(self.path_map)}."
                    ) from None
            if dest == END or dest is None:
                continue
            if not isinstance(dest, str) or dest not in nodes:
                raise InvalidUpdateError(
                    f"Conditional edge from '{self.source}' returned {dest!r}, which is not a "
                    "node. Return a node name, END, a Send, or a list of them."
                )
            out.append((TRIGGER_PREFIX + dest, None))
        return out


@dataclass(slots=True, kw_only=True)
class NodeSpec:
    """A node as the engine runs it."""

    name: str
    fn: Callable[..., Any]
    is_async: bool
    wants_config: bool
    coerce: Callable[[dict[str, Any]], Any]
    """Turns state values into the node's input."""
    injects: tuple[str, ...] = ()
    """The run-time arguments the node's function takes by name, of "writer" (the "custom"
    stream writer), "store" and "runtime" (see pregel/_runtime.py)."""
    edges: tuple[str, ...] = ()
    """Trigger channels written when the node finishes (its static successors)."""
    joins: tuple[str, ...] = ()
    """Barrier channels the node's name is written to (edges that wait for several nodes)."""
    branches: tuple[BranchSpec, ...] = ()
    retry: tuple[RetryPolicy, ...] = ()
    cache_policy: CachePolicy[Any] | None = None
    """Reuse the node's writes for an input seen before (when the run has a cache)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    afn: Callable[..., Any] | None = None
    """An async twin of `fn` the async driver awaits instead (a subgraph's ainvoke)."""
    static_writes: tuple[Write, ...] = ()
    """The writes of `edges` and `joins` (computed once)."""

    def __post_init__(self) -> None:
        self.static_writes = (*((chan, None) for chan in self.edges),
                              *((chan, self.name) for chan in self.joins))
    subgraph: Any = None
    """The compiled graph this node runs, when the node is one."""


@dataclass(slots=True, kw_only=True)
class GraphSpec:
    """Everything the engine needs to run a compiled graph."""

    channels: dict[str, ChannelSpec]
    """State keys with their reducers."""
    state_keys: tuple[str, ...]
    input_keys: frozenset[str]
    output_keys: tuple[str, ...]
    nodes: dict[str, NodeSpec]
    """Every node, START included."""
    barriers: dict[str, tuple[frozenset[str], str]]
    """Join channel -> (the nodes it waits for, the node it triggers)."""
    state_coerce: Callable[[dict[str, Any]], Any]
    """Turns state values into the state schema's type (what conditional edges receive)."""
    retry: tuple[RetryPolicy, ...] = ()
    direct_input: bool = False
    """New input is written in the input checkpoint itself, whose next tasks are the nodes after
    START (no START step), as LangGraph runs an @entrypoint."""
    node_order: dict[str, int] = field(default_factory=dict)
    """Each node's position in declaration order (START first): the order of `next`."""

    node_names: frozenset[str] = frozenset()
    """The names of `nodes` (computed once)."""
    channel_objects: tuple[tuple[str, BaseChannel[Any, Any, Any]], ...] = ()
    """The state keys that name a channel object, with its prototype (computed once; most
    graphs have none, and their runs make no channel objects)."""
    managed: dict[str, ManagedValueSpec] = field(default_factory=dict)
    """The managed values nodes read (RemainingSteps...), by key: computed for each step,
    never stored."""

    def __post_init__(self) -> None:
        self.node_order = {name: i for i, name in enumerate(self.nodes)}
        self.node_names = frozenset(self.nodes)
        self.channel_objects = tuple((k, c.channel) for k, c in self.channels.items()
                                     if c.channel is not None)


def passthrough(value: Any) -> Any:
    """START's node: the run's input is its update (the engine writes it without a driver:
    pregel._call.run_start)."""
    return value


def retry_tuple(policy: RetryPolicy | Sequence[RetryPolicy] | None) -> tuple[RetryPolicy, ...]:
    """A node's retry policies as a tuple (LangGraph accepts one or a sequence)."""
    if policy is None:
        return ()
    if isinstance(policy, RetryPolicy):
        return (policy,)
    return tuple(policy)
