"""One invocation's settings (RunParams), and the configs and metadata of its saver calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hitlgraph.checkpoint.base import (
    WRITE_RULES,
    CheckpointMetadata,
    CheckpointTuple,
    Fence,
    WriteRules,
    rules_of,
)
from hitlgraph.pregel._context import TaskScope
from hitlgraph.pregel._spec import GraphSpec
from hitlgraph.pregel._stream import STREAM_MODES_FROM_TASKS
from hitlgraph.pregel._trace import run_trace

START_FROM = "__hitlgraph_start_from"
"""The key of config["configurable"] under which a caller hands a run a StartFrom (set it with
`StartFrom(...).on(config)`)."""


class StartFrom(NamedTuple):
    """The thread's latest checkpoint (None: it has none) as the caller of a top-level run read
    it for that run, after the run's fence advanced: no writer the fence shuts out can have
    written after it, so the run starts from it instead of reading the latest again. Its
    first write compares and sets against it, as against a read of its own. Used once: a run
    opened again (a recounted k-of-n answer) reads the thread. Never seen by the run's nodes
    or subgraphs (RunParams takes it out of the config)."""

    latest: CheckpointTuple | None

    def on(self, config: dict[str, Any]) -> dict[str, Any]:
        return {**config, "configurable": {**config.get("configurable", {}), START_FROM: self}}


@dataclass(slots=True, kw_only=True, init=False)
class RunParams:
    """One invocation's settings, parsed from the caller's arguments and config."""

    spec: GraphSpec
    input: Any
    config: dict[str, Any]
    checkpointed: bool
    modes: frozenset[str]
    interrupt_before: tuple[str, ...]
    interrupt_after: tuple[str, ...]
    durability: str
    recursion_limit: int
    stream_keys: tuple[str, ...] = ()
    """The keys of "values" chunks; empty: the output schema's (what invoke returns)."""
    saver: Any = None
    """The checkpointer (None when the run is not checkpointed)."""
    parent: Any = None
    """The task of the enclosing graph when this run is a subgraph's (a TaskContext)."""
    subgraphs: bool = False
    """Stream the chunks of subgraphs too (with their namespaces)."""
    segment: str = ""
    """A subgraph run's part of stream namespaces ("node:task_id")."""
    parents: dict[str, str] = field(default_factory=dict)
    """Checkpoint ids of the enclosing graphs' runs, by namespace (checkpoint metadata)."""
    cache: Any = None
    """Where nodes with a cache_policy (and @task calls with one) keep their results."""
    thread_id: str = field(init=False, default="")
    ns: str = field(init=False, default="")
    fence: Fence | None = field(init=False, default=None)
    """The fence the run's saver calls carry (see checkpoint.base.WriteRules)."""
    start_from: StartFrom | None = field(init=False, default=None)
    """The thread's latest checkpoint as the caller read it (see StartFrom); taken by the
    run's open."""
    meta_extra: dict[str, Any] = field(init=False, default_factory=dict)
    """What the config adds to every checkpoint's metadata (see `config_metadata`)."""
    scope: TaskScope = field(init=False)
    """What the run's tasks share."""

    def __init__(self, *, spec: GraphSpec, input: Any, config: dict[str, Any],
                 checkpointed: bool, modes: frozenset[str], interrupt_before: tuple[str, ...],
                 interrupt_after: tuple[str, ...], durability: str, recursion_limit: int,
                 stream_keys: tuple[str, ...] = (), saver: Any = None, parent: Any = None,
                 subgraphs: bool = False, segment: str = "",
                 parents: dict[str, str] | None = None, cache: Any = None) -> None:
        # (written out, with what a __post_init__ would do: one RunParams per invoke)
        self.spec = spec
        self.input = input
        self.config = config
        self.checkpointed = checkpointed
        self.modes = modes
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.durability = durability
        self.recursion_limit = recursion_limit
        self.stream_keys = stream_keys
        self.saver = saver
        self.parent = parent
        self.subgraphs = subgraphs
        self.segment = segment
        self.parents = {} if parents is None else parents
        self.cache = cache
        self.fence = None
        self.start_from = None
        self.meta_extra = _NO_EXTRA
        conf = config.get("configurable", {})
        if START_FROM in conf:  # (rare: the server's worker)
            conf = self._take_start(conf)
        self.thread_id = str(conf.get("thread_id", ""))
        self.ns = str(conf.get("checkpoint_ns", ""))
        if WRITE_RULES in conf:  # (rare: a fenced run, e.g. the server's)
            self.fence = rules_of(self.config).fence
        if self.config.get("metadata") or not conf.keys() <= _NOT_METADATA:
            self.meta_extra = config_metadata(self.config)
        self.scope = TaskScope(self.config, checkpointed, self.ns, saver, cache, durability,
                               self.parents)

    def _take_start(self, conf: dict[str, Any]) -> dict[str, Any]:
        """Take the StartFrom out of the config (a copy: the caller's is left as it is); kept
        only for a checkpointed top-level run in the root namespace, of the thread it names."""
        given = conf[START_FROM]
        if not isinstance(given, StartFrom):
            raise TypeError(f"config['configurable'][{START_FROM!r}] must be a StartFrom, "
                            f"got {type(given).__name__}: {given!r}.")
        conf = {k: v for k, v in conf.items() if k != START_FROM}
        self.config = {**self.config, "configurable": conf}
        tup = given.latest
        if (self.checkpointed and self.parent is None and not conf.get("checkpoint_ns")
                and (tup is None or (tup.config["configurable"].get("thread_id")
                                     == str(conf.get("thread_id", ""))
                                     and not tup.config["configurable"].get("checkpoint_ns")))):
            self.start_from = given
        return conf

    def reach(self, context: Any, store: Any) -> RunParams:
        """Give the run's tasks its context and store (what runtime.context and runtime.store
        show); kept on the scope, set only when there is one (most runs have neither)."""
        if context is not None or store is not None:
            self.scope.context, self.scope.store = context, store
        return self

    def traced(self, name: str) -> RunParams:
        """Open the run's OpenTelemetry span, when traces are made (see pregel/_trace.py)."""
        self.scope.trace = run_trace(name, self)
        return self

    @property
    def listens(self) -> bool:
        """Whether the consumer reads chunks that tasks make while they run (the drivers then
        run every task off the driving thread or as its own asyncio task)."""
        return bool(self.subgraphs or self.modes & STREAM_MODES_FROM_TASKS
                    or (self.parent is not None and self.parent.sink is not None))


_NO_EXTRA: dict[str, Any] = {}
"""meta_extra of a run whose config adds no metadata (shared: never changed, only read)."""

_NOT_METADATA = frozenset({"source", "step", "parents", "thread_id", "checkpoint_id",
                           "checkpoint_ns", "checkpoint_map"})


def config_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """What a run's config adds to its checkpoints' metadata, as LangGraph does: the plain
    values (str, int, float, bool) of config["metadata"], then those of config["configurable"]
    under other names, except private keys ("__..."), the thread's own keys and the keys the
    engine sets."""
    extra: dict[str, Any] = {}
    for source, private in ((config.get("metadata") or {}, False),
                            (config.get("configurable") or {}, True)):
        for key, value in source.items():
            if (isinstance(value, (str, int, float)) and isinstance(key, str)
                    and key not in _NOT_METADATA and key not in extra
                    and not (private and key.startswith("__"))):
                extra[key] = value
    return extra


def checkpoint_metadata(p: RunParams, source: str, step: int) -> CheckpointMetadata:
    """The metadata of a checkpoint the run writes."""
    meta: CheckpointMetadata = {"source": source, "step": step, "parents": p.parents}
    if p.meta_extra:
        meta.update(p.meta_extra)  # type: ignore[typeddict-item]
    return meta


def thread_config(p: RunParams, checkpoint_id: str | None = None,
                   expected_latest: str | None = None) -> dict[str, Any]:
    """The config of a saver call of the run: its thread, namespace and checkpoint, and the
    rules the saver checks (the run's fence; the compare-and-set when `expected_latest`)."""
    conf: dict[str, Any] = {"thread_id": p.thread_id, "checkpoint_ns": p.ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    if p.fence is not None or expected_latest is not None:
        # (tuple.__new__: the NamedTuple's own __new__ is a Python function, one call more
        # for each of the run's saves)
        conf[WRITE_RULES] = tuple.__new__(WriteRules, (expected_latest, p.fence))
    return {"configurable": conf}
