"""The message classes: frozen dataclasses, so `import hitlgraph` needs no extra dependency."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar, Literal

from typing_extensions import NotRequired, TypedDict

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "AnyMessage",
    "BaseMessage",
    "Content",
    "HumanMessage",
    "RemoveMessage",
    "SystemMessage",
    "ToolCall",
    "ToolCallChunk",
    "ToolMessage",
    "message_chunk_to_message",
]

Content = str | list[str | dict[str, Any]]
"""What a message says: a string, or a list of strings and content blocks (dicts with "type")."""


class ToolCall(TypedDict):
    """A tool call an AIMessage asks for: run tool `name` with keyword arguments `args`."""

    name: str
    args: dict[str, Any]
    id: str | None


class ToolCallChunk(TypedDict):
    """A piece of a tool call while it is streamed: `args` is a piece of its JSON text.

    Pieces with the same `index` are joined when AIMessageChunks are added.
    """

    name: str | None
    args: str | None
    id: str | None
    index: NotRequired[int | None]


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, repr=False)
class BaseMessage:
    """What every message has: its content, an id (a new uuid when none is given), an optional
    name, and provider data in `additional_kwargs` and `response_metadata`.

    Messages are frozen: change one with `dataclasses.replace(message, content=...)`, which keeps
    its id (add_messages then replaces the old message with it).
    """

    content: Content = ""
    """The text, or a list of text pieces and content blocks."""
    _: KW_ONLY
    id: str | None = None
    """Unique id; add_messages replaces a message by a new one with the same id."""
    name: str | None = None
    """Optional name of the speaker or tool."""
    additional_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra data a model provider sent or needs."""
    response_metadata: dict[str, Any] = field(default_factory=dict)
    """Metadata of the response (model name, finish reason, ...)."""

    type: ClassVar[str] = "base"
    """The kind of message: "human", "ai", "tool", "system" or "remove"."""

    def __post_init__(self) -> None:
        if self.id is None:
            object.__setattr__(self, "id", _new_id())

    @property
    def text(self) -> str:
        """The content's text: the string, or its text pieces joined."""
        return content_text(self.content)

    def __repr__(self) -> str:
        parts = [f"content={self.content!r}"]
        for f in dataclasses.fields(self):
            if f.name == "content":
                continue
            value = getattr(self, f.name)
            if f.name != "id" and value == _default_of(f):
                continue
            parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def pretty_repr(self) -> str:
        """A readable, multi-line rendering: a title line, then the content."""
        title = f" {_TITLES.get(self.type, self.type.title())} ".center(64, "-")
        lines = [title]
        if self.name:
            lines.append(f"name: {self.name}")
        text = self.text
        if text:
            lines.append(text)
        return "\n".join(lines)

    def pretty_print(self) -> None:
        """Print `pretty_repr()`."""
        print(self.pretty_repr())


_TITLES = {"human": "Human", "ai": "AI", "AIMessageChunk": "AI (chunk)", "tool": "Tool",
           "system": "System", "remove": "Remove"}


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def content_text(content: Any) -> str:
    """The text of a message content: the string itself, or its text pieces joined."""
    if isinstance(content, str):
        return content
    pieces: list[str] = []
    for block in content or ():
        if isinstance(block, str):
            pieces.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            pieces.append(str(block.get("text", "")))
    return "".join(pieces)


@dataclass(frozen=True, repr=False)
class HumanMessage(BaseMessage):
    """A message from the person using the application."""

    type: ClassVar[str] = "human"


@dataclass(frozen=True, repr=False)
class SystemMessage(BaseMessage):
    """Instructions to the model."""

    type: ClassVar[str] = "system"


def normalize_tool_call(call: Any) -> ToolCall:
    """A tool call as a plain {name, args, id} dict.

    Raises:
        TypeError: `call` is not a dict with a str "name" and a dict "args".
    """
    if not isinstance(call, dict):
        raise TypeError(
            f"A tool call must be a dict like {{'name': 'search', 'args': {{...}}, 'id': "
            f"'call_1'}}, got {call!r}."
        )
    name = call.get("name")
    args = call.get("args", {})
    if not isinstance(name, str) or not isinstance(args, dict):
        raise TypeError(
            f"A tool call needs a str 'name' and a dict 'args', got {call!r}."
        )
    call_id = call.get("id")
    return {"name": name, "args": args, "id": None if call_id is None else str(call_id)}


@dataclass(frozen=True, repr=False)
class AIMessage(BaseMessage):
    """A message from the model; `tool_calls` lists the tools it asks to run."""

    _: KW_ONLY
    tool_calls: list[ToolCall] = field(default_factory=list)
    """The tool calls asked for, each a {name, args, id} dict."""
    invalid_tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """Tool calls the model sent that could not be parsed, as sent, with an "error" key."""
    usage_metadata: dict[str, Any] | None = None
    """Token counts, when the provider reports them."""

    type: ClassVar[str] = "ai"

    def __post_init__(self) -> None:
        BaseMessage.__post_init__(self)
        object.__setattr__(self, "tool_calls", [normalize_tool_call(c) for c in self.tool_calls])

    def pretty_repr(self) -> str:
        """A readable, multi-line rendering, with the tool calls."""
        lines = [BaseMessage.pretty_repr(self)]
        if self.tool_calls:
            lines.append("tool calls:")
            for call in self.tool_calls:
                lines.append(f"  {call['name']}({json.dumps(call['args'], default=str)})"
                             f"  [id: {call['id']}]")
        return "\n".join(lines)


@dataclass(frozen=True, repr=False)
class AIMessageChunk(AIMessage):
    """A piece of an AIMessage while it is streamed; pieces add up with `+`.

    `tool_call_chunks` carry tool calls whose JSON arguments arrive in pieces; after adding,
    the pieces whose arguments parse are in `tool_calls`.
    """

    _: KW_ONLY
    tool_call_chunks: list[ToolCallChunk] = field(default_factory=list)
    """Streamed pieces of tool calls, joined by index when chunks are added."""

    type: ClassVar[str] = "AIMessageChunk"

    def __post_init__(self) -> None:
        AIMessage.__post_init__(self)
        if self.tool_call_chunks and not self.tool_calls:
            calls, invalid = _parse_tool_call_chunks(self.tool_call_chunks)
            object.__setattr__(self, "tool_calls", calls)
            if invalid and not self.invalid_tool_calls:
                object.__setattr__(self, "invalid_tool_calls", invalid)

    def __add__(self, other: Any) -> AIMessageChunk:
        if isinstance(other, (list, tuple)):
            total = self
            for item in other:
                total = total + item
            return total
        if not isinstance(other, AIMessageChunk):
            return NotImplemented
        chunks = _merge_tool_call_chunks(self.tool_call_chunks, other.tool_call_chunks)
        if chunks:
            calls, invalid = _parse_tool_call_chunks(chunks)
        else:
            calls = [*self.tool_calls, *other.tool_calls]
            invalid = [*self.invalid_tool_calls, *other.invalid_tool_calls]
        return AIMessageChunk(
            _merge_content(self.content, other.content),
            id=self.id if self.id is not None else other.id,
            name=self.name or other.name,
            additional_kwargs=_merge_dicts(self.additional_kwargs, other.additional_kwargs),
            response_metadata=_merge_dicts(self.response_metadata, other.response_metadata),
            tool_calls=calls,
            invalid_tool_calls=invalid,
            usage_metadata=_merge_usage(self.usage_metadata, other.usage_metadata),
            tool_call_chunks=chunks,
        )

    def to_message(self) -> AIMessage:
        """The whole AIMessage these added-up pieces make."""
        return AIMessage(
            self.content, id=self.id, name=self.name,
            additional_kwargs=dict(self.additional_kwargs),
            response_metadata=dict(self.response_metadata),
            tool_calls=list(self.tool_calls), invalid_tool_calls=list(self.invalid_tool_calls),
            usage_metadata=self.usage_metadata,
        )


def message_chunk_to_message(chunk: BaseMessage) -> BaseMessage:
    """The whole message of an added-up AIMessageChunk; any other message is returned as is."""
    return chunk.to_message() if isinstance(chunk, AIMessageChunk) else chunk


def _merge_content(left: Content, right: Content) -> Content:
    if isinstance(left, str) and isinstance(right, str):
        return left + right
    as_list: list[str | dict[str, Any]] = []
    for part in (left, right):
        if isinstance(part, str):
            if part:
                as_list.append(part)
        else:
            as_list.extend(part)
    return as_list


def _merge_dicts(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Streamed provider data: strings are joined, dicts merged, lists appended."""
    merged = dict(left)
    for key, value in right.items():
        if key not in merged or merged[key] is None:
            merged[key] = value
        elif value is None:
            continue
        elif isinstance(merged[key], str) and isinstance(value, str):
            merged[key] += value
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = _merge_dicts(merged[key], value)
        elif isinstance(merged[key], list) and isinstance(value, list):
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def _merge_usage(
    left: dict[str, Any] | None, right: dict[str, Any] | None
) -> dict[str, Any] | None:
    if left is None or right is None:
        return left if right is None else right
    total = dict(left)
    for key, value in right.items():
        old = total.get(key)
        if isinstance(old, int) and isinstance(value, int):
            total[key] = old + value
        elif isinstance(old, dict) and isinstance(value, dict):
            total[key] = _merge_usage(old, value)
        else:
            total[key] = value
    return total


def _merge_tool_call_chunks(
    left: Sequence[ToolCallChunk], right: Sequence[ToolCallChunk]
) -> list[ToolCallChunk]:
    merged: list[ToolCallChunk] = [dict(c) for c in left]  # type: ignore[misc]
    for piece in right:
        index = piece.get("index")
        target = next((c for c in merged if index is not None and c.get("index") == index),
                      None)
        if target is None:
            merged.append(dict(piece))  # type: ignore[arg-type]
            continue
        target["args"] = (target.get("args") or "") + (piece.get("args") or "")
        target["name"] = target.get("name") or piece.get("name")
        target["id"] = target.get("id") or piece.get("id")
    return merged


def _parse_tool_call_chunks(
    chunks: Sequence[ToolCallChunk],
) -> tuple[list[ToolCall], list[dict[str, Any]]]:
    calls: list[ToolCall] = []
    invalid: list[dict[str, Any]] = []
    for chunk in chunks:
        raw = chunk.get("args") or ""
        try:
            args = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            invalid.append({**chunk, "error": f"arguments are not valid JSON: {exc}"})
            continue
        if not isinstance(args, dict) or not chunk.get("name"):
            invalid.append({**chunk, "error": "a tool call needs a name and a JSON object"})
            continue
        calls.append({"name": str(chunk["name"]), "args": args, "id": chunk.get("id")})
    return calls, invalid


@dataclass(frozen=True, repr=False)
class ToolMessage(BaseMessage):
    """The result of one tool call, sent back to the model.

    `status` is "error" when the tool failed (the content then says why) or did not run.
    """

    _: KW_ONLY
    tool_call_id: str
    """The id of the tool call this answers."""
    status: Literal["success", "error"] = "success"
    """"success" when the tool ran and returned; "error" when it failed or did not run."""
    artifact: Any = None
    """Extra output of the tool that is kept but not sent to the model."""

    type: ClassVar[str] = "tool"

    def __post_init__(self) -> None:
        BaseMessage.__post_init__(self)
        if self.status not in ("success", "error"):
            raise ValueError(
                f"ToolMessage status must be 'success' or 'error', got {self.status!r}."
            )
        if not isinstance(self.tool_call_id, str):
            object.__setattr__(self, "tool_call_id", str(self.tool_call_id))


REMOVE_ALL_MESSAGES = "__remove_all__"
"""The id of a RemoveMessage that clears the whole list: RemoveMessage(id=REMOVE_ALL_MESSAGES)."""


@dataclass(frozen=True, repr=False)
class RemoveMessage(BaseMessage):
    """Returned in an update, it removes the message with this id (add_messages does it).

    `RemoveMessage(id=REMOVE_ALL_MESSAGES)` removes every message before it.
    """

    type: ClassVar[str] = "remove"

    def __post_init__(self) -> None:
        if self.id is None:
            raise TypeError(
                "RemoveMessage needs the id of the message to remove: RemoveMessage(id='...'), "
                "or RemoveMessage(id=REMOVE_ALL_MESSAGES) to remove them all."
            )
        if self.content:
            raise ValueError(
                f"RemoveMessage takes no content, got {self.content!r}; pass only id=..."
            )


AnyMessage = AIMessage | HumanMessage | ToolMessage | SystemMessage | RemoveMessage
"""Any of the message classes (AIMessageChunk is an AIMessage)."""
