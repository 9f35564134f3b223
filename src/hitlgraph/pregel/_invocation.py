"""From a caller's config and run options to RunParams, checked once. A top-level run checks
the thread id, breakpoints, recursion limit and durability; a run inside a node of another
graph (a subgraph) takes its thread, namespace and saver from that node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, get_args

from hitlgraph.cache.base import BaseCache
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.constants import START
from hitlgraph.errors import CheckpointerRequiredError, GraphValidationError, ThreadIdRequiredError
from hitlgraph.pregel._context import TaskContext, running_task
from hitlgraph.pregel._params import RunParams
from hitlgraph.pregel._stream import STREAM_MODES_FROM_TASKS
from hitlgraph.pregel._trace import run_trace
from hitlgraph.runtime import coerce_context
from hitlgraph.types import All, Durability

if TYPE_CHECKING:
    from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = ["cache_of", "merge_config", "run_config", "run_params", "saver_of"]

_DURABILITY = frozenset(get_args(Durability))


def merge_config(base: dict[str, Any] | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    """`extra` over `base`, merging their "configurable" and "metadata" dicts key by key."""
    out = dict(base or {})
    if extra:
        for key, value in extra.items():
            if key in ("configurable", "metadata") and isinstance(value, dict):
                out[key] = {**out.get(key, {}), **value}
            else:
                out[key] = value
    out.setdefault("configurable", {})
    return out


def saver_of(graph: CompiledStateGraph) -> BaseCheckpointSaver | None:
    """The graph's saver; None for checkpointer=None/True/False (no saver of its own)."""
    saver = graph.checkpointer
    return saver if isinstance(saver, BaseCheckpointSaver) else None


def cache_of(graph: CompiledStateGraph) -> BaseCache[Any] | None:
    """The graph's cache, if it was compiled with one."""
    cache = graph.cache
    return cache if isinstance(cache, BaseCache) else None


def run_config(graph: CompiledStateGraph, config: dict[str, Any] | None, *, need_thread: bool
               ) -> dict[str, Any]:
    """The graph's config with the caller's over it; with `need_thread`, one naming a thread."""
    merged = merge_config(graph.config, config)
    if need_thread and merged["configurable"].get("thread_id") is None:
        # LangGraph runs a None thread id as the thread "None", shared by every such call.
        what = "is None" if "thread_id" in merged["configurable"] else "is missing"
        raise ThreadIdRequiredError(
            "This graph has a checkpointer, so each run belongs to a thread: pass "
            "config={'configurable': {'thread_id': '...'}} "
            f"(config[\"configurable\"][\"thread_id\"] {what})."
        )
    return merged


def _context_for(graph: CompiledStateGraph, context: Any) -> Any:
    """The run's context as the graph's context_schema wants it (see runtime.coerce_context)."""
    return None if context is None else coerce_context(graph.context_schema, context)


def _breakpoints(graph: CompiledStateGraph, given: All | Sequence[str] | None,
                 compiled: tuple[str, ...], label: str) -> tuple[str, ...]:
    if not given:  # None or empty: the compiled breakpoints stay, as in LangGraph
        return compiled
    names = ("*",) if given == "*" else (given,) if isinstance(given, str) else tuple(given)
    nodes = graph.spec.nodes
    unknown = [n for n in names if n != "*" and (n not in nodes or n == START)]
    if unknown:
        raise GraphValidationError([
            f"{label} names an unknown node: '{n}' is not a node; known nodes: "
            f"{sorted(k for k in nodes if k != START)}." for n in unknown
        ])
    return names


def _limits(merged: dict[str, Any], durability: Durability | None) -> tuple[int, Durability]:
    """The run's recursion limit and durability, checked."""
    if durability is None and "recursion_limit" not in merged and "durability" not in merged:
        return 25, "async"  # (the defaults: nothing to check)
    limit = merged.get("recursion_limit", 25)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"recursion_limit must be a positive int, got {limit!r}.")
    mode = durability or merged.get("durability") or "async"
    if mode not in _DURABILITY:
        raise ValueError(f"durability must be one of {sorted(_DURABILITY)}, got {mode!r}.")
    return limit, mode


def run_params(
    graph: CompiledStateGraph,
    input: Any,
    config: dict[str, Any] | None,
    modes: frozenset[str],
    interrupt_before: All | Sequence[str] | None,
    interrupt_after: All | Sequence[str] | None,
    durability: Durability | None,
    subgraphs: bool = False,
    context: Any = None,
) -> RunParams:
    """One run of `graph`: at the top level, or as a subgraph when called inside a node of a
    running graph (unless it has a saver of its own)."""
    parent = running_task() if graph.checkpointer in (None, True, False) else None
    if parent is not None:
        return nested_params(graph, parent, input, config, modes, subgraphs, context)
    saver = graph.checkpointer  # (saver_of, inline: this runs for every invoke)
    if not isinstance(saver, BaseCheckpointSaver):
        saver = None
    merged = run_config(graph, config, need_thread=saver is not None)
    before = _breakpoints(graph, interrupt_before, graph.interrupt_before_nodes,
                          "interrupt_before") if interrupt_before else graph.interrupt_before_nodes
    after = _breakpoints(graph, interrupt_after, graph.interrupt_after_nodes,
                         "interrupt_after") if interrupt_after else graph.interrupt_after_nodes
    if (before or after) and saver is None:
        raise CheckpointerRequiredError(
            "Breakpoints (interrupt_before / interrupt_after) pause a run so it can go on "
            "later, which needs a checkpointer: compile with "
            "builder.compile(checkpointer=InMemorySaver(), ...)."
        )
    if durability is None and "recursion_limit" not in merged and "durability" not in merged:
        limit, mode = 25, "async"  # (_limits' first case, inline: this runs for every invoke)
    else:
        limit, mode = _limits(merged, durability)
    cache = graph.cache
    p = RunParams(
        spec=graph.spec, input=input, config=merged, checkpointed=saver is not None,
        modes=modes, interrupt_before=before, interrupt_after=after, durability=mode,
        recursion_limit=limit, saver=saver, subgraphs=subgraphs,
        cache=cache if isinstance(cache, BaseCache) else None,
    )
    if context is not None or graph.store is not None:  # (most runs have neither)
        p.reach(None if context is None else _context_for(graph, context), graph.store)
    p.scope.trace = run_trace(graph.name, p)  # (p.traced inline: once per invoke)
    return p


def nested_params(graph: CompiledStateGraph, parent: TaskContext, input: Any,
                  config: dict[str, Any] | None, modes: frozenset[str], subgraphs: bool,
                  context: Any = None) -> RunParams:
    """A run of `graph` inside a node of another: a subgraph. It keeps its checkpoints in the
    parent's thread under its own namespace, and its pauses pause the parent. As in LangGraph,
    its nodes see the parent's store, and the parent's context unless it is given its own."""
    saver = None if graph.checkpointer is False else parent.saver
    before, after = graph.interrupt_before_nodes, graph.interrupt_after_nodes
    if (before or after) and saver is None:
        raise CheckpointerRequiredError(
            f"Graph '{graph.name}' runs as a subgraph (inside node '{parent.name}') and has "
            "interrupt_before/interrupt_after breakpoints, which pause the run so it can go on "
            "later: compile the enclosing graph with a checkpointer."
        )
    ns = parent.child_namespace()
    base = parent.base_config
    merged = merge_config({k: v for k, v in base.items() if k != "configurable"}, config)
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
        spec=graph.spec, input=input, config=merged, checkpointed=saver is not None,
        modes=modes, interrupt_before=before, interrupt_after=after, durability="sync",
        recursion_limit=int(base.get("recursion_limit", 25)), saver=saver,
        parent=parent, subgraphs=subgraphs, cache=cache_of(graph),
        segment=ns[len(parent.ns) + 1:] if parent.ns else ns,
        parents={**parent.scope.parents, parent.ns: parent.checkpoint_id},
    ).reach(parent.scope.context if context is None else _context_for(graph, context),
            parent.scope.store).traced(graph.name)
