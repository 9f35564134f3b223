"""The running task, found by interrupt(), get_config() and stream writers through a ContextVar."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Any

from hitlgraph._control import Interrupt
from hitlgraph._ids import interrupt_id
from hitlgraph._ids import task_id as make_task_id
from hitlgraph._policy import ReviewPolicy
from hitlgraph._running import current as _current
from hitlgraph.checkpoint.base import WRITE_RULES, WriteRules, rules_of
from hitlgraph.errors import CheckpointerRequiredError, GraphInterrupt
from hitlgraph.review._answers import check_answer, schema_of, typed_answer
from hitlgraph.review._approvals import decisions_of
from hitlgraph.runtime import ExecutionInfo, Runtime, ServerInfo

_TO_METADATA = ("thread_id", "checkpoint_id", "checkpoint_ns", "task_id", "run_id",
                "assistant_id", "graph_id")
"""Keys of config["configurable"] that LangGraph also copies into a node's config["metadata"]."""


def _ignore(_chunk: Any) -> None:
    return None


class _Empty(Mapping[str, Any]):
    """An empty, immutable, hashable map: the default of TaskContext's maps (a task that
    needs one of its own gets a new dict)."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0


_NOTHING: Mapping[str, Any] = _Empty()


@dataclass(slots=True)
class StreamSink:
    """Where chunks made while a task runs go: custom writes, chat model tokens, and the chunks
    of subgraphs. `put(mode, chunk, namespace)` may be called from any thread."""

    modes: frozenset[str]
    subgraphs: bool
    put: Callable[[str, Any, tuple[str, ...]], None]


@dataclass(slots=True)
class TaskCalls:
    """The @task calls of one run of a node: numbered in call order (so a rerun finds the
    results earlier runs saved), recorded as they finish (from any thread)."""

    saved: Mapping[str, Any] = _NOTHING
    """Results of calls from earlier runs of the node, by call id."""
    count: int = 0
    done: list[tuple[str, str, Any, Any, bool]] = field(default_factory=list)
    """(task name, call id, (args, kwargs), result, from the cache) of the calls this run of
    the node completed, in the order they finished."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_id(self, task_id: str, name: str) -> str:
        """The id of the next call (made on the node's thread, in call order)."""
        call_id = make_task_id(task_id, "task", self.count, name)
        self.count += 1
        return call_id

    def record(self, name: str, call_id: str, call_input: Any, value: Any, cached: bool
               ) -> None:
        with self._lock:
            self.done.append((name, call_id, call_input, value, cached))


@dataclass(slots=True)
class TaskScope:
    """What every task of one run shares: the run's settings, made once per run rather than
    copied into each task (a step's cost is mostly making its tasks)."""

    config: dict[str, Any]
    """The run's config; each task's own (with its metadata) is built on first use."""
    checkpointed: bool
    ns: str = ""
    """The checkpoint namespace of the run's graph ("" at the top)."""
    saver: Any = None
    """The checkpointer of the run; subgraphs run inside its tasks inherit it."""
    cache: Any = None
    """The cache of the run (a BaseCache), for @task calls with a cache_policy."""
    durability: str = "async"
    """With "exit", @task results are saved with the run's other writes when it ends or
    pauses, not as each call finishes."""
    parents: Mapping[str, str] = _NOTHING
    """Checkpoint ids of the graphs enclosing the run's graph, by namespace."""
    sink: StreamSink | None = None
    """Where chunks made while tasks run go (set by the driver: `TaskContext.attach`)."""
    persist: Callable[[Any], Any] | None = None
    """Where tasks' @task calls save their results (the driver's saver access; None when the
    run has no saver). Called with a SaveWrites effect; may return an awaitable."""
    context: Any = None
    """The run's context (invoke(..., context=...)), coerced to the graph's context_schema;
    never checkpointed."""
    store: Any = None
    """The store nodes reach (the `store` argument, runtime.store)."""
    trace: Any = None
    """The run's span (a pregel._trace.RunTrace) when OpenTelemetry traces are made."""


@dataclass(slots=True)
class TaskContext:
    """What a node's code can reach while it runs."""

    task_id: str
    name: str
    path: tuple[Any, ...]
    step: int
    scope: TaskScope
    checkpoint_id: str = ""
    """The checkpoint whose next step this task is."""
    resume: Mapping[str, Any] = _NOTHING
    """Answers given to interrupts raised in this task (by its interrupt() calls or by a subgraph
    it runs), by interrupt id."""
    calls: int = 0
    rerun: bool = False
    """The task ran before and paused: a subgraph it runs continues where it stopped."""
    subgraph_calls: int = 0
    calls_made: TaskCalls | None = None
    """The @task calls of this run of the node (None until it makes one: see task_calls)."""
    streamed: AbstractSet[str] = frozenset()
    """Ids of messages already streamed token by token ("messages" mode)."""
    attempt: int = 0
    """The attempt of the node's retry policy running now (0: the node has no retry policy)."""
    first_attempt_at: float | None = None
    previous: Any = None
    """The functional API's previous return value (runtime.previous)."""
    _config: dict[str, Any] | None = None
    _runtime: Runtime[Any] | None = None

    @property
    def base_config(self) -> dict[str, Any]:
        return self.scope.config

    @property
    def checkpointed(self) -> bool:
        return self.scope.checkpointed

    @property
    def ns(self) -> str:
        return self.scope.ns

    @property
    def saver(self) -> Any:
        return self.scope.saver

    @property
    def cache(self) -> Any:
        return self.scope.cache

    @property
    def durability(self) -> str:
        return self.scope.durability

    @property
    def sink(self) -> StreamSink | None:
        return self.scope.sink

    @property
    def persist(self) -> Callable[[Any], Any] | None:
        return self.scope.persist

    @property
    def task_calls(self) -> TaskCalls:
        """The @task calls of this run of the node (made on first use)."""
        if self.calls_made is None:
            self.calls_made = TaskCalls()
        return self.calls_made

    def attach(self, sink: StreamSink | None, persist: Callable[[Any], Any] | None) -> None:
        """The driver that runs the task gives it (and its run's other tasks: one driver runs
        them all) where chunks and @task results go."""
        scope = self.scope
        scope.sink, scope.persist = sink, persist

    def continue_from(self, *, answers: Mapping[str, Any] | None = None, rerun: bool = False,
                      results: Mapping[str, Any] | None = None) -> None:
        """What earlier runs of this task left (set by the loop before it runs again): answers
        to its interrupts by id, whether it ran and stopped before, its @task results."""
        if answers is not None:
            self.resume = dict(answers)
        self.rerun = self.rerun or rerun
        if results:
            self.task_calls.saved = results

    def mark_streamed(self, message_id: str) -> None:
        """A message this task made was streamed already (not shown again when it returns)."""
        self.streamed = self.streamed | {message_id}

    @property
    def writer(self) -> Callable[[Any], None]:
        """The "custom" stream writer of this task (does nothing when nobody listens)."""
        sink = self.sink
        if sink is None or "custom" not in sink.modes:
            return _ignore

        def write(chunk: Any) -> None:
            sink.put("custom", chunk, ())

        return write

    def start_attempt(self) -> None:
        """A new attempt of the node starts (its interrupt() count starts over)."""
        self.calls = 0
        self.attempt += 1
        if self.first_attempt_at is None:
            self.first_attempt_at = time.time()
        self._runtime = None

    def set_previous(self, value: Any) -> None:
        """An @entrypoint's task: what its last run on the thread returned."""
        self.previous, self._runtime = value, None

    @property
    def runtime(self) -> Runtime[Any]:
        """The Runtime the node gets (its `runtime` argument, get_runtime())."""
        if self._runtime is None:
            self._runtime = task_runtime(self)
        return self._runtime

    def injected(self, name: str) -> Any:
        """The value of a run-time argument the node takes by name (see NodeSpec.injects)."""
        if name == "writer":
            return self.writer
        if name == "store":
            return self.scope.store
        return self.runtime

    def message_metadata(self) -> dict[str, Any]:
        """The metadata of "messages" chunks this task makes."""
        config = self.config
        # As langchain-core does, plain configurable values are copied into the metadata.
        conf = {k: v for k, v in config.get("configurable", {}).items()
                if not k.startswith("__") and isinstance(v, (str, int, float, bool))
                and (k != "checkpoint_ns" or v)}
        return {**conf, **config["metadata"]}

    def emit_message(self, message: Any) -> None:
        """Stream a message (or a chunk of one) in "messages" mode, if anyone listens."""
        sink = self.sink
        if sink is not None and "messages" in sink.modes:
            msg_id = getattr(message, "id", None)
            if msg_id:
                self.mark_streamed(msg_id)
            sink.put("messages", (message, self.message_metadata()), ())

    def child_namespace(self) -> str:
        """The checkpoint namespace of the next subgraph this task runs."""
        segment = f"{self.name}:{self.task_id}"
        if self.subgraph_calls:
            segment += f"|{self.subgraph_calls}"
        self.subgraph_calls += 1
        return f"{self.ns}|{segment}" if self.ns else segment

    def results_config(self) -> dict[str, Any]:
        """The config under which the task's @task results are saved: the task's checkpoint,
        guarded by the run's fence."""
        conf = self.base_config.get("configurable", {})
        fence = rules_of(self.base_config).fence
        configurable = {"thread_id": conf.get("thread_id"), "checkpoint_ns": self.ns,
                        "checkpoint_id": self.checkpoint_id}
        if fence is not None:
            configurable[WRITE_RULES] = WriteRules(fence=fence)
        return {"configurable": configurable}

    @property
    def config(self) -> dict[str, Any]:
        """The config the node sees: the run's, with LangGraph's task metadata keys."""
        if self._config is None:
            base = self.base_config
            pull = self.path[0] == "__pregel_pull"
            conf = base.get("configurable", {})
            metadata = {
                **{k: conf[k] for k in _TO_METADATA if conf.get(k)},
                **base.get("metadata", {}),
                "langgraph_step": self.step,
                "langgraph_node": self.name,
                "langgraph_triggers": (f"branch:to:{self.name}",) if pull else ("__pregel_push",),
                "langgraph_path": self.path,
                "langgraph_checkpoint_ns": (f"{self.ns}|{self.name}:{self.task_id}" if self.ns
                                            else f"{self.name}:{self.task_id}"),
            }
            self._config = {**base, "metadata": metadata}
        return self._config

    def interrupt(self, value: Any, response_schema: Any = None,
                  policy: ReviewPolicy | None = None) -> Any:
        if not self.checkpointed:
            raise CheckpointerRequiredError(
                f"Node '{self.name}' called interrupt(), but the graph has no checkpointer to keep "
                "the paused run. Pass one to compile(), e.g. "
                "builder.compile(checkpointer=InMemorySaver())."
            )
        iid = interrupt_id(self.task_id, self.calls)
        self.calls += 1
        schema = schema_of(response_schema) if response_schema is not None else None
        if iid in self.resume:
            if policy is not None and policy.approvals > 1:
                return [replace(d, answer=_typed(iid, response_schema, schema, d.answer))
                        for d in decisions_of(self.resume[iid], iid)]
            return _typed(iid, response_schema, schema, self.resume[iid])
        raise GraphInterrupt([Interrupt(value=value, id=iid, response_schema=schema,
                                        policy=policy)])


def _typed(iid: str, response_schema: Any, schema: dict[str, Any] | None, answer: Any) -> Any:
    """An answer as interrupt() returns it: typed by its response_schema, checked again (a
    resume checks it before anything runs, too)."""
    if schema is None:
        return answer
    check_answer(iid, schema, answer)
    return typed_answer(response_schema, answer)


def task_runtime(task: TaskContext) -> Runtime[Any]:
    """The Runtime of `task`: its run's context and store, its stream writer, where it runs."""
    conf = task.base_config.get("configurable", {})
    ns = f"{task.ns}|{task.name}:{task.task_id}" if task.ns else f"{task.name}:{task.task_id}"
    run_id = task.base_config.get("run_id")
    info = ExecutionInfo(
        checkpoint_id=task.checkpoint_id, checkpoint_ns=ns, task_id=task.task_id,
        thread_id=conf.get("thread_id") if task.checkpointed else None,
        run_id=str(run_id) if run_id else None, node_attempt=max(task.attempt, 1),
        node_first_attempt_time=task.first_attempt_at or time.time(),
    )
    assistant, graph = conf.get("assistant_id"), conf.get("graph_id")
    server = (ServerInfo(str(assistant or ""), str(graph or ""))
              if assistant is not None or graph is not None else None)
    scope = task.scope
    return Runtime(context=scope.context, store=scope.store, stream_writer=task.writer,
                   previous=task.previous, execution_info=info, server_info=server)


def running_task() -> TaskContext | None:
    """The task running in this context, if any (a graph invoked inside it is a subgraph)."""
    return _current.get()


def emit_message_chunk(message: Any) -> None:
    """Called by chat models as they stream: sends `message` (a chunk) to the "messages" stream
    of the running node, if there is one and anyone listens."""
    task = _current.get()
    if task is not None:
        task.emit_message(message)


def set_task(task: TaskContext | None) -> None:
    """Make `task` the running one in the current context (each task runs in its own copy)."""
    _current.set(task)
