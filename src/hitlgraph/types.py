"""Public values passed into and out of graphs: Command, Send, Interrupt, snapshots, policies.

`interrupt()` lives here too, as in LangGraph. This module holds plain values: it imports only
leaf modules (the values stored in checkpoints, the running task's ContextVar, the default
cache key), never the engine. `Overwrite` is imported on first use (PEP 562): it lives with the
channels, which `import hitlgraph.types` need not load.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, TypeVar

from hitlgraph._control import Command, Interrupt, Send
from hitlgraph._lazy import lazy_names
from hitlgraph._policy import Expire, policy_of
from hitlgraph._running import current_task
from hitlgraph.cache._keys import default_cache_key

if TYPE_CHECKING:
    from hitlgraph.channels._overwrite import Overwrite

__all__ = [
    "All",
    "CachePolicy",
    "Checkpointer",
    "Command",
    "Durability",
    "Interrupt",
    "Overwrite",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StreamMode",
    "StreamWriter",
    "interrupt",
]

All = Literal["*"]
"""Passed as interrupt_before / interrupt_after: break at every node."""

StreamMode = Literal["values", "updates", "checkpoints", "tasks", "debug", "messages", "custom"]
"""What a stream yields:

- "values": the whole state after each step (and at the start).
- "updates": `{node: update}` for each node that finished, `{"__interrupt__": (...)}` when paused.
- the rest ("custom", "messages", "debug", "tasks", "checkpoints") as LangGraph documents them.
"""

StreamWriter = Callable[[Any], None]
"""The type of a node's `writer` parameter (and of get_stream_writer()): sends a chunk to the
"custom" stream."""

Durability = Literal["sync", "async", "exit"]
"""When checkpoints are written:

- "sync": each step's checkpoint is saved before the next step starts.
- "async": saved while the next step runs (the default); all are saved before the run returns.
- "exit": only when the run returns, pauses or fails.
"""

Checkpointer = Any
"""What `compile(checkpointer=...)` accepts: a saver, None, or True/False for subgraphs."""


def default_retry_on(exc: Exception) -> bool:
    """Retry network-ish failures, not programming errors (LangGraph's default rule)."""
    if isinstance(
        exc,
        (ValueError, TypeError, ArithmeticError, ImportError, LookupError, NameError,
         SyntaxError, RuntimeError, ReferenceError, StopIteration, StopAsyncIteration, OSError),
    ):
        if isinstance(exc, ConnectionError):
            return True
        return False
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return status >= 500
    return True


class RetryPolicy(NamedTuple):
    """How a failing node is retried.

    Attributes:
        initial_interval: seconds before the first retry.
        backoff_factor: each next interval is multiplied by this.
        max_interval: intervals never exceed this many seconds.
        max_attempts: attempts in all, the first included.
        jitter: add up to 1 second of random time to each interval.
        retry_on: exception class(es), or a predicate taking the exception.
    """

    initial_interval: float = 0.5
    backoff_factor: float = 2.0
    max_interval: float = 128.0
    max_attempts: int = 3
    jitter: bool = True
    retry_on: (
        type[Exception] | Sequence[type[Exception]] | Callable[[Exception], bool]
    ) = default_retry_on

    def should_retry(self, exc: Exception) -> bool:
        """Whether `exc` is one this policy retries."""
        rule = self.retry_on
        if isinstance(rule, type):
            return isinstance(exc, rule)
        if isinstance(rule, Sequence):
            return isinstance(exc, tuple(rule))
        return bool(rule(exc))

    def interval(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        wait = min(self.max_interval, self.initial_interval * self.backoff_factor ** (attempt - 1))
        if not self.jitter:
            return wait
        import random  # only a retry needs it: not loaded by `import hitlgraph.types`

        return wait + random.uniform(0, 1)


KeyFuncT = TypeVar("KeyFuncT", bound=Callable[..., str | bytes])


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePolicy(Generic[KeyFuncT]):
    """How a node's writes (or a @task's result) are cached.

    Attributes:
        key_func: makes the cache key (str or bytes) from the node's input (a @task's
            arguments); by default the input serialized in a stable way.
        ttl: seconds an entry is kept; None keeps it until the cache is cleared.

    Needs a cache: `compile(cache=InMemoryCache())`, or `@entrypoint(cache=...)`.
    """

    key_func: KeyFuncT | Callable[..., str | bytes] = default_cache_key
    ttl: int | None = None


@dataclass(frozen=True, slots=True)
class PregelTask:
    """A task of a checkpoint's next step, as get_state() shows it."""

    id: str
    name: str
    path: tuple[str | int | tuple[Any, ...], ...]
    error: Exception | str | None = None
    interrupts: tuple[Interrupt, ...] = ()
    state: Any = None
    result: Any | None = None


class StateSnapshot(NamedTuple):
    """A thread's state at one checkpoint."""

    values: dict[str, Any] | Any
    """The state's values."""
    next: tuple[str, ...]
    """Names of the nodes that run next; empty when the run is done."""
    config: dict[str, Any]
    """Config that points at this checkpoint."""
    metadata: dict[str, Any] | None
    """source ("input", "loop", "update" or "fork"), step, parents."""
    created_at: str | None
    """ISO 8601 time the checkpoint was written."""
    parent_config: dict[str, Any] | None
    """Config of the checkpoint before this one."""
    tasks: tuple[PregelTask, ...]
    """The next step's tasks, with their interrupts, errors and finished results."""
    interrupts: tuple[Interrupt, ...] = ()
    """Interrupts waiting for an answer."""


def interrupt(value: Any, *, response_schema: Any = None,
              expires_in: timedelta | float | None = None, on_expire: Expire | None = None,
              warn_before: timedelta | float | None = None, assignee: str | None = None,
              group: str | None = None, approvals: int = 1, approvers: Any = None,
              rejection: dict[str, Any] | None = None) -> Any:
    """Pause the graph and ask a person; return their answer once the run is resumed.

    The first time a node reaches this call, the run stops and `value` is shown to the caller
    (under "__interrupt__"). `invoke(Command(resume=answer), config)` runs the node again from
    its start, and this call returns `answer`. Several calls in one node are answered in order.

    Every argument after `value` is hitlgraph's addition (see hitlgraph.review):

    Args:
        value: what the person is shown.
        response_schema: what an answer must match (a pydantic model class, a TypedDict, a
            dataclass or a JSON Schema dict); a resume that does not is refused.
        expires_in: the deadline, from when the interrupt is stored.
        on_expire: what the deadline does: `Expire.answer(value)`, `Expire.cancel()` or
            `Expire.escalate(to=...)` (see `hitlgraph.review.apply_expired`).
        warn_before: when to warn (a notification) before the deadline.
        assignee: the principal the question is for; `group`: the team it is for.
        approvals: how many distinct principals must answer before the node runs again.
            Each answer names its principal (`Command(resume=..., by=...)`) and is stored as
            it comes; until the k-th, the run ends with the interrupt still open. Then this
            call returns the list of answers as `hitlgraph.review.Approval` objects (`by`,
            `answer`, `at`) instead of one answer.
        approvers: who may answer: None (anyone), a list of principals, or a group name
            (the library accepts anyone for a group: the server checks membership).
        rejection: the items of an answer that rejects; one rejection decides alone.

    Raises:
        GraphInterrupt: to pause; never catch it (it is not an Exception subclass).
        RuntimeError: outside a running node.
        CheckpointerRequiredError: when the graph has no checkpointer to keep the pause.
        ValueError, TypeError: a policy argument out of range (naming it).

    With `approvals=k`, a resume is refused (ResumeError) when it has no `by`, when `by` is
    not among the listed approvers, or when `by` answered already.
    """
    policy = policy_of(
        expires_in=expires_in, on_expire=on_expire, warn_before=warn_before,
        assignee=assignee, group=group, approvals=approvals, approvers=approvers,
        rejection=rejection)
    return current_task("interrupt()").interrupt(value, response_schema, policy)


__getattr__, __dir__ = lazy_names("hitlgraph.types", {"Overwrite": "hitlgraph.channels._overwrite"},
                                  globals())
