"""create_react_agent: LangGraph's prebuilt tool-calling agent, a model and its tools in a loop.

The graph has LangGraph's node names ("agent", "tools", and "pre_model_hook",
"post_model_hook", "generate_structured_response" when asked for), so breakpoints, stream chunks
and snapshots read as they do there.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_type_hints

from hitlgraph.constants import END
from hitlgraph.graph import StateGraph
from hitlgraph.messages import AIMessage, is_ai_message
from hitlgraph.prebuilt._agent_model import (
    ModelCall,
    StructuredAnswer,
    bind_tools,
    bindable,
    check_prompt,
    check_structured,
    state_value,
)
from hitlgraph.prebuilt._agent_state import (
    REQUIRED_KEYS,
    AgentState,
    AgentStateWithStructuredResponse,
    with_llm_input,
)
from hitlgraph.prebuilt._review import ApprovalTool
from hitlgraph.prebuilt._tool_node import ToolNode, ToolReviewNode
from hitlgraph.prebuilt._tools import Runner, as_runner
from hitlgraph.pregel.compiled import CompiledStateGraph
from hitlgraph.types import Send

__all__ = ["create_react_agent"]

_WITH_CONTEXT = "tool_call_with_context"


@dataclass(frozen=True, slots=True)
class _ToolsStep:
    """The "tools" node: the ToolNode, also given one call at a time by a Send (version v2),
    as LangGraph's `{"__type": "tool_call_with_context", "tool_call": ..., "state": ...}`."""

    tool_node: ToolNode

    def __call__(self, input: Any) -> Any:
        if isinstance(input, dict) and input.get("__type") == _WITH_CONTEXT:
            asked = AIMessage("", tool_calls=[input["tool_call"]])
            answers = self.tool_node._run_with_state([asked], input["state"])
            return {self.tool_node.messages_key: answers}
        return self.tool_node(input)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Routes:
    """Where the agent goes after each node, as LangGraph's agent decides."""

    version: str
    entry: str
    one_task: bool
    """Send the whole message to one "tools" task (v1, or reviewed calls) instead of a Send
    per call."""
    post_hook: bool
    structured: bool
    return_direct: frozenset[str]

    def _sends(self, state: Any, calls: Sequence[Any]) -> Any:
        if self.one_task:
            return "tools"
        return [Send("tools", {"__type": _WITH_CONTEXT, "tool_call": call, "state": state})
                for call in calls]

    def _finish(self) -> str:
        return "generate_structured_response" if self.structured else END

    def after_agent(self, state: Any) -> Any:
        last = state_value(state, "messages")[-1]
        if not is_ai_message(last) or not last.tool_calls:
            return "post_model_hook" if self.post_hook else self._finish()
        if self.version == "v1":
            return "tools"
        if self.post_hook:
            return "post_model_hook"
        return self._sends(state, last.tool_calls)

    def after_post_hook(self, state: Any) -> Any:
        messages = state_value(state, "messages")
        answered = {m.tool_call_id for m in messages if getattr(m, "type", None) == "tool"}
        last_ai = next(m for m in reversed(messages) if is_ai_message(m))
        pending = [c for c in last_ai.tool_calls if c["id"] not in answered]
        if pending:
            return self._sends(state, pending)
        if getattr(messages[-1], "type", None) == "tool":
            return self.entry
        return self._finish()

    def after_tools(self, state: Any) -> str:
        message: Any = None
        for message in reversed(state_value(state, "messages")):
            if getattr(message, "type", None) != "tool":
                break
            if message.name in self.return_direct:
                return END
        if is_ai_message(message) and any(
                c["name"] in self.return_direct for c in message.tool_calls):
            return END
        return self.entry


def _tool_node(tools: Sequence[Any] | ToolNode,
               review: bool | Iterable[str] | None) -> tuple[ToolNode, list[dict[str, Any]]]:
    """The ToolNode to run, and the tools given as dicts (the model provider's own tools,
    bound to the model but not run here)."""
    if isinstance(tools, ToolNode):
        if review:
            raise ValueError(
                "review= picks tools to review from a list of tools; tools is a ToolNode. Pass "
                "ToolReviewNode([...], review=[...]) as tools instead, or a list of tools."
            )
        return tools, []
    builtin = [t for t in tools if isinstance(t, dict)]
    runnable = [t for t in tools if not isinstance(t, dict)]
    if review is None or review is False:
        return ToolNode(runnable), builtin
    names = None if review is True else list(review)
    return ToolReviewNode(runnable, review=names), builtin


def _runner(tool: Any) -> Runner:
    return tool.runner if isinstance(tool, ApprovalTool) else as_runner(tool)


def _check_schema(state_schema: Any, structured: bool) -> None:
    required = set(REQUIRED_KEYS) | ({"structured_response"} if structured else set())
    missing = sorted(required - set(get_type_hints(state_schema)))
    if missing:
        raise ValueError(
            f"Missing required key(s) {missing} in state_schema {state_schema.__name__}: "
            "subclass AgentState (from hitlgraph.prebuilt), which has them."
        )


def _check_model(model: Any, version: str) -> None:
    if version not in ("v1", "v2"):
        raise ValueError(f"Invalid version {version!r}; the versions are 'v1' and 'v2'.")
    if isinstance(model, str):
        raise TypeError(
            f"create_react_agent got the model name {model!r}: hitlgraph does not create chat "
            "models from names (LangGraph calls langchain's init_chat_model, which needs the "
            "provider's package and key). Create the model yourself and pass it, e.g. "
            "ChatOpenAI(model='gpt-4o')."
        )
    if callable(getattr(model, "invoke", None)):
        return
    if not callable(model):
        raise TypeError(f"model must be a chat model or a function that returns one, got "
                        f"{model!r}.")
    if inspect.iscoroutinefunction(model):
        raise TypeError(
            "model is an async function: hitlgraph's agent picks its model with a sync "
            "function of (state, runtime) only. Make it a plain function."
        )


def create_react_agent(
    model: Any,
    tools: Sequence[Any] | ToolNode,
    *,
    prompt: Any = None,
    response_format: Any = None,
    pre_model_hook: Callable[..., Any] | None = None,
    post_model_hook: Callable[..., Any] | None = None,
    state_schema: Any = None,
    context_schema: Any = None,
    checkpointer: Any = None,
    store: Any = None,
    interrupt_before: list[str] | None = None,
    interrupt_after: list[str] | None = None,
    debug: bool = False,
    version: Literal["v1", "v2"] = "v2",
    name: str | None = None,
    review: bool | Iterable[str] | None = None,
    **deprecated_kwargs: Any,
) -> CompiledStateGraph:
    """A compiled graph that calls the model, runs the tools it asks for, and loops until the
    model answers without tool calls, as LangGraph's create_react_agent.

    Args:
        model: a LangChain chat model (its `bind_tools` is called with the tools, unless tools
            are bound already) or a ScriptedChatModel; or a function (state, runtime) that
            returns the model to call, its tools bound. A model name (str) is refused:
            hitlgraph does not create models from names.
        tools: functions, `@tool` objects, LangChain tools, `with_approval(...)` tools, dicts
            (provider tools, bound to the model only), or a ToolNode / ToolReviewNode.
        prompt: a str or SystemMessage put before the messages, or a function or Runnable of
            the state that returns the model's input.
        response_format: a schema (or `(instructions, schema)`); once the loop ends, the model
            is asked once more, with `with_structured_output`, and the answer is stored under
            "structured_response".
        pre_model_hook: a node run before each model call; it may write
            `llm_input_messages`, which the model then gets instead of `messages`.
        post_model_hook: a node run after each model call (version "v2" only).
        state_schema: the state; it needs "messages" and "remaining_steps" (subclass
            AgentState).
        context_schema, checkpointer, store, interrupt_before, interrupt_after, debug, name:
            passed to StateGraph and compile(); the nodes to pause at are "agent" and "tools".
        version: "v2" runs each tool call in its own "tools" task (a Send per call); "v1" runs
            all calls of the message in one "tools" task.
        review: hitlgraph's addition: True to ask a person about every tool call before it
            runs, or the names of the tools to ask about, with ToolReviewNode's questions and
            answers (for its other options, pass a ToolReviewNode as `tools`). The calls of a
            message are then asked in order in one "tools" task, whatever the version, so that
            edits land in one AIMessage.

    Raises:
        TypeError: a model name, a model without invoke, or a prompt of another kind.
        ValueError: a bad version, a state_schema without the needed keys, tools bound to the
            model that differ from `tools`, a post_model_hook with version "v1".

    Example:
        >>> from hitlgraph.prebuilt import ScriptedChatModel
        >>> def add(a: int, b: int) -> int:
        ...     '''Add two numbers.'''
        ...     return a + b
        >>> model = ScriptedChatModel([
        ...     {"tool_calls": [{"name": "add", "args": {"a": 2, "b": 3}, "id": "c1"}]},
        ...     "2 + 3 is 5."])
        >>> agent = create_react_agent(model, [add])
        >>> [m.content for m in agent.invoke({"messages": [("user", "2 + 3?")]})["messages"]]
        ['2 + 3?', '', '5', '2 + 3 is 5.']
    """
    if "config_schema" in deprecated_kwargs:
        warnings.warn("config_schema is deprecated: pass context_schema instead.",
                      DeprecationWarning, stacklevel=2)
        found = deprecated_kwargs.pop("config_schema")
        context_schema = context_schema if context_schema is not None else found
    if deprecated_kwargs:
        raise TypeError(
            f"create_react_agent() got unexpected keyword arguments: {sorted(deprecated_kwargs)}."
        )
    _check_model(model, version)
    check_prompt(prompt)
    check_structured(model, response_format)
    if post_model_hook is not None and version == "v1":
        raise ValueError("post_model_hook needs version='v2' (as in LangGraph).")
    if state_schema is not None:
        _check_schema(state_schema, response_format is not None)
    else:
        state_schema = (AgentStateWithStructuredResponse if response_format is not None
                        else AgentState)
    builder = StateGraph(state_schema, context_schema=context_schema)
    _build(builder, model, tools, review=review, prompt=prompt, response_format=response_format,
           pre_model_hook=pre_model_hook, post_model_hook=post_model_hook, version=version,
           name=name)
    return builder.compile(checkpointer=checkpointer, store=store,
                           interrupt_before=interrupt_before, interrupt_after=interrupt_after,
                           debug=debug, name=name)


def _build(builder: StateGraph[Any], model: Any, tools: Sequence[Any] | ToolNode, *,
           review: bool | Iterable[str] | None, prompt: Any, response_format: Any,
           pre_model_hook: Any, post_model_hook: Any, version: str, name: str | None) -> None:
    tool_node, builtin = _tool_node(tools, review)
    runners = [_runner(t) for t in tool_node.tools_by_name.values()]
    names = {r.name for r in runners}
    return_direct = frozenset(r.name for r in runners
                              if getattr(r.source, "return_direct", False))
    bound = (bind_tools(model, [*map(bindable, runners), *builtin], names, len(builtin))
             if callable(getattr(model, "invoke", None)) else model)
    agent = ModelCall(model=bound, prompt=prompt, name=name,
                      uses_hook=pre_model_hook is not None, return_direct=return_direct)
    builder.add_node("agent", agent, input_schema=(
        with_llm_input(builder.state_schema) if pre_model_hook is not None else None))
    entry = "agent"
    if pre_model_hook is not None:
        builder.add_node("pre_model_hook", pre_model_hook)
        builder.add_edge("pre_model_hook", "agent")
        entry = "pre_model_hook"
    builder.set_entry_point(entry)
    if post_model_hook is not None:
        builder.add_node("post_model_hook", post_model_hook)
        builder.add_edge("agent", "post_model_hook")
    if response_format is not None:
        builder.add_node("generate_structured_response",
                         StructuredAnswer(model=model, response_format=response_format))
    if not runners:
        if response_format is not None:
            builder.add_edge("post_model_hook" if post_model_hook is not None else "agent",
                             "generate_structured_response")
        return
    reviewed = any(isinstance(t, ApprovalTool) for t in tool_node.tools_by_name.values())
    routes = _Routes(version=version, entry=entry, one_task=version == "v1" or reviewed,
                     post_hook=post_model_hook is not None,
                     structured=response_format is not None, return_direct=return_direct)
    _wire_tools(builder, tool_node, routes)


def _wire_tools(builder: StateGraph[Any], tool_node: ToolNode, routes: _Routes) -> None:
    """The "tools" node and the conditional edges around it, with LangGraph's path maps."""
    builder.add_node("tools", _ToolsStep(tool_node))
    finish = "generate_structured_response" if routes.structured else END
    if routes.post_hook:
        builder.add_conditional_edges("agent", routes.after_agent, ["post_model_hook"])
        builder.add_conditional_edges("post_model_hook", routes.after_post_hook,
                                      [routes.entry, "tools", finish])
    else:
        builder.add_conditional_edges("agent", routes.after_agent, ["tools", finish])
    if routes.return_direct:
        builder.add_conditional_edges("tools", routes.after_tools, [routes.entry, END])
    else:
        builder.add_edge("tools", routes.entry)
