"""Chat model events of the "events" stream mode: `on_chat_model_start`, one
`on_chat_model_stream` per token chunk, and `on_chat_model_end`, for each LangChain chat model
a node calls, as LangGraph's server sends them.

LangChain calls the callback handlers of a run's callback manager; a configure hook (LangChain's
own mechanism, the one LangSmith tracing uses) adds ours to every callback manager configured
while a run that asked for "events" executes (a context variable set by listen(), which the
graph's tasks inherit). The node a model call belongs to is read from the metadata hitlgraph
gives LangChain calls made inside a node (it does so while the run streams "messages", which the
worker asks for along with "events"). Handlers are called in the node's thread: the events wait
in a thread-safe queue until the worker drains it, which it does before each chunk of the run,
so they come before the node's own end, and with the chunks of "messages" as tokens stream.

Only LangChain chat models make these events (hitlgraph's ScriptedChatModel does not), and a
model called inside a LangChain chain in a node names the node as its parent, not the chain.
"""

from __future__ import annotations

import sys
from collections import deque
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from hitlgraph.server._events import Sse, node_run_id, sse

__all__ = ["ModelEvents", "listen"]

_handler_var: ContextVar[Any] = ContextVar("hitlgraph_model_events", default=None)
_handler_class: type[Any] | None = None


class ModelEvents:
    """The chat model events of one run, queued until the worker sends them."""

    def __init__(self, run_id: str, tags: list[str], *, tags_in_metadata: bool) -> None:
        self.run_id = run_id
        self.tags = tags
        self.tags_in_metadata = tags_in_metadata
        """Whether the run also streams "messages": LangGraph's handler of that mode then writes
        the call's tags (but `seq:step` ones) into the metadata it shares with the events."""
        self.queue: deque[Sse] = deque()
        self.models: dict[UUID, dict[str, Any]] = {}
        """What each model call's events repeat (name, tags, metadata, parents), by run id."""

    def drain(self) -> list[Sse]:
        """The events queued so far."""
        out: list[Sse] = []
        while self.queue:
            out.append(self.queue.popleft())
        return out

    def start(self, run_id: UUID, name: str, tags: list[str], metadata: dict[str, Any],
              messages: Any, parent: UUID | None) -> None:
        node_ns = str(metadata.get("langgraph_checkpoint_ns") or "")
        if not node_ns:  # not called inside a node of this run
            return
        task_id = node_ns.rpartition("|")[2].rpartition(":")[2]
        # As in LangGraph, where a node is a sequence: a model the node's function calls is its
        # step 1, and LangChain copies the task's configurable checkpoint_ns into metadata.
        own_tags = list(dict.fromkeys([*tags, *(["seq:step:1"] if parent is None else []),
                                       *self.tags]))
        metadata = {**metadata, "checkpoint_ns": node_ns}
        user_tags = [t for t in own_tags if not t.startswith("seq:step")]
        if self.tags_in_metadata and user_tags:
            metadata["tags"] = user_tags
        common = {"name": name, "tags": own_tags, "run_id": str(run_id), "metadata": metadata,
                  "parent_ids": [self.run_id, node_run_id(self.run_id, task_id)],
                  "input": {"messages": messages}}
        self.models[run_id] = common
        self._put("on_chat_model_start", run_id, {"input": common["input"]})

    def token(self, run_id: UUID, chunk: Any) -> None:
        if chunk is not None:
            self._put("on_chat_model_stream", run_id, {"chunk": chunk})

    def end(self, run_id: UUID, output: Any) -> None:
        common = self.models.get(run_id)
        if common is not None:
            self._put("on_chat_model_end", run_id, {"output": output,
                                                    "input": common["input"]})
            del self.models[run_id]

    def _put(self, event: str, run_id: UUID, data: dict[str, Any]) -> None:
        common = self.models.get(run_id)
        if common is None:
            return
        self.queue.append(sse({"event": event, "data": data, "name": common["name"],
                               "tags": common["tags"], "run_id": common["run_id"],
                               "metadata": common["metadata"],
                               "parent_ids": common["parent_ids"]}))


def listen(run_id: str, tags: list[str], *, tags_in_metadata: bool) -> ModelEvents | None:
    """Collect the chat model events of the run executing in this context (and the tasks it
    starts); None when the program does not use langchain-core."""
    if "langchain_core" not in sys.modules:
        return None
    events = ModelEvents(run_id, tags, tags_in_metadata=tags_in_metadata)
    _handler_var.set(_handler()(events))
    return events


def _handler() -> type[Any]:
    """The handler class, made (and its configure hook registered) on first use."""
    global _handler_class
    if _handler_class is None:
        from langchain_core.tracers.context import register_configure_hook

        _handler_class = _make_handler_class()
        register_configure_hook(_handler_var, True)
    return _handler_class


def _make_handler_class() -> type[Any]:
    from langchain_core.callbacks import BaseCallbackHandler

    class ModelEventsHandler(BaseCallbackHandler):
        """Forwards a chat model's start, tokens and end to a run's ModelEvents."""

        run_inline = True

        def __init__(self, events: ModelEvents) -> None:
            self.events = events

        def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, *,
                                run_id: UUID, parent_run_id: UUID | None = None,
                                tags: list[str] | None = None,
                                metadata: dict[str, Any] | None = None,
                                name: str | None = None, **kwargs: Any) -> None:
            self.events.start(run_id, name or _serialized_name(serialized), tags or [],
                              metadata or {}, messages, parent_run_id)

        def on_llm_new_token(self, token: Any, *, chunk: Any = None, run_id: UUID,
                             **kwargs: Any) -> None:
            self.events.token(run_id, getattr(chunk, "message", None))

        def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
            generations = [g for batch in response.generations for g in batch]
            self.events.end(run_id, generations[-1].message if generations else None)

    return ModelEventsHandler


def _serialized_name(serialized: dict[str, Any] | None) -> str:
    """The name LangChain gives a run without one: its serialized name, or class path's end."""
    if serialized:
        if "name" in serialized:
            return str(serialized["name"])
        if serialized.get("id"):
            return str(serialized["id"][-1])
    return "Unnamed"

