"""CompiledStateGraph: run a graph (invoke, stream and their async twins) and read or edit the
state of its threads. Four run methods over one engine: invoke consumes stream, ainvoke astream.

The methods here are the public shells; what they do is written once, next to this module:
_invocation.py turns a call's options into RunParams, _running.py runs them under either
driver, _state.py builds snapshots and updates for both the sync and the async state methods.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hitlgraph.cache.base import WRITES_NS, BaseCache, identifier
from hitlgraph.constants import START
from hitlgraph.graph._draw import DrawableGraph, build_drawable
from hitlgraph.graph._structure import GraphStructure
from hitlgraph.pregel._drive import Outcome
from hitlgraph.pregel._effects import RunResult
from hitlgraph.pregel._invocation import cache_of, merge_config, run_config
from hitlgraph.pregel._output import SKIP, check_keywords
from hitlgraph.pregel._running import (
    CallArgs,
    invoke_result,
    invoke_values,
    invoked,
    run_async,
    run_quiet,
    run_sync,
    streamed,
)
from hitlgraph.pregel._shape import PLAIN_SHAPE, RunShape
from hitlgraph.pregel._spec import GraphSpec
from hitlgraph.pregel._state import (
    history_config,
    read_async,
    read_sync,
    require_saver,
    state_at,
    state_reads,
    state_snapshot,
    update_async,
    update_params,
    update_sync,
)
from hitlgraph.types import All, Durability, StateSnapshot, StreamMode

if TYPE_CHECKING:
    from hitlgraph.graph.state import StateGraph

__all__ = ["CompiledStateGraph"]


_INVOKE_EXTRA = frozenset({"debug", "subgraphs"})
"""invoke() passes these on to stream() in LangGraph, so it takes them; hitlgraph ignores them."""


class CompiledStateGraph:
    """A compiled StateGraph, ready to run. Made by `StateGraph.compile()`."""

    stream_mode: StreamMode = "updates"
    _namespaced = False
    """Set on a subgraph reached through a checkpoint_ns: its state calls serve that ns."""

    def __init__(
        self,
        *,
        builder: StateGraph[Any],
        structure: GraphStructure,
        spec: GraphSpec,
        checkpointer: Any,
        interrupt_before: tuple[str, ...],
        interrupt_after: tuple[str, ...],
        name: str,
        cache: Any = None,
        store: Any = None,
        debug: bool = False,
        config: dict[str, Any] | None = None,
        shape: RunShape = PLAIN_SHAPE,
    ) -> None:
        self.builder = builder
        """The StateGraph this graph was compiled from (LangGraph's attribute). Changing it
        changes nothing here: this graph reads only `structure` and `spec`, made at compile()."""
        self.structure = structure
        self.spec = spec
        self.checkpointer = checkpointer
        self.interrupt_before_nodes = interrupt_before
        self.interrupt_after_nodes = interrupt_after
        self.name = name
        self.cache = cache
        self.store = store
        self.debug = debug
        self.config = config
        self.shape = shape
        """How runs take input and what "values" chunks show (see _shape.py)."""

    @property
    def context_schema(self) -> Any:
        """The type of the run-time context nodes get (StateGraph(..., context_schema=...))."""
        return getattr(self.builder, "context_schema", None)

    @property
    def nodes(self) -> dict[str, Any]:
        """The graph's nodes by name (START included)."""
        return dict(self.spec.nodes)

    def with_config(self, config: dict[str, Any] | None = None, **kwargs: Any
                    ) -> CompiledStateGraph:
        """A copy of this graph that merges `config` into every call's config."""
        return CompiledStateGraph(
            builder=self.builder, structure=self.structure, spec=self.spec,
            checkpointer=self.checkpointer,
            interrupt_before=self.interrupt_before_nodes,
            interrupt_after=self.interrupt_after_nodes, name=self.name, cache=self.cache,
            store=self.store, debug=self.debug,
            config=merge_config(merge_config(self.config, config), kwargs), shape=self.shape,
        )

    # -- cache -----------------------------------------------------------------------------------

    def _cache_namespaces(self, nodes: Sequence[str] | None
                          ) -> tuple[BaseCache[Any], list[tuple[str, ...]]]:
        """The cache, and the namespaces of these nodes' cached writes in it."""
        cache = cache_of(self)
        if cache is None:
            raise ValueError(
                f"Graph '{self.name}' has no cache to clear: compile it with one, e.g. "
                "compile(cache=InMemoryCache())."
            )
        names = list(nodes) if nodes is not None else [n for n in self.spec.nodes if n != START]
        unknown = [n for n in names if n not in self.spec.nodes or n == START]
        if unknown:
            raise ValueError(
                f"clear_cache() names unknown node(s) {unknown}; known nodes: "
                f"{sorted(n for n in self.spec.nodes if n != START)}."
            )
        return cache, [(WRITES_NS, identifier(self.spec.nodes[n].fn), n) for n in names]

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Drop the cached writes of these nodes (all nodes by default)."""
        cache, namespaces = self._cache_namespaces(nodes)
        cache.clear(namespaces)

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Like clear_cache(), without blocking the event loop."""
        cache, namespaces = self._cache_namespaces(nodes)
        await cache.aclear(namespaces)

    # -- running -----------------------------------------------------------------------------------

    def stream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        durability: Durability | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph and yield chunks as it goes.

        With one stream mode, yields its chunks; with a list, yields (mode, chunk) pairs.
        A run that pauses yields `{"__interrupt__": (...)}` in "updates" and ends.
        `output_keys` narrows "values" and "updates" chunks to those state keys (one str: the
        key's bare value). `context` is what nodes see as `runtime.context` (a dict is made an
        instance of a dataclass or pydantic context_schema); it is not checkpointed, so pass it
        again when resuming. LangGraph's `debug`, `print_mode`, `control` and `version` are
        accepted and have no effect yet.

        Raises:
            TypeError: for a keyword LangGraph's stream() does not take either.
        """
        check_keywords("stream", kwargs)
        p, view = streamed(self, input, config, CallArgs(
            stream_mode, output_keys, interrupt_before, interrupt_after, durability, subgraphs,
            context))
        for effect in run_sync(p, p.modes):
            chunk = view.show(effect)
            if chunk is not SKIP:
                yield chunk

    async def astream(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        durability: Durability | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Like stream(), on the running event loop; async nodes of a step run concurrently."""
        check_keywords("astream", kwargs)
        p, view = streamed(self, input, config, CallArgs(
            stream_mode, output_keys, interrupt_before, interrupt_after, durability, subgraphs,
            context))
        async for effect in run_async(p, p.modes, Outcome()):
            chunk = view.show(effect)
            if chunk is not SKIP:
                yield chunk

    def invoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode = "values",
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        durability: Durability | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run the graph to its end (or its next pause) and return the state's values.

        When the run pauses at interrupt(), the result also has "__interrupt__": a list of
        Interrupt; answer with `invoke(Command(resume=...), config)`. With `output_keys`, only
        those keys (one str: that key's value, None if no step wrote it).

        Raises:
            TypeError: for a keyword LangGraph's invoke() does not take either.
        """
        if kwargs:
            check_keywords("invoke", kwargs, _INVOKE_EXTRA)
        if output_keys is None and stream_mode == "values":
            return invoke_values(self, input, config, interrupt_before, interrupt_after,
                                 durability, context)
        a = CallArgs(stream_mode, output_keys, interrupt_before, interrupt_after, durability,
                     context=context)
        p, collected = invoked(self, input, config, a)
        if not p.modes and p.scope.trace is None:  # (the usual invoke: no chunk to gather)
            return invoke_result(a, collected, run_quiet(p))
        run = run_sync(p, p.modes)
        while True:
            try:
                collected.add(next(run))
            except StopIteration as stop:
                return invoke_result(a, collected, stop.value)

    async def ainvoke(
        self,
        input: Any,
        config: dict[str, Any] | None = None,
        *,
        stream_mode: StreamMode = "values",
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        durability: Durability | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Like invoke(), on the running event loop."""
        check_keywords("ainvoke", kwargs, _INVOKE_EXTRA)
        a = CallArgs(stream_mode, output_keys, interrupt_before, interrupt_after, durability,
                     context=context)
        p, collected = invoked(self, input, config, a)
        outcome: Outcome[RunResult] = Outcome()
        async for effect in run_async(p, p.modes, outcome):
            collected.add(effect)
        return invoke_result(a, collected, outcome.value)

    # -- state -----------------------------------------------------------------------------------

    def _for_namespace(self, config: dict[str, Any]) -> CompiledStateGraph:
        """The graph whose checkpoints config's checkpoint_ns names: this one, or a subgraph
        (run with this graph's checkpointer)."""
        ns = (config or {}).get("configurable", {}).get("checkpoint_ns", "")
        if not ns or self._namespaced:
            return self
        graph: CompiledStateGraph = self
        for segment in ns.split("|"):
            if segment.isdigit():  # a node's second, third... subgraph run
                continue
            node = graph.spec.nodes.get(segment.split(":", 1)[0])
            if node is None or node.subgraph is None:
                raise ValueError(
                    f"checkpoint_ns {ns!r} names no subgraph of graph '{self.name}': "
                    f"'{segment}' is not a node that runs a compiled graph."
                )
            graph = node.subgraph
        if graph is self:
            return self
        clone = copy.copy(graph)
        clone.checkpointer = self.checkpointer
        clone._namespaced = True
        return clone

    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state at its latest checkpoint (or at config's checkpoint_id)."""
        target = self._for_namespace(config)
        saver = require_saver(target, "get_state()")
        if subgraphs:
            return read_sync(saver, state_reads(target, config, subgraphs))
        merged = run_config(target, config, need_thread=True)  # (the common case, directly)
        return state_at(target, config, merged, saver.get_tuple(merged))

    async def aget_state(self, config: dict[str, Any], *, subgraphs: bool = False
                         ) -> StateSnapshot:
        """Like get_state(), without blocking the event loop."""
        target = self._for_namespace(config)
        saver = require_saver(target, "aget_state()")
        if subgraphs:
            return await read_async(saver, state_reads(target, config, subgraphs))
        merged = run_config(target, config, need_thread=True)
        return state_at(target, config, merged, await saver.aget_tuple(merged))

    def get_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints as snapshots, newest first."""
        target = self._for_namespace(config)
        saver = require_saver(target, "get_state_history()")
        for tup in saver.list(history_config(target, config), filter=filter, before=before,
                              limit=limit):
            yield state_snapshot(target, tup)

    async def aget_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[StateSnapshot]:
        """Like get_state_history(), as an async iterator."""
        target = self._for_namespace(config)
        saver = require_saver(target, "aget_state_history()")
        async for tup in saver.alist(history_config(target, config), filter=filter,
                                     before=before, limit=limit):
            yield state_snapshot(target, tup)

    def update_state(
        self,
        config: dict[str, Any],
        values: dict[str, Any] | Any | None,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Edit the thread's state as if node `as_node` had returned `values`.

        The values go through the reducers, and the next nodes become those that follow
        `as_node`. `update_state(config, None, as_node=END)` drops the pending tasks. On an
        older checkpoint (config with checkpoint_id) this forks the thread. Returns the config
        of the new checkpoint.
        """
        target = self._for_namespace(config)
        return update_sync(target, update_params(target, config, values, as_node))

    async def aupdate_state(
        self,
        config: dict[str, Any],
        values: dict[str, Any] | Any | None,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Like update_state(), without blocking the event loop."""
        target = self._for_namespace(config)
        return await update_async(target, update_params(target, config, values, as_node))

    # -- drawing ---------------------------------------------------------------------------------

    def get_graph(self, config: dict[str, Any] | None = None, *, xray: int | bool = False
                  ) -> DrawableGraph:
        """The graph's structure: `.nodes`, `.edges`, and `.draw_mermaid()` for Mermaid text.

        Conditional edges and Command(goto=...) destinations are dotted; nodes with breakpoints
        are marked. `config` and `xray` are accepted for LangGraph compatibility; subgraphs are
        drawn as one node.
        """
        return build_drawable(self.structure, self.interrupt_before_nodes,
                              self.interrupt_after_nodes)
