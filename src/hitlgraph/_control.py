"""Interrupt, Send and Command: the values by which nodes and callers steer a run (ask a
question, fan out, update and route, answer).

They live in this leaf module, below the serializer that stores them in checkpoints, so that
`hitlgraph.types` (which re-exports them) can use the serializer without an import cycle. Their
`__module__` is their public home, `hitlgraph.types`: the name checkpoints store for them, and
pickles, stay what they always were.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from hitlgraph._policy import ReviewPolicy

__all__ = ["Command", "Interrupt", "Send"]

N = TypeVar("N", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Interrupt:
    """A question a paused graph asks; answer it with `Command(resume=...)`.

    Attributes:
        value: what the node passed to interrupt(), shown to the person.
        id: stable id; `Command(resume={id: answer})` answers this one when several wait.
        response_schema: the JSON Schema an answer must match (hitlgraph's addition).
        policy: deadlines, assignment and approvals asked for it (hitlgraph's addition).
    """

    value: Any
    id: str = ""
    response_schema: Any = None
    policy: ReviewPolicy | None = None

    def __repr__(self) -> str:
        # LangGraph's fields (1.2 has response_schema too), then the policy when there is one
        policy = "" if self.policy is None else f", policy={self.policy!r}"
        return (f"Interrupt(value={self.value!r}, id={self.id!r}, "
                f"response_schema={self.response_schema!r}{policy})")


@dataclass(frozen=True, slots=True)
class Send:
    """Run `node` in the next step with `arg` as its own input (a map step).

    Return a list of these from a conditional edge to fan out.
    """

    node: str
    arg: Any

    def __init__(self, node: str, arg: Any) -> None:
        object.__setattr__(self, "node", node)
        object.__setattr__(self, "arg", arg)

    def __repr__(self) -> str:
        return f"Send(node={self.node!r}, arg={self.arg!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Generic[N]):
    """Returned by a node to update state and route; passed as input to resume a paused run.

    Attributes:
        graph: None for the current graph, Command.PARENT for the closest parent graph.
        update: state update, applied like a node's returned dict.
        resume: the answer to interrupt(): a value, or `{interrupt_id: value}` for several.
        goto: node name(s) or Send(s) to run next.
        by: who gives the `resume` answer (hitlgraph's addition): recorded in the saver's
            decision log (hitlgraph.review.Decision) with the answer; None when not said.
        reason: why, in the person's words; recorded beside `by`.

    Example:
        >>> Command(resume={"approved": True}, by="alice", reason="amount under limit")
        Command(resume={'approved': True}, by='alice', reason='amount under limit')
    """

    graph: str | None = None
    update: Any | None = None
    resume: dict[str, Any] | Any | None = None
    goto: Send | Sequence[Send | N] | N = ()
    by: str | None = None
    reason: str | None = None

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __post_init__(self) -> None:
        # checked here, where the caller's mistake is made, rather than when the saver writes
        # the decision log (a wrong type there would fail after the answer was claimed)
        for name in ("by", "reason"):
            value = getattr(self, name)
            if value is not None and type(value) is not str:
                raise TypeError(
                    f"Command({name}=...) must be a str or None, got "
                    f"{type(value).__name__}: {value!r}.")
        if self.by is not None and not self.by.strip():
            raise ValueError("Command(by=...) must name someone: got an empty name. Leave it "
                             "out (None) when nobody is named.")

    def __repr__(self) -> str:
        parts = [
            f"{k}={getattr(self, k)!r}"
            for k in ("graph", "update", "resume", "goto", "by", "reason")
            if getattr(self, k) not in (None, ())
        ]
        return f"Command({', '.join(parts)})"


for _cls in (Interrupt, Send, Command):
    _cls.__module__ = "hitlgraph.types"
