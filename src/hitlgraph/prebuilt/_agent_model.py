"""The model side of create_react_agent: binding the tools, the prompt, and the "agent" and
"generate_structured_response" nodes that call the model."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from hitlgraph.messages import (
    AIMessage,
    BaseMessage,
    SystemMessage,
    ToolMessage,
    is_ai_message,
    is_message,
)
from hitlgraph.messages._interop import is_langchain_message
from hitlgraph.prebuilt._tools import Runner
from hitlgraph.runtime import get_runtime

__all__ = [
    "ModelCall",
    "StructuredAnswer",
    "bind_tools",
    "bindable",
    "check_history",
    "check_prompt",
    "check_structured",
    "state_value",
]

SORRY = "Sorry, need more steps to process this request."


def state_value(state: Any, key: str, default: Any = None) -> Any:
    """A key of a dict state, or an attribute of a state object."""
    if isinstance(state, dict):
        return state.get(key, default)
    return getattr(state, key, default)


def _is_runnable(obj: Any) -> bool:
    module = sys.modules.get("langchain_core.runnables")
    return module is not None and isinstance(obj, module.Runnable)


def bindable(runner: Runner) -> Any:
    """What `bind_tools` gets for a tool: a LangChain tool as it is, ours as a function schema."""
    source = runner.source
    if getattr(source, "args_schema", None) is None or not isinstance(source.args_schema, dict):
        return source
    return {"type": "function",
            "function": {"name": runner.name, "description": runner.description,
                         "parameters": source.args_schema or {"type": "object",
                                                              "properties": {}}}}


def _bound_names(bound: Sequence[Any]) -> set[str]:
    names = set()
    for tool in bound:
        if isinstance(tool, dict) and tool.get("type") == "function":
            names.add(tool["function"]["name"])
        elif isinstance(tool, dict) and tool.get("name"):
            names.add(tool["name"])
        elif not isinstance(tool, dict) and getattr(tool, "name", None):
            names.add(tool.name)
    return names


def bind_tools(model: Any, tools: Sequence[Any], names: set[str], builtin: int) -> Any:
    """`model.bind_tools(tools)`, unless the model comes with tools bound already (then they
    must be the same tools, as LangGraph checks)."""
    if not tools:
        return model
    bound = getattr(model, "kwargs", None)
    if isinstance(bound, dict) and "tools" in bound:
        if len(names) != len(bound["tools"]) - builtin:
            raise ValueError(
                f"The model has {len(bound['tools']) - builtin} tools bound, but "
                f"create_react_agent got {len(names)}: bind the same tools, or pass the model "
                "without bind_tools() and let create_react_agent bind them."
            )
        missing = names - _bound_names(bound["tools"])
        if missing:
            raise ValueError(
                f"Tools {sorted(missing)} are not bound to the model: bind the same tools, or "
                "pass the model without bind_tools()."
            )
        return model
    if not callable(getattr(model, "bind_tools", None)):
        raise TypeError(
            f"The model {type(model).__name__} has no bind_tools(), so it cannot call tools: "
            "pass a LangChain chat model or a ScriptedChatModel."
        )
    return model.bind_tools(list(tools))


def _to_langchain(message: Any) -> Any:
    """A hitlgraph message as the LangChain message a LangChain model takes."""
    if not isinstance(message, BaseMessage):
        return message
    lc = sys.modules["langchain_core.messages"]
    common = {"content": message.content, "id": message.id, "name": message.name,
              "additional_kwargs": dict(message.additional_kwargs),
              "response_metadata": dict(message.response_metadata)}
    if isinstance(message, AIMessage):
        return lc.AIMessage(**common, tool_calls=list(message.tool_calls),
                            invalid_tool_calls=list(message.invalid_tool_calls),
                            usage_metadata=message.usage_metadata)
    if isinstance(message, ToolMessage):
        return lc.ToolMessage(**common, tool_call_id=message.tool_call_id,
                              status=message.status, artifact=message.artifact)
    kinds = {"human": lc.HumanMessage, "system": lc.SystemMessage}
    return kinds[message.type](**common) if message.type in kinds else message


def check_history(messages: Sequence[Any]) -> None:
    """Refuse a history where a tool call has no answer: chat model providers reject it."""
    answered = {m.tool_call_id for m in messages if getattr(m, "type", None) == "tool"}
    open_calls = [call for m in messages if is_ai_message(m) for call in m.tool_calls
                  if call["id"] not in answered]
    if open_calls:
        raise ValueError(
            "Found AIMessages with tool_calls that do not have a corresponding ToolMessage. "
            f"Here are the first few of those tool calls: {open_calls[:3]}. Every tool call "
            "needs a ToolMessage with its id (most chat model providers require it): add the "
            "missing answers, e.g. with update_state, before calling the agent again."
        )


def _with_messages(state: Any, messages: list[Any]) -> Any:
    if isinstance(state, dict):
        return {**state, "messages": messages}
    return state.model_copy(update={"messages": messages})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ModelCall:
    """The "agent" node: prompt, then one model call, then the step-budget check."""

    model: Any
    """The model with the tools bound, or a function (state, runtime) -> model that picks it
    for each call (its tools bound by that function)."""
    prompt: Any
    name: str | None
    uses_hook: bool
    """A pre_model_hook runs first: read `llm_input_messages` before `messages`."""
    return_direct: frozenset[str]

    def __call__(self, state: Any) -> dict[str, Any]:
        messages = None
        if self.uses_hook:
            messages = state_value(state, "llm_input_messages")
        messages = messages or state_value(state, "messages")
        if messages is None:
            keys = "'llm_input_messages' or 'messages'" if self.uses_hook else "'messages'"
            raise ValueError(f"The agent's input needs a {keys} key, got {state!r}.")
        check_history(messages)
        model = picked(self.model, state)
        model_input = _for_model(model, _apply_prompt(self.prompt,
                                                      _with_messages(state, list(messages))))
        response = _named(model.invoke(model_input), self.name)
        if self._out_of_steps(state, response):
            return {"messages": [_sorry(response)]}
        return {"messages": [response]}

    def _out_of_steps(self, state: Any, response: Any) -> bool:
        remaining = state_value(state, "remaining_steps")
        if remaining is None or not is_ai_message(response):
            return False
        calls = response.tool_calls
        if remaining < 1 and all(c["name"] in self.return_direct for c in calls):
            return True
        return remaining < 2 and bool(calls)


def picked(model: Any, state: Any) -> Any:
    """The model itself, or the one a model-picking function returns for this call."""
    if callable(getattr(model, "invoke", None)):
        return model
    return model(state, get_runtime())


def _for_model(model: Any, value: Any) -> Any:
    # LangChain models take LangChain messages only; ToolNode answers with hitlgraph's.
    if _is_runnable(model) and isinstance(value, list):
        return [_to_langchain(m) for m in value]
    return value


def _apply_prompt(prompt: Any, state: Any) -> Any:
    messages = list(state_value(state, "messages"))
    if prompt is None:
        return messages
    if isinstance(prompt, str):
        return [SystemMessage(prompt), *messages]
    if is_message(prompt):
        return [prompt, *messages]
    if callable(getattr(prompt, "invoke", None)):
        return prompt.invoke(state)
    return prompt(state)


def check_prompt(prompt: Any) -> None:
    """Refuse a prompt of a kind create_react_agent cannot use, when the agent is made."""
    if prompt is None or isinstance(prompt, str):
        return
    if is_message(prompt):
        if prompt.type != "system":
            raise TypeError(f"A message as prompt must be a SystemMessage, got {prompt!r}.")
        return
    if callable(prompt) or callable(getattr(prompt, "invoke", None)):
        return
    raise TypeError(
        f"prompt must be a str, a SystemMessage, a function of the state or a Runnable, "
        f"got {type(prompt).__name__}."
    )


def _named(response: Any, name: str | None) -> Any:
    # LangGraph sets the agent's name on every answer, None included.
    if is_langchain_message(response):
        response.name = name
        return response
    if isinstance(response, BaseMessage):
        return dataclasses.replace(response, name=name)
    return response


def _sorry(response: Any) -> Any:
    if is_langchain_message(response):
        return sys.modules["langchain_core.messages"].AIMessage(id=response.id, content=SORRY)
    return AIMessage(SORRY, id=response.id)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StructuredAnswer:
    """The "generate_structured_response" node: one more model call, for the schema."""

    model: Any
    """The model as given (or the function that picks it)."""
    response_format: Any

    def __call__(self, state: Any) -> dict[str, Any]:
        messages = list(state_value(state, "messages"))
        schema = self.response_format
        if isinstance(schema, tuple):
            instructions, schema = schema
            messages = [SystemMessage(instructions), *messages]
        model = unbound(picked(self.model, state))
        structured = model.with_structured_output(schema)
        return {"structured_response": structured.invoke(_for_model(model, messages))}


def unbound(model: Any) -> Any:
    """The chat model under a `bind_tools(...)` binding (or a prompt | model sequence)."""
    steps: Sequence[Any] = getattr(model, "steps", ())
    for step in steps:
        if hasattr(step, "bound") or callable(getattr(step, "bind_tools", None)):
            model = step
            break
    return getattr(model, "bound", model)


def check_structured(model: Any, response_format: Any) -> None:
    """Refuse a response_format the model cannot answer, when the agent is made."""
    if response_format is None or not callable(getattr(model, "invoke", None)):
        return
    if not callable(getattr(unbound(model), "with_structured_output", None)):
        raise TypeError(
            f"response_format needs a model with with_structured_output(); "
            f"{type(unbound(model)).__name__} has none. Use a LangChain chat model, or leave "
            "response_format out and read the last message."
        )

