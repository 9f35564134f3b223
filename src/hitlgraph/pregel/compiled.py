"""CompiledStateGraph: run a graph (invoke, stream and their async twins) and read or edit the
state of its threads. Four run methods over one engine: invoke consumes stream, ainvoke astream."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, get_args

from hitlgraph.cache.base import WRITES_NS, BaseCache, identifier
from hitlgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from hitlgraph.constants import INTERRUPT, START
from hitlgraph.errors import (
    CheckpointerRequiredError,
    GraphInterrupt,
    GraphValidationError,
    ThreadIdRequiredError,
)
from hitlgraph.graph._draw import DrawableGraph, build_drawable
from hitlgraph.graph._structure import GraphStructure
from hitlgraph.pregel._algo import Pending, RunState, snapshot_tasks, state_values
from hitlgraph.pregel._context import TaskContext, running_task
from hitlgraph.pregel._drive import Listen, Outcome, drive_async, drive_sync
from hitlgraph.pregel._effects import Emit, RunResult
from hitlgraph.pregel._loop import run_loop
from hitlgraph.pregel._output import SKIP, Collected, OutputKeys, View, check_keywords
from hitlgraph.pregel._params import RunParams
from hitlgraph.pregel._spec import GraphSpec
from hitlgraph.pregel._stream import (
    STREAM_MODES_FROM_TASKS,
    patch_checkpoint_map,
    subgraph_config,
)
from hitlgraph.pregel._update import UpdateParams, update_loop
from hitlgraph.types import All, Durability, PregelTask, StateSnapshot, StreamMode

if TYPE_CHECKING:
    from hitlgraph.graph.state import StateGraph

__all__ = ["CompiledStateGraph"]

_ALL_MODES = frozenset(get_args(StreamMode))
_DURABILITY = frozenset(get_args(Durability))


_INVOKE_EXTRA = frozenset({"debug", "subgraphs"})
"""invoke() passes these on to stream() in LangGraph, so it takes them; hitlgraph ignores them."""


@dataclass(frozen=True, slots=True)
class _CallArgs:
    """The run options of one invoke/stream call, as the caller gave them."""

    stream_mode: StreamMode | Sequence[StreamMode] | None
    output_keys: str | Sequence[str] | None
    interrupt_before: All | Sequence[str] | None
    interrupt_after: All | Sequence[str] | None
    durability: Durability | None
    subgraphs: bool = False


def _merge(base: dict[str, Any] | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(base or {})
    if extra:
        for key, value in extra.items():
            if key in ("configurable", "metadata") and isinstance(value, dict):
                out[key] = {**out.get(key, {}), **value}
            else:
                out[key] = value
    out.setdefault("configurable", {})
    return out


class CompiledStateGraph:
    """A compiled StateGraph, ready to run. Made by `StateGraph.compile()`."""

    stream_mode: StreamMode = "updates"
    _stream_keys: tuple[str, ...] = ()
    """The keys "values" chunks show (empty: every channel, as LangGraph's StateGraph)."""
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
            store=self.store, debug=self.debug, config=_merge(_merge(self.config, config), kwargs),
        )

    # -- parsing the caller's arguments, once ----------------------------------------------------

    @property
    def _saver(self) -> BaseCheckpointSaver | None:
        saver = self.checkpointer
        return saver if isinstance(saver, BaseCheckpointSaver) else None

    @property
    def _cache(self) -> BaseCache[Any] | None:
        cache = self.cache
        return cache if isinstance(cache, BaseCache) else None

    def _cache_namespaces(self, nodes: Sequence[str] | None) -> list[tuple[str, ...]]:
        if self._cache is None:
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
        return [(WRITES_NS, identifier(self.spec.nodes[n].fn), n) for n in names]

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Drop the cached writes of these nodes (all nodes by default)."""
        cache = self._cache
        namespaces = self._cache_namespaces(nodes)
        assert cache is not None
        cache.clear(namespaces)

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Like clear_cache(), without blocking the event loop."""
        cache = self._cache
        namespaces = self._cache_namespaces(nodes)
        assert cache is not None
        await cache.aclear(namespaces)

    def _config(self, config: dict[str, Any] | None, *, need_thread: bool) -> dict[str, Any]:
        merged = _merge(self.config, config)
        if need_thread and merged["configurable"].get("thread_id") is None:
            # LangGraph runs a None thread id as the thread "None", shared by every such call.
            what = "is None" if "thread_id" in merged["configurable"] else "is missing"
            raise ThreadIdRequiredError(
                "This graph has a checkpointer, so each run belongs to a thread: pass "
                "config={'configurable': {'thread_id': '...'}} "
                f"(config[\"configurable\"][\"thread_id\"] {what})."
            )
        return merged

    def _breakpoints(self, given: All | Sequence[str] | None, compiled: tuple[str, ...],
                     label: str) -> tuple[str, ...]:
        if not given:  # None or empty: the compiled breakpoints stay, as in LangGraph
            return compiled
        names = ("*",) if given == "*" else (given,) if isinstance(given, str) else tuple(given)
        unknown = [n for n in names if n != "*" and (n not in self.spec.nodes or n == START)]
        if unknown:
            raise GraphValidationError([
                f"{label} names an unknown node: '{n}' is not a node; known nodes: "
                f"{sorted(k for k in self.spec.nodes if k != START)}." for n in unknown
            ])
        return names

    def _params(
        self,
        input: Any,
        config: dict[str, Any] | None,
        modes: frozenset[str],
        interrupt_before: All | Sequence[str] | None,
        interrupt_after: All | Sequence[str] | None,
        durability: Durability | None,
        subgraphs: bool = False,
    ) -> RunParams:
        parent = running_task() if self.checkpointer in (None, True, False) else None
        if parent is not None:
            return self._nested_params(parent, input, config, modes, subgraphs)
        saver = self._saver
        merged = self._config(config, need_thread=saver is not None)
        before = self._breakpoints(interrupt_before, self.interrupt_before_nodes,
                                   "interrupt_before")
        after = self._breakpoints(interrupt_after, self.interrupt_after_nodes, "interrupt_after")
        if (before or after) and saver is None:
            raise CheckpointerRequiredError(
                "Breakpoints (interrupt_before / interrupt_after) pause a run so it can go on "
                "later, which needs a checkpointer: compile with "
                "builder.compile(checkpointer=InMemorySaver(), ...)."
            )
        limit = merged.get("recursion_limit", 25)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError(f"recursion_limit must be a positive int, got {limit!r}.")
        mode = durability or merged.get("durability") or "async"
        if mode not in _DURABILITY:
            raise ValueError(f"durability must be one of {sorted(_DURABILITY)}, got {mode!r}.")
        return RunParams(
            spec=self.spec, input=input, config=merged, checkpointed=saver is not None,
            modes=modes, interrupt_before=before, interrupt_after=after, durability=mode,
            recursion_limit=limit, saver=saver, subgraphs=subgraphs, cache=self._cache,
        )

    def _nested_params(self, parent: TaskContext, input: Any, config: dict[str, Any] | None,
                       modes: frozenset[str], subgraphs: bool) -> RunParams:
        """A run of this graph inside a node of another: a subgraph. It keeps its checkpoints
        in the parent's thread under its own namespace, and its pauses pause the parent."""
        if self.interrupt_before_nodes or self.interrupt_after_nodes:
            raise CheckpointerRequiredError(
                f"Graph '{self.name}' runs as a subgraph (inside node '{parent.name}') and has "
                "interrupt_before/interrupt_after breakpoints, which hitlgraph supports only at "
                "the top level. Call interrupt() in the subgraph's node instead."
            )
        saver = None if self.checkpointer is False else parent.saver
        ns = parent.child_namespace()
        base = parent.base_config
        merged = _merge({k: v for k, v in base.items() if k != "configurable"}, config)
        merged["configurable"] = {
            **{k: v for k, v in base.get("configurable", {}).items()
               if k not in ("checkpoint_id", "checkpoint_ns")},
            "checkpoint_ns": ns,
        }
        forward = parent.sink
        if forward is not None:
            modes = modes | (forward.modes if forward.subgraphs
                             else forward.modes & STREAM_MODES_FROM_TASKS)
        return RunParams(
            spec=self.spec, input=input, config=merged, checkpointed=saver is not None,
            modes=modes, interrupt_before=(), interrupt_after=(), durability="sync",
            recursion_limit=int(base.get("recursion_limit", 25)), saver=saver,
            parent=parent, subgraphs=subgraphs, cache=self._cache,
            segment=ns[len(parent.ns) + 1:] if parent.ns else ns,
            parents={**parent.parents, parent.ns: parent.checkpoint_id},
        )

    def _listen(self, p: RunParams) -> Listen | None:
        """What the drivers must listen to while tasks run, for this run's consumer."""
        if p.parent is not None and p.parent.sink is not None:
            return Listen(p.modes, True)
        if p.listens:
            return Listen(p.modes, p.subgraphs)
        return None

    @staticmethod
    def _route(p: RunParams, effect: Emit, wanted: frozenset[str]) -> bool:
        """Forward a chunk of a subgraph's run to its parent's stream; say whether the caller
        of this run wants it too."""
        forward = p.parent.sink if p.parent is not None else None
        if forward is not None and effect.mode in forward.modes and (
            forward.subgraphs or effect.mode in STREAM_MODES_FROM_TASKS
        ):
            forward.put(effect.mode, effect.chunk, (p.segment, *effect.ns))
            if effect.mode == "messages" and forward.subgraphs:
                # Shown with the subgraph's namespace: the enclosing node that returns the
                # same message does not show it again.
                msg_id = getattr(effect.chunk[0], "id", None)
                if isinstance(msg_id, str) and msg_id and p.parent is not None:
                    p.parent.streamed = p.parent.streamed | {msg_id}
        return effect.mode in wanted and (p.subgraphs or not effect.ns)

    @staticmethod
    def _finished(p: RunParams, result: RunResult | None) -> RunResult:
        assert result is not None
        if p.parent is not None and result.paused:  # a subgraph's pause pauses its parent
            raise GraphInterrupt(result.interrupts)
        return result

    def _run(self, p: RunParams, wanted: frozenset[str]) -> Generator[Emit, None, RunResult]:
        outcome: Outcome[RunResult] = Outcome()
        for effect in drive_sync(run_loop(p), self.spec, p.saver, outcome, self._listen(p)):
            if self._route(p, effect, wanted):
                yield effect
        return self._finished(p, outcome.value)

    async def _arun(self, p: RunParams, wanted: frozenset[str], outcome: Outcome[RunResult]
                    ) -> AsyncIterator[Emit]:
        async for effect in drive_async(run_loop(p), self.spec, p.saver, outcome,
                                        self._listen(p)):
            if self._route(p, effect, wanted):
                yield effect
        outcome.value = self._finished(p, outcome.value)

    @staticmethod
    def _modes(stream_mode: StreamMode | Sequence[StreamMode] | None, default: str
               ) -> tuple[frozenset[str], bool]:
        chosen: Any = default if stream_mode is None else stream_mode
        single = isinstance(chosen, str)
        modes: frozenset[str] = frozenset([chosen] if single else chosen)
        for mode in modes:
            if mode not in _ALL_MODES:
                raise ValueError(
                    f"Unknown stream_mode {mode!r}; expected one of {sorted(_ALL_MODES)}."
                )
        return modes, single

    def _output_keys(self, given: str | Sequence[str] | None) -> OutputKeys | None:
        return None if given is None else OutputKeys.parse(given, self.spec.channels)

    def _streamed(self, input: Any, config: dict[str, Any] | None, a: _CallArgs
                  ) -> tuple[RunParams, View]:
        """stream() and astream(): the run, and how its chunks are shown."""
        modes, single = self._modes(a.stream_mode, self.stream_mode)
        out = self._output_keys(a.output_keys)
        p = self._params(input, config, modes, a.interrupt_before, a.interrupt_after,
                         a.durability, a.subgraphs)
        # as LangGraph: all keys, not the output's
        p.stream_keys = (out.keys if out is not None and out.keys
                         else self._stream_keys or tuple(self.spec.channels))
        return p, View(single, a.subgraphs, out, self.spec.node_names)

    def _invoked(self, input: Any, config: dict[str, Any] | None, a: _CallArgs
                 ) -> tuple[RunParams, Collected]:
        """invoke() and ainvoke(): the run, and where its chunks are gathered."""
        out = self._output_keys(a.output_keys)
        if a.stream_mode == "values":
            modes = frozenset() if out is None else frozenset(["values"])
        else:
            modes = self._modes(a.stream_mode, "values")[0]
        p = self._params(input, config, modes, a.interrupt_before, a.interrupt_after,
                         a.durability)
        if out is not None and out.keys:
            p.stream_keys = out.keys
        return p, Collected(View(True, False, out, self.spec.node_names))

    @staticmethod
    def _invoke_result(a: _CallArgs, collected: Collected, result: RunResult | None) -> Any:
        assert result is not None
        if a.stream_mode != "values":
            return collected.chunks
        if collected.view.out is not None:
            return collected.values(result.interrupts)
        out = dict(result.values)
        if result.interrupts:
            out[INTERRUPT] = list(result.interrupts)
        return out

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
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph and yield chunks as it goes.

        With one stream mode, yields its chunks; with a list, yields (mode, chunk) pairs.
        A run that pauses yields `{"__interrupt__": (...)}` in "updates" and ends.
        `output_keys` narrows "values" and "updates" chunks to those state keys (one str: the
        key's bare value). LangGraph's `debug`, `context`, `print_mode`, `control` and `version`
        are accepted and have no effect yet.

        Raises:
            TypeError: for a keyword LangGraph's stream() does not take either.
        """
        check_keywords("stream", kwargs)
        p, view = self._streamed(input, config, _CallArgs(
            stream_mode, output_keys, interrupt_before, interrupt_after, durability, subgraphs))
        for effect in self._run(p, p.modes):
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
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Like stream(), on the running event loop; async nodes of a step run concurrently."""
        check_keywords("astream", kwargs)
        p, view = self._streamed(input, config, _CallArgs(
            stream_mode, output_keys, interrupt_before, interrupt_after, durability, subgraphs))
        async for effect in self._arun(p, p.modes, Outcome()):
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
        **kwargs: Any,
    ) -> Any:
        """Run the graph to its end (or its next pause) and return the state's values.

        When the run pauses at interrupt(), the result also has "__interrupt__": a list of
        Interrupt; answer with `invoke(Command(resume=...), config)`. With `output_keys`, only
        those keys (one str: that key's value, None if no step wrote it).

        Raises:
            TypeError: for a keyword LangGraph's invoke() does not take either.
        """
        check_keywords("invoke", kwargs, _INVOKE_EXTRA)
        a = _CallArgs(stream_mode, output_keys, interrupt_before, interrupt_after, durability)
        p, collected = self._invoked(input, config, a)
        run = self._run(p, p.modes)
        while True:
            try:
                collected.add(next(run))
            except StopIteration as stop:
                return self._invoke_result(a, collected, stop.value)

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
        **kwargs: Any,
    ) -> Any:
        """Like invoke(), on the running event loop."""
        check_keywords("ainvoke", kwargs, _INVOKE_EXTRA)
        a = _CallArgs(stream_mode, output_keys, interrupt_before, interrupt_after, durability)
        p, collected = self._invoked(input, config, a)
        outcome: Outcome[RunResult] = Outcome()
        async for effect in self._arun(p, p.modes, outcome):
            collected.add(effect)
        return self._invoke_result(a, collected, outcome.value)

    # -- state -----------------------------------------------------------------------------------

    def _require_saver(self, what: str) -> BaseCheckpointSaver:
        saver = self._saver
        if saver is None:
            raise CheckpointerRequiredError(
                f"{what} reads saved checkpoints, but this graph has no checkpointer. Compile it "
                "with one: builder.compile(checkpointer=InMemorySaver())."
            )
        return saver

    def _snapshot(self, tup: CheckpointTuple, *, live: bool = False,
                  subgraphs: BaseCheckpointSaver | None = None) -> StateSnapshot:
        """`live`: the thread's current state (get_state without checkpoint_id); otherwise a
        record of the checkpoint's step (history). With `subgraphs` (the saver to read them
        from), tasks that run a subgraph carry its state."""
        st = RunState.from_checkpoint(self.spec, tup.checkpoint)
        st.step = int(tup.metadata.get("step", -1))
        ns = tup.config["configurable"].get("checkpoint_ns", "")
        tasks, names, values, interrupts = snapshot_tasks(
            self.spec, st, Pending.of(tup.pending_writes), ns=ns, config=tup.config, live=live
        )
        if subgraphs is not None:
            tasks = tuple(self._with_subgraph_state(subgraphs, tup, ns, task) for task in tasks)
        else:
            thread = tup.config["configurable"].get("thread_id")
            tasks = tuple(
                replace(task, state=subgraph_config(thread, ns, task.name, task.id))
                if self._runs_subgraph(task.name) else task
                for task in tasks
            )
        return StateSnapshot(
            values=state_values(self.spec, values),
            next=names,
            config=patch_checkpoint_map(tup.config, tup.metadata, last=True) or tup.config,
            metadata=dict(tup.metadata),
            created_at=tup.checkpoint["ts"],
            parent_config=patch_checkpoint_map(tup.parent_config, tup.metadata, last=True),
            tasks=tasks,
            interrupts=interrupts,
        )

    def _runs_subgraph(self, name: str) -> bool:
        node = self.spec.nodes.get(name)
        return node is not None and node.subgraph is not None

    def _with_subgraph_state(self, saver: BaseCheckpointSaver, tup: CheckpointTuple, ns: str,
                             task: PregelTask) -> PregelTask:
        node = self.spec.nodes.get(task.name)
        inner = node.subgraph if node is not None else None
        if inner is None:
            return task
        child = f"{ns}|{task.name}:{task.id}" if ns else f"{task.name}:{task.id}"
        conf = {"thread_id": tup.config["configurable"]["thread_id"], "checkpoint_ns": child}
        found = saver.get_tuple({"configurable": conf})
        if found is None:
            return task
        return replace(task, state=inner._snapshot(found, live=True, subgraphs=saver))

    def _empty(self, config: dict[str, Any]) -> StateSnapshot:
        return StateSnapshot(values={}, next=(), config=config, metadata=None, created_at=None,
                             parent_config=None, tasks=(), interrupts=())

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
        if target is not self:
            return target.get_state(config, subgraphs=subgraphs)
        saver = self._require_saver("get_state()")
        merged = self._config(config, need_thread=True)
        tup = saver.get_tuple(merged)
        live = "checkpoint_id" not in merged["configurable"]
        if tup is None:
            return self._empty(config)
        return self._snapshot(tup, live=live, subgraphs=saver if subgraphs else None)

    async def aget_state(self, config: dict[str, Any], *, subgraphs: bool = False
                         ) -> StateSnapshot:
        """Like get_state(), without blocking the event loop."""
        target = self._for_namespace(config)
        if target is not self:
            return await target.aget_state(config, subgraphs=subgraphs)
        saver = self._require_saver("aget_state()")
        merged = self._config(config, need_thread=True)
        tup = await saver.aget_tuple(merged)
        live = "checkpoint_id" not in merged["configurable"]
        if tup is None:
            return self._empty(config)
        if subgraphs:  # reading the subgraphs' checkpoints would block the loop
            return await asyncio.to_thread(self._snapshot, tup, live=live, subgraphs=saver)
        return self._snapshot(tup, live=live)

    def _history_config(self, config: dict[str, Any]) -> dict[str, Any]:
        merged = self._config(config, need_thread=True)
        merged["configurable"].setdefault("checkpoint_ns", "")
        return merged

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
        if target is not self:
            yield from target.get_state_history(config, filter=filter, before=before,
                                                limit=limit)
            return
        saver = self._require_saver("get_state_history()")
        for tup in saver.list(self._history_config(config), filter=filter, before=before,
                              limit=limit):
            yield self._snapshot(tup)

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
        if target is not self:
            async for snapshot in target.aget_state_history(config, filter=filter, before=before,
                                                            limit=limit):
                yield snapshot
            return
        saver = self._require_saver("aget_state_history()")
        async for tup in saver.alist(self._history_config(config), filter=filter, before=before,
                                     limit=limit):
            yield self._snapshot(tup)

    def _update_params(self, config: dict[str, Any], values: Any, as_node: str | None
                       ) -> UpdateParams:
        self._require_saver("update_state()")
        run = self._params(None, config, frozenset(), (), (), None)
        return UpdateParams(run=run, values=values, as_node=as_node)

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
        if target is not self:
            return target.update_state(config, values, as_node, task_id)
        u = self._update_params(config, values, as_node)
        outcome: Outcome[dict[str, Any]] = Outcome()
        for _ in drive_sync(update_loop(u), self.spec, self._saver, outcome):
            pass
        assert outcome.value is not None
        return outcome.value

    async def aupdate_state(
        self,
        config: dict[str, Any],
        values: dict[str, Any] | Any | None,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Like update_state(), without blocking the event loop."""
        target = self._for_namespace(config)
        if target is not self:
            return await target.aupdate_state(config, values, as_node, task_id)
        u = self._update_params(config, values, as_node)
        outcome: Outcome[dict[str, Any]] = Outcome()
        async for _ in drive_async(update_loop(u), self.spec, self._saver, outcome):
            pass
        assert outcome.value is not None
        return outcome.value



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
