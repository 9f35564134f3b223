"""ToolNode, ToolReviewNode and tools_condition: run (or first review) the tool calls of the last
AIMessage, and route to them."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hitlgraph.messages import ToolCall, ToolMessage, is_ai_message
from hitlgraph.messages._convert import to_message
from hitlgraph.messages._interop import ensure_langchain_registered, is_langchain_message
from hitlgraph.prebuilt._injection import RunScope, injected_args, run_scope
from hitlgraph.prebuilt._review import REVIEW_KINDS, ApprovalTool, Describe, ReviewKind
from hitlgraph.prebuilt._review_shapes import RequestFormat
from hitlgraph.prebuilt._tools import (
    Runner,
    ToolInvocationError,
    ToolLike,
    _current_call,
    _run_awaitable,
    as_runner,
)

__all__ = ["ToolNode", "ToolReviewNode", "tools_condition"]

ErrorHandling = (
    bool | str | Callable[[Exception], str] | type[Exception] | tuple[type[Exception], ...]
)


@dataclass(slots=True)
class _Step:
    call: ToolCall
    runner: Runner | None
    message: Any = None
    """The result when no tool runs: the answer to an unknown name, respond or ignore."""
    given: ToolCall | None = None
    """The call as the tool gets it: `call` with its injected arguments (None: `call`)."""


def default_handle_tool_errors(exc: Exception) -> str:
    """ToolNode's default, as LangGraph's: a call whose arguments do not fit the tool gets
    an error ToolMessage (the model can fix its call); any other error propagates."""
    if isinstance(exc, ToolInvocationError):
        return exc.message
    raise exc


def _messages_of(input: Any, key: str, who: str) -> list[Any]:
    if isinstance(input, list):
        return input
    if isinstance(input, dict):
        if key not in input:
            raise ValueError(
                f"{who} found no '{key}' key in its input (keys: {sorted(input)}). Pass "
                f"messages_key=... if the messages are under another key."
            )
        messages = input[key]
    elif hasattr(input, key):
        messages = getattr(input, key)
    else:
        raise TypeError(
            f"{who} needs a list of messages or a state with a '{key}' key, got {input!r}."
        )
    return list(messages)


def _call_id(call: ToolCall) -> str:
    return call["id"] if call["id"] is not None else ""


def _content_of(result: Any) -> Any:
    if isinstance(result, str):
        return result
    if isinstance(result, list) and all(
        isinstance(p, str) or (isinstance(p, dict) and "type" in p) for p in result
    ):
        return result
    try:
        return json.dumps(result, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(result)


class ToolNode:
    """A node that runs the tool calls of the last AIMessage and returns one ToolMessage per
    call, in the order of the calls.

    Sync tools run in parallel in a thread pool, async ones together on an event loop. A tool
    called with arguments that do not fit becomes a ToolMessage with status "error" and the
    error's text (see `handle_tool_errors`), so the model can try again; a call naming no
    known tool does too. Arguments annotated InjectedState or InjectedStore, and one typed
    ToolRuntime, get the node's state, the graph's store or the run's ToolRuntime.
    Tools wrapped with `with_approval` are asked about first, one interrupt per call in order,
    and only then does any tool run.

    Args:
        tools: functions (named after themselves, called with the call's arguments as
            keywords), `@tool` objects, `with_approval(...)` tools, or langchain_core tools.
        name: the node's name when added with `add_node(tool_node)`.
        handle_tool_errors: by default, as in LangGraph, only arguments that do not fit the
            tool (ToolInvocationError) become an error ToolMessage and other errors
            propagate; True: any Exception does; False: none does; a str: that text is the
            message; a function of the exception: returns the text (or raises); an
            exception class or tuple: only those are caught.
        messages_key: the state key that holds the messages.
        max_workers: the most sync tools run at once (default: one thread per call, up to 32).

    Input and output: a state (dict or object) with `messages_key` gives
    ``{messages_key: [ToolMessage, ...]}``; a list of messages gives a list. When a review
    edited a call's arguments, the AIMessage with the edited calls (same id, so add_messages
    replaces it) comes first.

    Example:
        >>> def add(a: int, b: int) -> int:
        ...     return a + b
        >>> from hitlgraph.messages import AIMessage
        >>> asked = AIMessage("", tool_calls=[{"name": "add", "args": {"a": 1, "b": 2},
        ...                                    "id": "c1"}])
        >>> [m.content for m in ToolNode([add])([asked])]
        ['3']
    """

    def __init__(
        self,
        tools: Sequence[ToolLike],
        *,
        name: str = "tools",
        tags: Sequence[str] | None = None,
        handle_tool_errors: ErrorHandling = default_handle_tool_errors,
        messages_key: str = "messages",
        max_workers: int | None = None,
    ) -> None:
        self.name = name
        self.tags = list(tags or ())
        self.handle_tool_errors = handle_tool_errors
        self.messages_key = messages_key
        self.max_workers = max_workers
        self.tools_by_name: dict[str, Any] = {}
        self._runners: dict[str, Runner] = {}
        self._reviewers: dict[str, ApprovalTool] = {}
        for tool in tools:
            runner = as_runner(tool)
            if runner.name in self._runners:
                raise ValueError(
                    f"Two tools are named '{runner.name}'; tool names must be unique."
                )
            self.tools_by_name[runner.name] = tool
            if isinstance(tool, ApprovalTool):
                self._reviewers[runner.name] = tool
                runner = tool.runner
            self._runners[runner.name] = runner

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tools={list(self._runners)}, name={self.name!r})"

    # -- entry points --------------------------------------------------------------------------

    def __call__(self, input: Any) -> Any:
        return self._run_with_state(input, input)

    def _run_with_state(self, input: Any, state: Any) -> Any:
        """Run the tool calls of `input` with `state` as what InjectedState and ToolRuntime
        read: create_react_agent's Send of one call carries the state beside it."""
        ai, steps = self._prepare(input, state)
        jobs = [s for s in steps if s.runner is not None]
        if any(s.runner is not None and s.runner.is_async for s in jobs):
            results = _run_awaitable(self._gather(jobs))
        elif len(jobs) <= 1:
            results = [self._run_one(s) for s in jobs]
        else:
            results = self._run_threads(jobs)
        return self._output(input, ai, steps, results)

    def invoke(self, input: Any, config: Any = None) -> Any:
        """Run the tool calls (as calling the node does)."""
        return self(input)

    async def ainvoke(self, input: Any, config: Any = None) -> Any:
        """Run the tool calls from async code."""
        ai, steps = self._prepare(input, input)
        jobs = [s for s in steps if s.runner is not None]
        results = await self._gather(jobs)
        return self._output(input, ai, steps, results)

    # -- steps ---------------------------------------------------------------------------------

    def _prepare(self, input: Any, state: Any) -> tuple[Any, list[_Step]]:
        messages = _messages_of(input, self.messages_key, "ToolNode")
        scope = run_scope(state)
        if not messages:
            raise ValueError("ToolNode got no messages; it runs the tool calls of the last one.")
        last = to_message(messages[-1])
        if not is_ai_message(last):
            raise ValueError(
                f"ToolNode runs the tool calls of the last message, which must be an AIMessage; "
                f"it is a {getattr(last, 'type', type(last).__name__)!r} message. Route to "
                "ToolNode only when the last message has tool calls (tools_condition does that)."
            )
        if is_langchain_message(last):
            ensure_langchain_registered()
        steps: list[_Step] = []
        for raw in last.tool_calls:
            call: ToolCall = {"name": raw["name"], "args": dict(raw["args"]), "id": raw.get("id")}
            runner = self._runners.get(call["name"])
            reviewer = self._reviewers.get(call["name"])
            if runner is None:
                steps.append(_Step(call, None, self._unknown_tool(call)))
            elif reviewer is None:
                steps.append(self._runs(call, runner, scope))
            else:
                outcome = reviewer.review(call)
                if isinstance(outcome, ToolMessage):
                    steps.append(_Step(call, None, outcome))
                else:
                    steps.append(self._runs(outcome, runner, scope))
        return last, steps

    def _runs(self, call: ToolCall, runner: Runner, scope: RunScope) -> _Step:
        """The step that runs `call`, with the arguments the tool has injected."""
        if not runner.injected:
            return _Step(call, runner)
        args = injected_args(runner.injected, call, scope, self.messages_key)
        return _Step(call, runner, given={**call, "args": args})

    def _unknown_tool(self, call: ToolCall) -> ToolMessage:
        known = ", ".join(f"'{n}'" for n in self._runners) or "none"
        return ToolMessage(
            f"Error: there is no tool named '{call['name']}'. Call one of: {known}.",
            tool_call_id=_call_id(call), name=call["name"], status="error",
        )

    def _run_threads(self, jobs: list[_Step]) -> list[Any]:
        workers = min(len(jobs), self.max_workers or 32)
        with concurrent.futures.ThreadPoolExecutor(workers,
                                                   thread_name_prefix="hitlgraph-tool") as pool:
            # Each call runs in its own copy of this context: interrupt() and get_config()
            # work inside tools, and no call sees another's current tool call.
            futures = [pool.submit(contextvars.copy_context().run, self._run_one, step)
                       for step in jobs]
            concurrent.futures.wait(futures)
        return [future.result() for future in futures]

    async def _gather(self, jobs: list[_Step]) -> list[Any]:
        return list(await asyncio.gather(*(self._arun_one(step) for step in jobs)))

    def _run_one(self, step: _Step) -> Any:
        assert step.runner is not None
        token = _current_call.set(step.call)
        try:
            result = step.runner.run(step.given or step.call)
        except Exception as exc:
            return self._error_message(step.call, exc)
        finally:
            _current_call.reset(token)
        return self._to_message(step.call, result)

    async def _arun_one(self, step: _Step) -> Any:
        runner = step.runner
        assert runner is not None
        if not runner.is_async:
            return await asyncio.to_thread(contextvars.copy_context().run, self._run_one, step)
        token = _current_call.set(step.call)
        try:
            result = await runner.arun(step.given or step.call)
        except Exception as exc:
            return self._error_message(step.call, exc)
        finally:
            _current_call.reset(token)
        return self._to_message(step.call, result)

    def _error_message(self, call: ToolCall, exc: Exception) -> ToolMessage:
        handle = self.handle_tool_errors
        if handle is False:
            raise exc
        if isinstance(handle, type) or isinstance(handle, tuple):
            if not isinstance(exc, handle):
                raise exc
            content = _default_error_text(exc)
        elif isinstance(handle, str):
            content = handle
        elif callable(handle):
            content = handle(exc)
        else:
            content = _default_error_text(exc)
        return ToolMessage(content, tool_call_id=_call_id(call), name=call["name"],
                           status="error")

    @staticmethod
    def _to_message(call: ToolCall, result: Any) -> Any:
        if isinstance(result, ToolMessage):
            if not result.tool_call_id:
                return dataclasses.replace(result, tool_call_id=_call_id(call))
            return result
        if is_langchain_message(result) and result.type == "tool":
            return result
        return ToolMessage(_content_of(result), tool_call_id=_call_id(call), name=call["name"])

    def _output(self, input: Any, ai: Any, steps: list[_Step], results: list[Any]) -> Any:
        ran = iter(results)
        messages: list[Any] = [s.message if s.runner is None else next(ran) for s in steps]
        edited = self._edited(ai, steps)
        if edited is not None:
            messages.insert(0, edited)
        if isinstance(input, list):
            return messages
        return {self.messages_key: messages}

    @staticmethod
    def _edited(ai: Any, steps: list[_Step]) -> Any:
        """The AIMessage with the arguments its reviewers edited, or None when none was."""
        new_args = {i: s.call["args"] for i, s in enumerate(steps)}
        calls = list(ai.tool_calls)
        if all(new_args[i] == dict(c["args"]) for i, c in enumerate(calls)):
            return None
        updated = [{**c, "args": new_args[i]} for i, c in enumerate(calls)]
        if is_langchain_message(ai):
            return ai.model_copy(update={"tool_calls": updated})
        return dataclasses.replace(ai, tool_calls=updated)


def _default_error_text(exc: Exception) -> str:
    return f"Error: {exc!r}\n Please fix your mistakes."  # (LangGraph's words)


class ToolReviewNode(ToolNode):
    """A ToolNode that asks a person about each tool call before any runs.

    For each call of the last AIMessage, in order, the graph pauses with an interrupt whose
    value is a `ToolReviewRequest` as a dict::

        {"type": "tool_review", "tool": "send_email", "args": {...}, "id": "call_2",
         "description": "...", "allowed": ["accept", "edit", "respond", "ignore"]}

    Answer each with `Command(resume=...)`: ``{"type": "accept"}``, ``{"type": "edit",
    "args": {...}}``, ``{"type": "respond", "content": "..."}`` or ``{"type": "ignore"}`` (or
    the Accept / Edit / Respond / Ignore objects). Once every call is answered, the accepted and
    edited calls run (in parallel) and the node returns, in call order, their ToolMessages; for
    "respond" a ToolMessage with the reviewer's text; for "ignore" an error ToolMessage saying
    the call was skipped. When a call was edited, the AIMessage with the edited arguments comes
    first (it replaces the original, which has the same id).

    An answer of the wrong shape, or of a kind the request does not allow, raises
    InvalidReviewAnswerError (a ValueError) naming the allowed kinds.

    Args:
        tools: as for ToolNode.
        review: names of the tools to review (default: all); the others run without asking.
        allowed: the kinds of answer allowed for every reviewed call.
        description: what the reviewer is asked: a str, or a function of the tool call.
        request_format: the shape each call is asked in: "hitlgraph" (above), "agent-inbox"
            (a list of one HumanInterrupt, as Agent Inbox shows it) or "langchain" (LangChain
            1.x's {"action_requests": [...], "review_configs": [...]}). Whatever the shape
            asked, an answer in any of the three is taken when it can mean only one thing
            (an Agent Inbox edit is {"type": "edit", "args": {"action": <tool>, "args": {...}}};
            LangChain's is {"decisions": [...]} with one decision); the rest is refused.
        handle_tool_errors: as for ToolNode, but True by default: a reviewed call that
            fails goes back to the model as an error ToolMessage.
        name, messages_key, max_workers: as for ToolNode.
    """

    def __init__(
        self,
        tools: Sequence[ToolLike],
        *,
        review: Iterable[str] | None = None,
        allowed: Iterable[ReviewKind] = REVIEW_KINDS,
        description: Describe = None,
        request_format: RequestFormat = "hitlgraph",
        name: str = "tools",
        handle_tool_errors: ErrorHandling = True,
        messages_key: str = "messages",
        max_workers: int | None = None,
    ) -> None:
        runners = [(t, as_runner(t)) for t in tools]
        names = {r.name for _, r in runners}
        chosen = names if review is None else set(review)
        unknown = sorted(chosen - names)
        if unknown:
            raise ValueError(
                f"review= names tools that are not given: {unknown}; the tools are "
                f"{sorted(names)}."
            )
        allowed = tuple(allowed)
        wrapped = [
            t if isinstance(t, ApprovalTool) or r.name not in chosen
            else ApprovalTool(r, description=description, allowed=allowed,
                              request_format=request_format)
            for t, r in runners
        ]
        super().__init__(wrapped, name=name, handle_tool_errors=handle_tool_errors,
                         messages_key=messages_key, max_workers=max_workers)


def tools_condition(state: Any, messages_key: str = "messages") -> Literal["tools", "__end__"]:
    """Route to "tools" when the last message asks for tool calls, else to END.

    Use as `add_conditional_edges("agent", tools_condition)`. `state` is a list of messages or
    a state (dict or object) with `messages_key`.

    Raises:
        ValueError: there are no messages.
    """
    messages = _messages_of(state, messages_key, "tools_condition")
    if not messages:
        raise ValueError(
            "tools_condition found no messages in the state; it routes on the last one."
        )
    last = messages[-1]
    calls = last.get("tool_calls") if isinstance(last, dict) else getattr(last, "tool_calls", None)
    return "tools" if calls else "__end__"
