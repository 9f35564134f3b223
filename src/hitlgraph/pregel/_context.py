"""The running task, found by interrupt(), get_config() and stream writers through a ContextVar."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from hitlgraph._ids import interrupt_id
from hitlgraph.errors import CheckpointerRequiredError, GraphInterrupt
from hitlgraph.types import Interrupt

_MISSING: Any = object()


@dataclass(slots=True, kw_only=True)
class TaskContext:
    """What a node's code can reach while it runs."""

    task_id: str
    name: str
    base_config: dict[str, Any]
    """The run's config; the task's own (with its metadata) is built on first use."""
    path: tuple[Any, ...]
    step: int
    checkpointed: bool
    resume: list[Any] = field(default_factory=list)
    """Answers already given to this task's interrupt() calls, in order."""
    pending_resume: Any = _MISSING
    """An answer given without an id, for the next unanswered interrupt() call."""
    used_pending: bool = False
    calls: int = 0
    writer: Callable[[Any], None] | None = None
    _config: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        """The config the node sees: the run's, with LangGraph's task metadata keys."""
        if self._config is None:
            base = self.base_config
            pull = self.path[0] == "__pregel_pull"
            metadata = {
                **base.get("metadata", {}),
                "langgraph_step": self.step,
                "langgraph_node": self.name,
                "langgraph_triggers": (f"branch:to:{self.name}",) if pull else ("__pregel_push",),
                "langgraph_path": self.path,
                "langgraph_checkpoint_ns": f"{self.name}:{self.task_id}",
            }
            self._config = {**base, "metadata": metadata}
        return self._config

    def interrupt(self, value: Any, response_schema: Any = None) -> Any:
        if not self.checkpointed:
            raise CheckpointerRequiredError(
                f"Node '{self.name}' called interrupt(), but the graph has no checkpointer to keep "
                "the paused run. Pass one to compile(), e.g. "
                "builder.compile(checkpointer=InMemorySaver())."
            )
        index = self.calls
        self.calls += 1
        if index < len(self.resume):
            return self.resume[index]
        if index == len(self.resume) and self.pending_resume is not _MISSING:
            answer = self.pending_resume
            self.pending_resume = _MISSING
            self.used_pending = True
            self.resume.append(answer)
            return answer
        raise GraphInterrupt(
            [Interrupt(value=value, id=interrupt_id(self.task_id, index),
                       response_schema=response_schema)]
        )


_current: ContextVar[TaskContext | None] = ContextVar("hitlgraph_task", default=None)


def current_task(what: str) -> TaskContext:
    """The running task, or a clear error naming `what` was called outside a node."""
    task = _current.get()
    if task is None:
        raise RuntimeError(
            f"{what} can only be called inside a node while the graph is running."
        )
    return task


def set_task(task: TaskContext | None) -> None:
    """Make `task` the running one in the current context (each task runs in its own copy)."""
    _current.set(task)
