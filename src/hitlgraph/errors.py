"""Every exception hitlgraph raises, with LangGraph's names.

    BaseException
     +-- GraphBubbleUp ............. control flow, never an error (`except Exception` misses it)
     |    +-- GraphInterrupt ............ a node called interrupt(); the run pauses
     |    +-- ParentCommand ............. a subgraph node routes in its parent graph
     +-- Exception
          +-- RuntimeError
          |    +-- RecursionError
          |    |    +-- GraphRecursionError ....... recursion_limit supersteps ran without finishing
          |    +-- CheckpointerRequiredError ...... a feature needs a checkpointer the graph lacks
          +-- ValueError
          |    +-- GraphValidationError ........... compile() found problems in the graph
          |    +-- InvalidUpdateError ............. a write the state cannot take
          |    +-- EmptyInputError ................ nothing to run: no input and no checkpoint
          |    +-- ResumeError .................... a Command(resume=...) that nothing can take
          |                                         (also a RuntimeError, as LangGraph raises)
          |    +-- ThreadIdRequiredError .......... a checkpointed run without a thread id
          +-- CheckpointConflictError ............. the thread moved on while this run worked
               +-- FencedWriteError ............... another worker holds the run's lease now
          +-- EmptyChannelError ................... a channel read before it has a value

Messages say what happened, where, and what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from hitlgraph._control import Interrupt

if TYPE_CHECKING:
    from hitlgraph._control import Command

__all__ = [
    "CheckpointConflictError",
    "FencedWriteError",
    "CheckpointerRequiredError",
    "EmptyInputError",
    "ErrorCode",
    "GraphBubbleUp",
    "GraphInterrupt",
    "GraphRecursionError",
    "GraphValidationError",
    "InvalidAnswerError",
    "InvalidUpdateError",
    "NodeInterrupt",
    "ParentCommand",
    "ResumeError",
    "ThreadIdRequiredError",
    "EmptyChannelError",
]


class EmptyChannelError(Exception):
    """A channel was read before it had a value (LangGraph's name; channels' get() raises it,
    and the engine treats the key as unset)."""


class ErrorCode(Enum):
    """Stable codes for the errors users hit most, as LangGraph names them."""

    GRAPH_RECURSION_LIMIT = "GRAPH_RECURSION_LIMIT"
    INVALID_CONCURRENT_GRAPH_UPDATE = "INVALID_CONCURRENT_GRAPH_UPDATE"
    INVALID_GRAPH_NODE_RETURN_VALUE = "INVALID_GRAPH_NODE_RETURN_VALUE"
    MULTIPLE_SUBGRAPHS = "MULTIPLE_SUBGRAPHS"
    INVALID_CHAT_HISTORY = "INVALID_CHAT_HISTORY"


class GraphBubbleUp(BaseException):
    """Control flow that travels up through nodes; derives from BaseException so that a
    node's `except Exception:` cannot swallow it."""


class GraphInterrupt(GraphBubbleUp):
    """Raised by interrupt() to pause the run; carries the Interrupt values."""

    def __init__(self, interrupts: Sequence[Interrupt] = ()) -> None:
        super().__init__(tuple(interrupts))
        self.interrupts: tuple[Interrupt, ...] = tuple(interrupts)


class NodeInterrupt(GraphInterrupt):
    """Deprecated in LangGraph: raise it from a node to pause with `value`. Prefer interrupt()."""

    def __init__(self, value: Any, id: str | None = None) -> None:
        super().__init__([Interrupt(value=value, id=id or "")])


class ParentCommand(GraphBubbleUp):
    """Carries a Command(graph=Command.PARENT) from a subgraph's node to its parent."""

    def __init__(self, command: Command[Any]) -> None:
        super().__init__(command)
        self.command = command


class GraphRecursionError(RecursionError):
    """The graph ran `recursion_limit` supersteps without reaching END.

    Raise the limit with config["recursion_limit"], or check the graph for a loop without exit.
    """


class CheckpointerRequiredError(RuntimeError):
    """A feature needing saved state (interrupt(), breakpoints, get_state) has no checkpointer."""


class GraphValidationError(ValueError):
    """compile() found one or more problems; `problems` lists each, the message shows them all."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(self.problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            super().__init__(f"The graph has {len(self.problems)} problems:\n{lines}")


class InvalidUpdateError(ValueError):
    """A write the state cannot take: two writes to a key without reducer, an unknown key,
    a node returning something other than a dict, Command or None."""


class EmptyInputError(ValueError):
    """invoke(None) on a thread that has no checkpoint: there is nothing to continue."""


class ResumeError(ValueError, RuntimeError):
    """Command(resume=...) that no pending interrupt can take."""


class InvalidAnswerError(ResumeError):
    """An answer that does not match the response_schema its interrupt() asked for.

    Raised by the resume before any node runs or anything is written: the thread still waits on
    the same interrupt. `errors` lists each problem as {"loc": [path...], "msg": text};
    `interrupt_id` names the interrupt answered.
    """

    def __init__(self, message: str, *, interrupt_id: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.interrupt_id = interrupt_id
        self.errors = errors


class ThreadIdRequiredError(ValueError):
    """A graph with a checkpointer was run without config["configurable"]["thread_id"]."""


class CheckpointConflictError(RuntimeError):
    """The thread's latest checkpoint changed while this run was working: another run moved on.

    Attributes name the thread and the checkpoint this run expected to extend.
    """

    def __init__(self, thread_id: str, expected: str | None, actual: str | None, *,
                 answered: bool = False) -> None:
        self.thread_id = thread_id
        self.expected = expected
        self.actual = actual
        self.answered = answered
        if answered:
            message = (
                f"Thread '{thread_id}' moved on: another resume answered this interrupt at "
                f"checkpoint '{expected}' first. Read the thread's state again (get_state) to see "
                "what it waits for now."
            )
        else:
            message = (
                f"Thread '{thread_id}' moved on: this run started from checkpoint '{expected}' "
                f"but the latest is now '{actual}'. Another run resumed or updated it first; read "
                "the thread's state again (get_state) and decide whether to resume it."
            )
        super().__init__(message)


class FencedWriteError(CheckpointConflictError):
    """A write carried a fence token that is no longer current: whoever holds the run's lease
    now is another worker, and this one must stop without writing."""

    def __init__(self, thread_id: str, key: str, token: int, current: int | None) -> None:
        RuntimeError.__init__(
            self,
            f"Write to thread '{thread_id}' refused: its fence '{key}' is at token {current}, "
            f"this writer holds token {token}. Another worker took the lease over; stop this "
            "run here (the new holder continues it from the last checkpoint).",
        )
        self.thread_id = thread_id
        self.expected = None
        self.actual = None
        self.answered = False
        self.key = key
        self.token = token
        self.current = current
