"""StateGraph: the builder of graphs whose nodes read and update a shared state."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Hashable, Sequence
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeVar, get_args, get_origin

import hitlgraph.graph._schema as _schema
from hitlgraph.constants import END, START, TRIGGER_PREFIX
from hitlgraph.graph._compile import build_spec
from hitlgraph.graph._schema_types import register_schema_types
from hitlgraph.graph._structure import BranchDef, GraphStructure, NodeDef, freeze_branches
from hitlgraph.graph._validate import validate
from hitlgraph.pregel._shape import PLAIN_SHAPE, RunShape
from hitlgraph.pregel._spec import (
    retry_tuple,
)
from hitlgraph.pregel.compiled import CompiledStateGraph
from hitlgraph.types import All, CachePolicy, Command, RetryPolicy

__all__ = ["StateGraph", "compile_graph"]

StateT = TypeVar("StateT")


def _name_of(action: Any) -> str:
    name = getattr(action, "name", None) or getattr(action, "__name__", None)
    if not isinstance(name, str) or name == "<lambda>":
        raise ValueError(
            f"Cannot infer a node name from {action!r}: pass one, e.g. add_node('my_node', fn)."
        )
    return name


def _command_destinations(action: Callable[..., Any]) -> tuple[str, ...] | None:
    """Destinations named by a `-> Command[Literal[...]]` return annotation."""
    try:
        hints = typing.get_type_hints(action)
    except Exception:
        hints = getattr(action, "__annotations__", {}) or {}
    ret = hints.get("return")
    if ret is None:
        return None
    candidates = get_args(ret) if get_origin(ret) is typing.Union else (ret,)
    found: list[str] = []
    routes = False
    for cand in candidates:
        if cand is Command or get_origin(cand) is Command:
            routes = True
            for arg in get_args(cand):
                if get_origin(arg) is Literal:
                    found.extend(str(a) for a in get_args(arg))
                else:
                    return ("*",)
            if not get_args(cand):
                return ("*",)
    return tuple(found) if routes else None


def _mentions_command(action: Any) -> bool:
    """Whether a node's code names Command: it may route with Command(goto=...)."""
    fn = getattr(action, "__func__", action)
    code = getattr(fn, "__code__", None) or getattr(
        getattr(type(action), "__call__", None), "__code__", None  # noqa: B004
    )
    todo = [code] if code is not None else []
    while todo:
        current = todo.pop()
        if "Command" in current.co_names:
            return True
        todo.extend(c for c in current.co_consts if hasattr(c, "co_names"))
    return False


def _first_param_schema(action: Callable[..., Any]) -> Any:
    try:
        params = list(inspect.signature(action).parameters.values())
        hints = typing.get_type_hints(action)
    except Exception:
        return None
    if not params:
        return None
    hint = hints.get(params[0].name)
    return hint if _schema.is_schema(hint) else None


class StateGraph(Generic[StateT]):
    """A graph whose nodes read a shared state and return updates to it.

    Args:
        state_schema: a TypedDict, dataclass or pydantic model; `Annotated[T, reducer]` keys
            combine the writes of a step with `reducer` instead of keeping the last one.
        input_schema: the keys the graph accepts as input (default: all of the state's).
        output_schema: the keys the graph returns (default: all of the state's).

    Example:
        >>> builder = StateGraph(State)                        # doctest: +SKIP
        >>> builder.add_node("draft", draft)                   # doctest: +SKIP
        >>> builder.add_edge(START, "draft")                   # doctest: +SKIP
        >>> graph = builder.compile(checkpointer=InMemorySaver())  # doctest: +SKIP
    """

    def __init__(
        self,
        state_schema: type[StateT] | None = None,
        config_schema: Any = None,
        *,
        input_schema: Any = None,
        output_schema: Any = None,
        context_schema: Any = None,
        **kwargs: Any,
    ) -> None:
        input_schema = input_schema if input_schema is not None else kwargs.pop("input", None)
        output_schema = output_schema if output_schema is not None else kwargs.pop("output", None)
        if kwargs:
            raise TypeError(f"StateGraph() got unexpected arguments: {sorted(kwargs)}.")
        if state_schema is None:
            if input_schema is None:
                raise ValueError("StateGraph needs a state schema, e.g. StateGraph(MyState).")
            state_schema = input_schema
        self.state_schema = state_schema
        self.input_schema = input_schema if input_schema is not None else state_schema
        self.output_schema = output_schema if output_schema is not None else state_schema
        self.config_schema = config_schema
        self.context_schema = context_schema
        self.channels: dict[str, _schema.ChannelSpec] = {}
        for schema in (state_schema, self.input_schema, self.output_schema):
            self._add_schema(schema)
        self.nodes: dict[str, NodeDef] = {}
        self.edges: set[tuple[str, str]] = set()
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.branches: dict[str, dict[str, BranchDef]] = {}
        self.compiled = False

    def _add_schema(self, schema: Any) -> None:
        for key, spec in _schema.channel_specs(schema).items():
            known = self.channels.get(key)
            if known is None or ((spec.reducer or spec.channel) and not (
                    known.reducer or known.channel)):
                self.channels[key] = spec

    # -- nodes ---------------------------------------------------------------------------------

    def add_node(
        self,
        node: str | Callable[..., Any],
        action: Callable[..., Any] | None = None,
        *,
        defer: bool = False,
        metadata: dict[str, Any] | None = None,
        input_schema: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy[Any] | None = None,
        destinations: dict[str, str] | tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> StateGraph[StateT]:
        """Add a node: `add_node("name", fn)` or `add_node(fn)` (named after the function).

        `fn` takes the state (and optionally `config`), may be async, and returns a partial
        update (dict), a Command, or None.
        """
        retry_policy = retry_policy if retry_policy is not None else kwargs.pop("retry", None)
        input_schema = input_schema if input_schema is not None else kwargs.pop("input", None)
        if kwargs:
            raise TypeError(f"add_node() got unexpected arguments: {sorted(kwargs)}.")
        if isinstance(node, str):
            if action is None:
                raise ValueError(f"add_node('{node}') needs a function: add_node('{node}', fn).")
            name = node
        else:
            action, name = node, _name_of(node)
        if not callable(action) and not hasattr(action, "invoke"):
            raise TypeError(f"Node '{name}' must be callable, got {action!r}.")
        if name in self.nodes:
            raise ValueError(f"Node '{name}' already exists; give the new node another name.")
        if name in (START, END) or ":" in name or name.startswith(TRIGGER_PREFIX):
            raise ValueError(
                f"Node name '{name}' is reserved or contains ':'; choose another name."
            )
        schema = input_schema if input_schema is not None else _first_param_schema(action)
        inner = getattr(action, "builder", None)
        if schema is None and isinstance(inner, StateGraph):  # a compiled graph as a node
            schema = inner.input_schema
        if schema is not None:
            self._add_schema(schema)
        dests = (tuple(destinations) if destinations is not None
                 else _command_destinations(action))
        if dests is None and _mentions_command(action):
            dests = ("*",)
        self.nodes[name] = NodeDef(
            action=action, input_schema=schema, retry=retry_tuple(retry_policy),
            cache_policy=cache_policy, destinations=dests, metadata=dict(metadata or {}),
            defer=defer,
        )
        return self

    def add_sequence(
        self, nodes: Sequence[Callable[..., Any] | tuple[str, Callable[..., Any]]]
    ) -> StateGraph[StateT]:
        """Add nodes that run one after the other, with edges between them."""
        if not nodes:
            raise ValueError("add_sequence() needs at least one node.")
        previous: str | None = None
        for item in nodes:
            if isinstance(item, tuple):
                name, action = item
                self.add_node(name, action)
            else:
                name = _name_of(item)
                self.add_node(item)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    # -- edges ---------------------------------------------------------------------------------

    def add_edge(self, start_key: str | list[str], end_key: str) -> StateGraph[StateT]:
        """Run `end_key` after `start_key`; with a list, after all of them have run."""
        if isinstance(start_key, str):
            if start_key == END:
                raise ValueError("END cannot be the start of an edge.")
            if end_key == START:
                raise ValueError("START cannot be the end of an edge.")
            self.edges.add((start_key, end_key))
            return self
        sources = tuple(start_key)
        if not sources:
            raise ValueError("add_edge() got an empty list of start nodes.")
        for src in sources:
            if src == START:
                raise ValueError("START cannot be in a list of start nodes; add its own edge.")
            if src == END:
                raise ValueError("END cannot be the start of an edge.")
        if end_key == START:
            raise ValueError("START cannot be the end of an edge.")
        if len(sources) == 1:
            self.edges.add((sources[0], end_key))
        else:
            self.waiting_edges.add((sources, end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | list[str] | None = None,
    ) -> StateGraph[StateT]:
        """After `source`, call `path(state)` to choose the next node(s).

        `path` returns a node name, END, a Send, or a list of them; with `path_map`, its return
        values are looked up there first (a list maps each name to itself).
        """
        mapping: dict[Hashable, str] | None
        if path_map is None:
            mapping = _literal_map(path)
        elif isinstance(path_map, dict):
            mapping = dict(path_map)
        else:
            mapping = {name: name for name in path_map}
        name = getattr(path, "__name__", "condition")
        if name == "<lambda>":
            name = "condition"
        branches = self.branches.setdefault(source, {})
        base, n = name, 1
        while name in branches:
            n += 1
            name = f"{base}_{n}"
        branches[name] = BranchDef(path, None if mapping is None else MappingProxyType(mapping))
        return self

    def set_entry_point(self, key: str) -> StateGraph[StateT]:
        """Start the graph at `key` (an edge from START)."""
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self, path: Callable[..., Any], path_map: dict[Hashable, str] | list[str] | None = None
    ) -> StateGraph[StateT]:
        """Choose the first node(s) with `path(input_state)`."""
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph[StateT]:
        """End the graph after `key` (an edge to END)."""
        return self.add_edge(key, END)

    # -- compile -------------------------------------------------------------------------------

    def validate(self, interrupt: Sequence[str] | None = None) -> StateGraph[StateT]:
        """Check the graph's structure; raise GraphValidationError listing every problem."""
        validate(self._structure(), interrupt or ())
        return self

    def _structure(self) -> GraphStructure:
        """The graph as it is now, frozen: what compile() hands the compiled graph."""
        return GraphStructure(
            nodes=MappingProxyType(dict(self.nodes)),
            edges=frozenset(self.edges),
            waiting_edges=frozenset(self.waiting_edges),
            branches=freeze_branches(self.branches),
            state_schema=self.state_schema,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
        )

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        debug: bool = False,
        name: str | None = None,
    ) -> CompiledStateGraph:
        """Validate the graph and return a runnable CompiledStateGraph.

        Args:
            checkpointer: a saver (e.g. InMemorySaver()); needed for interrupts, breakpoints,
                get_state and resuming.
            interrupt_before: nodes to pause before ("*" for all).
            interrupt_after: nodes to pause after ("*" for all).

        Raises:
            GraphValidationError: naming every unknown node, missing entry point and unreachable
                node.
        """
        return compile_graph(
            self, PLAIN_SHAPE, checkpointer=checkpointer, cache=cache, store=store,
            interrupt_before=interrupt_before, interrupt_after=interrupt_after, debug=debug,
            name=name,
        )


def compile_graph(
    builder: StateGraph[Any],
    shape: RunShape,
    *,
    checkpointer: Any = None,
    cache: Any = None,
    store: Any = None,
    interrupt_before: All | Sequence[str] | None = None,
    interrupt_after: All | Sequence[str] | None = None,
    debug: bool = False,
    name: str | None = None,
) -> CompiledStateGraph:
    """`builder.compile(...)` for a graph whose runs take `shape`: how the functional API
    compiles its one-node graph (StateGraph.compile() takes LangGraph's keywords only)."""
    before = _breakpoints(interrupt_before)
    after = _breakpoints(interrupt_after)
    structure = builder._structure()
    validate(structure, before, after)
    register_schema_types([builder.state_schema, builder.input_schema, builder.output_schema,
                           *(n.input_schema for n in structure.nodes.values())])
    builder.compiled = True
    return CompiledStateGraph(
        builder=builder,
        structure=structure,
        spec=build_spec(structure, builder.channels, direct_input=shape.direct_input),
        checkpointer=checkpointer,
        interrupt_before=before,
        interrupt_after=after,
        name=name or "LangGraph",
        cache=cache,
        store=store,
        debug=debug,
        shape=shape,
    )


def _breakpoints(value: All | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if value == "*":
        return ("*",)
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _literal_map(path: Callable[..., Any]) -> dict[Hashable, str] | None:
    """A path_map from a `-> Literal["a", "b"]` return annotation, as LangGraph infers it."""
    try:
        ret = typing.get_type_hints(path).get("return")
    except Exception:
        return None
    if ret is not None and get_origin(ret) is Literal:
        return {name: name for name in get_args(ret)}
    return None
