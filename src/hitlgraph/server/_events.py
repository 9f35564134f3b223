"""The "events" stream mode: LangChain's astream_events (v2) events, as LangGraph's server sends
them (SSE event `events`), for the graph's run and for each node it runs.

LangGraph's server gets them from LangChain callbacks, which hitlgraph does not run around its
nodes. They are made here from chunks of hitlgraph's own stream modes, which the worker also asks
for when a client asks for "events" (EVENT_MODES; chunks of a mode the client did not ask for
are not sent): "debug" tells when each task starts (its id, node, input, triggers and step) and
how it ended (done, paused at an interrupt, or failed); "updates" what each node returned;
"values" the state, whose last value is the graph's output. "custom" and "messages" are modes
whose chunks tasks make while they run: asking for them makes the engine send each task's start
as it happens, as LangGraph does, rather than once its step is over, and "messages" also makes
LangChain chat models stream their tokens (their events: _model_events.py).

What is sent, as on LangGraph's server:

- the graph's `on_chain_start` (its name, the run's input or command, the run's id, tags and
  metadata); last, unless the run failed or was cancelled, its `on_chain_end` with the state;
- for each node that runs: `on_chain_start` with its input, then once it finished,
  `on_chain_stream` and `on_chain_end` with what it returned (and its input). A node that
  paused at an interrupt or failed sends neither of the two; the run's `error` event follows
  a failure. A node's run id is new for each task, and its `parent_ids` name the graph's run.

Not sent: events of a subgraph's nodes and of edge functions (routers run as nodes' children
in LangGraph); the graph's own `on_chain_stream` is not sent by LangGraph's server either. A
node that returns a Command shows its update, where LangGraph shows the Command. An
@entrypoint's events show hitlgraph's own task inputs, steps and paths (its node's input as
{"input": ...}, a @task's as [args, kwargs]), not LangGraph's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitlgraph.constants import INTERRUPT, PULL, PUSH
from hitlgraph.func import EntrypointGraph
from hitlgraph.pregel._emit import CACHED_KEY
from hitlgraph.server._json import dumps

__all__ = ["EVENT_MODES", "EventStream", "GraphRun", "Sse", "command_input", "graph_run",
           "node_run_id", "sse"]

EVENT_MODES = ("debug", "updates", "values", "custom", "messages")
"""The graph's stream modes the events are made from (see the module docstring)."""

Sse = tuple[str, str]
"""An SSE event: its name and its data as JSON text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphRun:
    """What the graph's own events say of the run."""

    run_id: str
    name: str
    """The graph's name: as LangGraph's server names it, its graph id unless it was compiled
    with a name of its own."""
    input: Any
    """The run's input, or its command as command_input() shows it."""
    tags: Sequence[str] = ()
    """The tags of the run's config."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """The metadata of the run's config."""


def command_input(command: Mapping[str, Any]) -> dict[str, Any]:
    """A run's command (its JSON body) as the graph's start event shows it: LangGraph's server
    makes it a Command and shows that dataclass's fields, `goto` always a list or null."""
    goto = command.get("goto")
    if goto is not None and not isinstance(goto, list):
        goto = [goto]
    sends = [g if isinstance(g, str) else {"node": g.get("node"), "args": g.get("input")}
             for g in goto or ()]
    return {"graph": None, "update": command.get("update"), "resume": command.get("resume"),
            "goto": sends or None}


def graph_run(*, run_id: str, graph_id: str, graph: Any, kwargs: Mapping[str, Any],
              config: Mapping[str, Any]) -> GraphRun:
    """The GraphRun of a server run of `graph` (served as `graph_id`), asked with `kwargs`
    (its input or command) and run with `config`."""
    # LangGraph names an @entrypoint's graph "LangGraph" too; hitlgraph's is named after it.
    name = None if isinstance(graph, EntrypointGraph) else getattr(graph, "name", None)
    if not isinstance(name, str) or not name or name == "LangGraph":
        name = graph_id
    command = kwargs.get("command")
    return GraphRun(run_id=run_id, name=name,
                    input=command_input(command) if command is not None else kwargs.get("input"),
                    tags=tuple(config.get("tags") or ()), metadata=config.get("metadata") or {})


@dataclass(slots=True, kw_only=True)
class _Node:
    """A node's run (one task) between its start and its end."""

    run_id: str
    name: str
    input: Any
    tags: list[str]
    metadata: dict[str, Any]


class EventStream:
    """Turns one run's chunks (of EVENT_MODES, root graph only) into its `events` SSE events.

    `begin()` once before the graph runs, `feed()` each chunk with the events the worker sends
    for it anyway (held back, when need be, so that they follow the node's end as on
    LangGraph's server), and `end()` once the graph returned.
    """

    def __init__(self, run: GraphRun) -> None:
        self.run = run
        self.metadata = {**run.metadata}
        self.metadata.setdefault("ls_integration", "langgraph")
        self.started: dict[str, _Node] = {}
        """Nodes that started and have not ended, by task id."""
        self.returned: dict[str, list[Any]] = {}
        """What nodes returned ("updates"), by node name, until their task's end is seen."""
        self.held: list[Sse] = []
        self.pushes: dict[int, int] = {}
        """How many Send tasks each step started so far (their index in the step's path)."""
        self.output: Any = None

    def begin(self) -> list[Sse]:
        """The graph's `on_chain_start`."""
        return [sse({"event": "on_chain_start", "data": {"input": self.run.input},
                     "name": self.run.name, "tags": list(self.run.tags),
                     "run_id": self.run.run_id, "metadata": self.metadata,
                     "parent_ids": []})]

    def feed(self, mode: str, chunk: Any, passthrough: Sequence[Sse] = ()) -> list[Sse]:
        """The events to send now for a chunk of `mode`, given the events `passthrough` the
        worker sends for it to the client (those of a mode the client asked for)."""
        out: list[Sse] = []
        if mode == "debug" and isinstance(chunk, Mapping):
            out.extend(self._debug(chunk))
        elif mode == "updates" and isinstance(chunk, Mapping):
            self._returned(chunk)
        elif mode == "values" and isinstance(chunk, Mapping):
            self.output = {k: v for k, v in chunk.items() if k != INTERRUPT}
        elif mode == "values":
            self.output = chunk
        if any(self.returned.values()):  # a node's end is still to come: its update waits
            self.held.extend(passthrough)
            return out
        out.extend(self.held)
        out.extend(passthrough)
        self.held = []
        return out

    def end(self) -> list[Sse]:
        """The graph's `on_chain_end` with its output (after anything still held)."""
        out, self.held = self.held, []
        out.append(sse({"event": "on_chain_end", "data": {"output": self.output},
                        "run_id": self.run.run_id, "name": self.run.name,
                        "tags": list(self.run.tags), "metadata": self.metadata,
                        "parent_ids": []}))
        return out

    def _returned(self, chunk: Mapping[str, Any]) -> None:
        """Keep a node's update for its end event. (An interrupt's, and the writes reused from
        an earlier run or a cache, are not a node that runs now.)"""
        if len(chunk) != 1 or INTERRUPT in chunk or CACHED_KEY in chunk:
            return
        ((name, update),) = chunk.items()
        self.returned.setdefault(name, []).append(update)

    def _debug(self, chunk: Mapping[str, Any]) -> list[Sse]:
        payload = chunk.get("payload")
        if not isinstance(payload, Mapping):
            return []
        if chunk.get("type") == "task":
            return [self._start(payload, int(chunk.get("step") or 0))]
        if chunk.get("type") == "task_result":
            return self._finish(payload)
        return []

    def _start(self, task: Mapping[str, Any], step: int) -> Sse:
        name = str(task.get("name"))
        triggers = list(task.get("triggers") or ())
        node = _Node(run_id=node_run_id(self.run.run_id, str(task.get("id"))), name=name,
                     input=task.get("input"), tags=[f"graph:step:{step}", *self.run.tags],
                     metadata={**self.metadata, "langgraph_step": step, "langgraph_node": name,
                               "langgraph_triggers": triggers,
                               "langgraph_path": self._path(name, triggers, step),
                               "langgraph_checkpoint_ns": f"{name}:{task.get('id')}"})
        self.started[str(task.get("id"))] = node
        return sse({"event": "on_chain_start", "data": {"input": node.input}, "name": name,
                    "tags": node.tags, "run_id": node.run_id, "metadata": node.metadata,
                    "parent_ids": [self.run.run_id]})

    def _path(self, name: str, triggers: list[Any], step: int) -> list[Any]:
        """The task's path: a triggered node's, or the index of a Send among its step's
        (tasks start in the engine's order: triggered nodes, then Sends in order)."""
        if PUSH not in triggers:
            return [PULL, name]
        index = self.pushes.get(step, 0)
        self.pushes[step] = index + 1
        return [PUSH, index, False]

    def _finish(self, result: Mapping[str, Any]) -> list[Sse]:
        node = self.started.pop(str(result.get("id")), None)
        waiting = self.returned.get(str(result.get("name"))) or []
        if node is None or result.get("error") is not None or result.get("interrupts"):
            return []
        output = waiting.pop(0) if waiting else None
        common = {"run_id": node.run_id, "name": node.name, "tags": node.tags,
                  "metadata": node.metadata}
        return [sse({"event": "on_chain_stream", **common, "data": {"chunk": output},
                     "parent_ids": [self.run.run_id]}),
                sse({"event": "on_chain_end", "data": {"output": output, "input": node.input},
                     **common, "parent_ids": [self.run.run_id]})]


def node_run_id(run_id: str, task_id: str) -> str:
    """A node's run id: the same for a task each time a worker runs it within the run (and
    the same for the events of a chat model it calls)."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{run_id}|{task_id}"))


def sse(event: dict[str, Any]) -> Sse:
    """An `events` SSE event."""
    return "events", dumps(event)
