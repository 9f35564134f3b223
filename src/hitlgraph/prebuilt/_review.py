"""Asking a person about a tool call before it runs: the request, the four answers, and
`with_approval`, which puts that question in front of any tool."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from hitlgraph.checkpoint.serde import register_type
from hitlgraph.errors import GraphInterrupt
from hitlgraph.messages import ToolCall, ToolMessage
from hitlgraph.prebuilt._review_shapes import (
    OTHER_SHAPES,
    RequestFormat,
    UnclearAnswer,
    check_format,
    in_own_shape,
    request_value,
)
from hitlgraph.prebuilt._tools import Runner, ToolLike, as_runner, current_tool_call
from hitlgraph.types import interrupt

__all__ = [
    "REVIEW_KINDS",
    "Accept",
    "ApprovalTool",
    "Edit",
    "Ignore",
    "InvalidReviewAnswerError",
    "Respond",
    "ReviewAnswer",
    "ReviewKind",
    "ToolReviewRequest",
    "ask_for_review",
    "parse_review_answer",
    "with_approval",
]

ReviewKind = Literal["accept", "edit", "respond", "ignore"]
"""How a reviewer can answer about a tool call:

- "accept": run the call as the model asked.
- "edit": run it with other arguments.
- "respond": do not run it; the reviewer's text goes to the model as the call's result.
- "ignore": do not run it; the model is told the call was skipped.
"""

REVIEW_KINDS: tuple[ReviewKind, ...] = ("accept", "edit", "respond", "ignore")
"""Every kind of answer, in the order requests list them."""


@dataclass(frozen=True, slots=True)
class Accept:
    """Run the call as asked. As a resume value: ``{"type": "accept"}``."""

    type: ClassVar[ReviewKind] = "accept"

    def to_dict(self) -> dict[str, Any]:
        """The answer as the dict a reviewer sends."""
        return {"type": "accept"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Edit:
    """Run the call with `args` instead. As a resume value: ``{"type": "edit", "args": {...}}``."""

    args: dict[str, Any]
    """The arguments to run the call with (all of them, not only the changed ones)."""
    type: ClassVar[ReviewKind] = "edit"

    def to_dict(self) -> dict[str, Any]:
        """The answer as the dict a reviewer sends."""
        return {"type": "edit", "args": self.args}


@dataclass(frozen=True, slots=True, kw_only=True)
class Respond:
    """Do not run the call; `content` goes to the model as its result.
    As a resume value: ``{"type": "respond", "content": "..."}``."""

    content: str
    """The reviewer's text, which the model reads as the call's result."""
    type: ClassVar[ReviewKind] = "respond"

    def to_dict(self) -> dict[str, Any]:
        """The answer as the dict a reviewer sends."""
        return {"type": "respond", "content": self.content}


@dataclass(frozen=True, slots=True)
class Ignore:
    """Do not run the call; the model is told it was skipped. As a resume value:
    ``{"type": "ignore"}``."""

    type: ClassVar[ReviewKind] = "ignore"

    def to_dict(self) -> dict[str, Any]:
        """The answer as the dict a reviewer sends."""
        return {"type": "ignore"}


ReviewAnswer = Accept | Edit | Respond | Ignore
"""A reviewer's answer about one tool call."""

_SHAPES: dict[str, str] = {
    "accept": "{'type': 'accept'}",
    "edit": "{'type': 'edit', 'args': {...}}",
    "respond": "{'type': 'respond', 'content': '...'}",
    "ignore": "{'type': 'ignore'}",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolReviewRequest:
    """The question asked about one tool call; the interrupt's value is its `to_dict()`."""

    tool: str
    """The tool's name."""
    args: dict[str, Any]
    """The arguments the model asked for."""
    id: str
    """The tool call's id."""
    description: str
    """What the reviewer is asked, in words."""
    allowed: frozenset[ReviewKind] = frozenset(REVIEW_KINDS)
    """The kinds of answer this request takes."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.allowed) - set(REVIEW_KINDS))
        if unknown or not self.allowed:
            raise ValueError(
                f"allowed must name some of {list(REVIEW_KINDS)}, got {sorted(self.allowed)}."
            )

    @property
    def allowed_in_order(self) -> list[ReviewKind]:
        """The allowed kinds, in the order of REVIEW_KINDS."""
        return [kind for kind in REVIEW_KINDS if kind in self.allowed]

    def to_dict(self) -> dict[str, Any]:
        """The request as plain data, for the interrupt (and any inbox or CLI that shows it):
        ``{"type": "tool_review", "tool", "args", "id", "description", "allowed": [...]}``."""
        return {
            "type": "tool_review",
            "tool": self.tool,
            "args": dict(self.args),
            "id": self.id,
            "description": self.description,
            "allowed": self.allowed_in_order,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolReviewRequest:
        """The request again, from `to_dict()`'s output (e.g. an interrupt's value)."""
        return cls(tool=data["tool"], args=dict(data["args"]), id=data["id"],
                   description=data["description"], allowed=frozenset(data["allowed"]))


class InvalidReviewAnswerError(ValueError):
    """An answer to a tool review that has the wrong shape or a kind the request does not allow.

    Attributes:
        request: the request that was answered.
        answer: the answer as given.
        allowed: the kinds the request takes, in order.
    """

    def __init__(self, request: ToolReviewRequest, answer: Any, problem: str) -> None:
        self.request = request
        self.answer = answer
        self.allowed = request.allowed_in_order
        shapes = ", ".join(_SHAPES[kind] for kind in self.allowed)
        super().__init__(
            f"Bad answer to the review of tool call '{request.id}' ('{request.tool}'): {problem}. "
            f"Allowed here: {', '.join(repr(k) for k in self.allowed)}. Resume with one of: "
            f"{shapes}; or in another shape: {OTHER_SHAPES}."
        )


def parse_review_answer(value: Any, request: ToolReviewRequest) -> ReviewAnswer:
    """The typed answer of a resume value: an answer object, its dict form, or the same answer
    in Agent Inbox's or LangChain's shape (see _review_shapes) when it can mean only one thing.

    Raises:
        InvalidReviewAnswerError: the value has the wrong shape, could mean two things, or is
            of a kind `request` does not allow.
    """
    answer: ReviewAnswer
    try:
        value = in_own_shape(value, request.tool, request.args)
    except UnclearAnswer as unclear:
        raise InvalidReviewAnswerError(request, value, str(unclear)) from None
    if isinstance(value, (Accept, Edit, Respond, Ignore)):
        answer = value
    elif isinstance(value, dict):
        answer = _from_dict(value, request)
    else:
        raise InvalidReviewAnswerError(
            request, value, f"expected a dict with a 'type' key, got {value!r}"
        )
    if answer.type not in request.allowed:
        raise InvalidReviewAnswerError(
            request, value, f"this request does not allow {answer.type!r}"
        )
    return answer


def _from_dict(value: dict[str, Any], request: ToolReviewRequest) -> ReviewAnswer:
    kind = value.get("type")
    if kind not in REVIEW_KINDS:
        raise InvalidReviewAnswerError(
            request, value, f"'type' must be one of {list(REVIEW_KINDS)}, got {kind!r}"
        )
    expected = {"accept": {"type"}, "ignore": {"type"}, "edit": {"type", "args"},
                "respond": {"type", "content"}}[kind]
    if set(value) != expected:
        raise InvalidReviewAnswerError(
            request, value, f"a {kind!r} answer looks like {_SHAPES[kind]}, got {value!r}"
        )
    if kind == "edit":
        if not isinstance(value["args"], dict):
            raise InvalidReviewAnswerError(
                request, value, f"an 'edit' answer needs 'args' as a dict, got {value['args']!r}"
            )
        return Edit(args=dict(value["args"]))
    if kind == "respond":
        if not isinstance(value["content"], str):
            raise InvalidReviewAnswerError(
                request, value,
                f"a 'respond' answer needs 'content' as a str, got {value['content']!r}",
            )
        return Respond(content=value["content"])
    return Accept() if kind == "accept" else Ignore()


def ask_for_review(request: ToolReviewRequest, request_format: RequestFormat = "hitlgraph"
                   ) -> ReviewAnswer:
    """Pause the graph with `request` (in the shape `request_format` names: hitlgraph's dict,
    Agent Inbox's [HumanInterrupt] or LangChain's action_requests) and return the reviewer's
    typed answer, whichever of those shapes it came in.

    Call it inside a node. Each call is one interrupt(): a node that reviews several calls asks
    them in a fixed order, and should act only once every answer is in, because the node runs
    again from its start after each answer.

    Raises:
        InvalidReviewAnswerError: the answer has the wrong shape or a kind not allowed. The
            error ends the run. Where the engine keeps an interrupt open after its node fails
            (as LangGraph does), the thread stays paused at this request and is resumed with a
            valid answer; a later answer supersedes the rejected one.
    """
    value = interrupt(request_value(request.to_dict(), request_format))
    while True:
        try:
            return parse_review_answer(value, request)
        except InvalidReviewAnswerError as error:
            rejected = error
        # When the engine keeps a rejected answer, the next answer to the same request comes
        # back from the next interrupt() call: one exists only if this rejected answer is not
        # the latest. When none exists, the latest answer is the bad one: raise its error
        # rather than pause (the request it answered is still open).
        try:
            value = interrupt(request_value(request.to_dict(), request_format))
        except GraphInterrupt:
            raise rejected from None


SKIPPED_TEMPLATE = "The reviewer skipped this call to '{tool}'; it did not run."
"""The content of the ToolMessage an "ignore" answer produces."""


def review_outcome(answer: ReviewAnswer, call: ToolCall, tool: str) -> ToolCall | ToolMessage:
    """What an answer means for a call: the call to run (for accept and edit), or the
    ToolMessage the model gets instead (for respond and ignore)."""
    call_id = call["id"] or ""
    if isinstance(answer, Edit):
        return {"name": call["name"], "args": answer.args, "id": call["id"]}
    if isinstance(answer, Respond):
        return ToolMessage(answer.content, tool_call_id=call_id, name=tool)
    if isinstance(answer, Ignore):
        return ToolMessage(SKIPPED_TEMPLATE.format(tool=tool), tool_call_id=call_id, name=tool,
                           status="error")
    return call


Describe = str | Callable[[ToolCall], str] | None


class ApprovalTool:
    """A tool that asks a person before it runs; make one with `with_approval`.

    Called directly (or run by ToolNode), it pauses the graph with a `ToolReviewRequest` and
    then, by the answer: runs with the asked arguments (accept) or the edited ones (edit),
    returns the reviewer's text instead of running (respond), or returns a note that it was
    skipped (ignore). ToolNode asks about all of a message's calls first, in order, and then
    runs the approved ones in parallel.
    """

    def __init__(self, tool: ToolLike, *, description: Describe = None,
                 allowed: Iterable[ReviewKind] = REVIEW_KINDS,
                 request_format: RequestFormat = "hitlgraph") -> None:
        self.runner: Runner = as_runner(tool)
        self.request_format = check_format(request_format)
        self.name = self.runner.name
        self.description = self.runner.description
        self.allowed: frozenset[ReviewKind] = frozenset(allowed)
        self._describe = description
        unknown = sorted(self.allowed - set(REVIEW_KINDS))
        if unknown or not self.allowed:
            raise ValueError(
                f"with_approval(allowed=...) must name some of {list(REVIEW_KINDS)}, got "
                f"{sorted(self.allowed)}."
            )

    def __repr__(self) -> str:
        return f"with_approval({self.name!r}, allowed={sorted(self.allowed)})"

    def request(self, call: ToolCall) -> ToolReviewRequest:
        """The review request for `call`."""
        describe = self._describe
        if callable(describe):
            text = describe(call)
        elif isinstance(describe, str):
            text = describe
        else:
            text = f"The assistant wants to run '{self.name}' with these arguments."
            if self.description:
                text += f" The tool: {self.description}"
        return ToolReviewRequest(tool=self.name, args=dict(call["args"]), id=call["id"] or "",
                                 description=text, allowed=self.allowed)

    def review(self, call: ToolCall) -> ToolCall | ToolMessage:
        """Ask about `call` (one interrupt) and return the call to run or the message instead."""
        return review_outcome(ask_for_review(self.request(call), self.request_format), call,
                              self.name)

    def _outcome(self, args: dict[str, Any]) -> ToolCall | ToolMessage:
        running = current_tool_call()
        call_id = running["id"] if running is not None else None
        return self.review({"name": self.name, "args": dict(args), "id": call_id})

    def __call__(self, **kwargs: Any) -> Any:
        outcome = self._outcome(kwargs)
        if isinstance(outcome, ToolMessage):
            return outcome.content
        return self.runner.run(outcome)

    def invoke(self, args: dict[str, Any]) -> Any:
        """Ask, then run with the approved arguments (see the class docstring)."""
        return self(**args)

    async def ainvoke(self, args: dict[str, Any]) -> Any:
        """`invoke` from async code."""
        outcome = self._outcome(args)
        if isinstance(outcome, ToolMessage):
            return outcome.content
        return await self.runner.arun(outcome)

    def as_runner(self) -> Runner:
        """How ToolNode runs this tool when it has not asked about the call first."""
        def run(call: ToolCall) -> Any:
            outcome = self.review(call)
            return outcome if isinstance(outcome, ToolMessage) else self.runner.run(outcome)

        async def arun(call: ToolCall) -> Any:
            outcome = self.review(call)
            if isinstance(outcome, ToolMessage):
                return outcome
            return await self.runner.arun(outcome)

        return Runner(name=self.name, description=self.description, is_async=False,
                      run=run, arun=arun, source=self)


def with_approval(tool: ToolLike, *, description: Describe = None,
                  allowed: Iterable[ReviewKind] = REVIEW_KINDS,
                  request_format: RequestFormat = "hitlgraph") -> ApprovalTool:
    """Wrap a tool so that each call first asks a person (one interrupt per call).

    Args:
        tool: a function, a `@tool` object, or a langchain_core tool.
        description: what the reviewer is asked: a str, or a function of the tool call
            (a {name, args, id} dict) returning one. By default it names the tool.
        allowed: the kinds of answer the reviewer may give (see `ReviewKind`).
        request_format: the shape of the question: "hitlgraph" (a ToolReviewRequest dict),
            "agent-inbox" (a list of one HumanInterrupt) or "langchain" (LangChain's
            action_requests and review_configs). Answers are taken in any of the three.

    Returns:
        An ApprovalTool, usable wherever a tool is (ToolNode runs it), or called directly in a
        node.

    Example:
        >>> def send_email(to: str, body: str) -> str:
        ...     return f"sent to {to}"
        >>> guarded = with_approval(send_email, allowed=["accept", "edit"])
        >>> guarded.name
        'send_email'
    """
    return ApprovalTool(tool, description=description, allowed=allowed,
                        request_format=request_format)


for _cls in (Accept, Edit, Respond, Ignore, ToolReviewRequest):
    register_type(_cls, f"hitlgraph.prebuilt.{_cls.__name__}")
del _cls
