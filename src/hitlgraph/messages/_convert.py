"""Turning message-like values (dicts, (role, content) tuples, strings) into messages."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from hitlgraph.messages._interop import (
    ensure_langchain_registered,
    is_langchain_message,
    with_langchain_id,
)
from hitlgraph.messages._types import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)

__all__ = [
    "MessageLike",
    "Messages",
    "convert_to_messages",
    "is_ai_message",
    "is_message",
    "to_message",
]

MessageLike = BaseMessage | str | tuple[str, Any] | dict[str, Any]
"""A message, or what add_messages turns into one: a str (a human message), a (role, content)
tuple, or a dict with "role" (or "type") and "content"."""

Messages = Sequence[MessageLike] | MessageLike
"""One message-like value or a list of them."""

_ROLES: dict[str, type[BaseMessage]] = {
    "human": HumanMessage,
    "user": HumanMessage,
    "ai": AIMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
    "developer": SystemMessage,
    "tool": ToolMessage,
    "remove": RemoveMessage,
}
_ROLE_LIST = ", ".join(f"'{r}'" for r in _ROLES)


def is_message(obj: Any) -> bool:
    """Whether `obj` is a hitlgraph message or a langchain_core message."""
    return isinstance(obj, BaseMessage) or is_langchain_message(obj)


def is_ai_message(obj: Any) -> bool:
    """Whether `obj` is a message from the model (hitlgraph's or langchain_core's)."""
    return isinstance(obj, AIMessage) or (
        is_langchain_message(obj) and obj.type in ("ai", "AIMessageChunk")
    )


def _role_class(role: Any) -> type[BaseMessage]:
    cls = _ROLES.get(role) if isinstance(role, str) else None
    if cls is None:
        raise ValueError(f"Unknown message role {role!r}; use one of {_ROLE_LIST}.")
    return cls


def _openai_tool_calls(calls: Sequence[Any]) -> tuple[list[ToolCall], list[dict[str, Any]]]:
    """Tool calls in either form: {name, args, id}, or OpenAI's {id, function: {name,
    arguments}} with the arguments as JSON text."""
    good: list[ToolCall] = []
    bad: list[dict[str, Any]] = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            good.append(call)
            continue
        raw = function.get("arguments") or "{}"
        try:
            args = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError as exc:
            bad.append({"name": function.get("name"), "args": raw, "id": call.get("id"),
                        "error": f"arguments are not valid JSON: {exc}"})
            continue
        good.append({"name": function.get("name", ""), "args": args, "id": call.get("id")})
    return good, bad


def _from_dict(data: dict[str, Any]) -> BaseMessage:
    role = data.get("role", data.get("type"))
    cls = _role_class(role)
    if cls is RemoveMessage:
        return RemoveMessage(id=data.get("id"))
    content = data.get("content")
    if content is None:
        if cls is not AIMessage:
            raise ValueError(f"A {role!r} message dict needs a 'content' key, got {data!r}.")
        content = ""
    common: dict[str, Any] = {
        "id": data.get("id"),
        "name": data.get("name"),
        "additional_kwargs": dict(data.get("additional_kwargs") or {}),
        "response_metadata": dict(data.get("response_metadata") or {}),
    }
    if cls is AIMessage:
        calls, invalid = _openai_tool_calls(data.get("tool_calls") or ())
        return AIMessage(content, tool_calls=calls,
                         invalid_tool_calls=[*(data.get("invalid_tool_calls") or ()), *invalid],
                         usage_metadata=data.get("usage_metadata"), **common)
    if cls is ToolMessage:
        if data.get("tool_call_id") is None:
            raise ValueError(f"A tool message dict needs a 'tool_call_id', got {data!r}.")
        return ToolMessage(content, tool_call_id=data["tool_call_id"],
                           status=data.get("status", "success"), artifact=data.get("artifact"),
                           **common)
    return cls(content, **common)


def to_message(value: Any) -> Any:
    """One message from a message-like value; messages (langchain_core's too) are kept as they
    are, except that one without an id gets a copy with a new id.

    Raises:
        ValueError: a role that no message class has, or a dict that lacks a needed key.
        TypeError: a value that is no kind of message.
    """
    if isinstance(value, BaseMessage):
        return value
    if is_langchain_message(value):
        ensure_langchain_registered()
        return with_langchain_id(value)
    if (isinstance(value, (str, dict, tuple))
            and "langchain_core.language_models.chat_models" in sys.modules):
        # The program calls LangChain chat models, which take only LangChain's messages: make
        # those, as LangGraph does (LangChain's own rules turn the value into a message).
        ensure_langchain_registered()
        made = sys.modules["langchain_core.messages"].convert_to_messages([value])[0]
        return with_langchain_id(made)
    if isinstance(value, str):
        return HumanMessage(value)
    if isinstance(value, dict):
        return _from_dict(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        role, content = value
        cls = _role_class(role)
        if cls in (ToolMessage, RemoveMessage):
            raise ValueError(
                f"A ({role!r}, content) tuple cannot make a {cls.__name__}; pass a dict with the "
                f"keys it needs, e.g. {{'role': 'tool', 'content': '...', 'tool_call_id': '...'}}."
            )
        return cls(content)
    raise TypeError(
        f"Cannot turn {value!r} into a message: pass a message, a str, a (role, content) tuple "
        "or a dict with 'role' and 'content'."
    )


def convert_to_messages(value: Any) -> list[Any]:
    """A list of messages from one message-like value or a list of them (see `to_message`);
    streamed AIMessageChunks become whole AIMessages."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        message = to_message(item)
        if isinstance(message, AIMessageChunk):
            message = message.to_message()
        elif is_langchain_message(message) and message.type == "AIMessageChunk":
            message = _langchain_chunk_to_message(message)
        out.append(message)
    return out


def _langchain_chunk_to_message(chunk: Any) -> Any:
    module = sys.modules["langchain_core.messages"]  # loaded: the chunk exists
    return module.message_chunk_to_message(chunk)
