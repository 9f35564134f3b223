"""The ContextVar holding the task that runs in this context.

interrupt(), get_config() and get_stream_writer() find their node's task here. It is a leaf
module so that the public modules holding them (`hitlgraph.types`, `hitlgraph.config`) need not
import the engine, which imports them.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hitlgraph.pregel._context import TaskContext

__all__ = ["current", "current_task"]

current: ContextVar[TaskContext | None] = ContextVar("hitlgraph_task", default=None)
"""The running task; each task runs in its own copy of the context."""


def current_task(what: str) -> TaskContext:
    """The running task, or a clear error naming what was called outside a node."""
    task = current.get()
    if task is None:
        raise RuntimeError(
            f"{what} can only be called inside a node while the graph is running."
        )
    return task
