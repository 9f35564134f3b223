"""Run-time context: what a node can reach besides its state, as LangGraph's `langgraph.runtime`.

A node (or an @entrypoint function) that takes a parameter named `runtime` gets a `Runtime`:
the run's `context` (given to invoke/stream as `context=...`, never checkpointed: a resume
passes it again), the graph's `store`, the "custom" `stream_writer`, the functional API's
`previous` return value, and `execution_info` (which checkpoint, namespace, task and thread the
node runs for). `get_runtime()` returns the same object from anywhere inside the node.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from hitlgraph._running import current_task

__all__ = ["ExecutionInfo", "Runtime", "ServerInfo", "coerce_context", "get_runtime"]

ContextT = TypeVar("ContextT")


def _no_op_writer(_chunk: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Where the running node is: its checkpoint, namespace, task and thread, and its attempt."""

    checkpoint_id: str
    checkpoint_ns: str
    """The task's own namespace ("node:task_id", under its graph's namespace)."""
    task_id: str
    thread_id: str | None = None
    """None when the run has no checkpointer."""
    run_id: str | None = None
    """config["run_id"], when the caller gave one."""
    node_attempt: int = 1
    """The attempt of the node's retry policy this run is (1 for the first)."""
    node_first_attempt_time: float | None = None
    """When the first attempt started (seconds since the epoch)."""

    def patch(self, **overrides: Any) -> ExecutionInfo:
        """A copy with the given fields replaced."""
        return replace(self, **overrides)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Set when the run is executed by `hitlgraph serve`: the assistant and graph it runs."""

    assistant_id: str
    graph_id: str
    user: Any = None


@dataclass(frozen=True, slots=True)
class Runtime(Generic[ContextT]):
    """The run-scoped things a node can use besides its state and config."""

    context: ContextT = field(default=None)  # type: ignore[assignment]
    """What the caller passed as `context=` (coerced to the graph's context_schema)."""
    store: Any = None
    """The graph's store (a BaseStore), if it was compiled with one."""
    stream_writer: Callable[[Any], None] = _no_op_writer
    """Sends a chunk to the "custom" stream (does nothing when nobody listens)."""
    previous: Any = None
    """The functional API's previous return value on this thread (None in a StateGraph)."""
    execution_info: ExecutionInfo | None = None
    server_info: ServerInfo | None = None

    def merge(self, other: Runtime[ContextT]) -> Runtime[ContextT]:
        """`other`'s values where it has them, this runtime's elsewhere."""
        return Runtime(
            context=other.context or self.context,
            store=other.store or self.store,
            stream_writer=(self.stream_writer if other.stream_writer is _no_op_writer
                           else other.stream_writer),
            previous=self.previous if other.previous is None else other.previous,
            execution_info=other.execution_info or self.execution_info,
            server_info=other.server_info or self.server_info,
        )

    def override(self, **overrides: Any) -> Runtime[ContextT]:
        """A copy with the given fields replaced."""
        return replace(self, **overrides)


def get_runtime(context_schema: type[ContextT] | None = None) -> Runtime[ContextT]:
    """The Runtime of the node running now (`context_schema` only helps type checkers).

    Raises:
        RuntimeError: when called outside a running node.
    """
    return current_task("get_runtime()").runtime


def _is_model_class(schema: Any) -> bool:
    return isinstance(schema, type) and (
        dataclasses.is_dataclass(schema)
        or (hasattr(schema, "model_validate") and hasattr(schema, "model_fields")))


def coerce_context(schema: Any, context: Any) -> Any:
    """The run's context: a dict given for a dataclass or pydantic context_schema becomes an
    instance of it (as LangGraph does); anything else is kept as given.

    Raises:
        TypeError: when the schema is a dataclass or pydantic model and `context` is neither a
            dict nor an instance of it (LangGraph would hand the node the wrong object).
    """
    if context is None or schema is None or not _is_model_class(schema):
        return context
    if isinstance(context, dict):
        return schema(**context)
    if not isinstance(context, schema):
        raise TypeError(
            f"context must be a {schema.__name__} (the graph's context_schema) or a dict of "
            f"its fields, got {type(context).__name__}: {context!r}."
        )
    return context
