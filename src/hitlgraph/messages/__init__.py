"""Chat messages and `add_messages`, the reducer that keeps a list of them.

The classes mirror langchain_core's (`content`, `id`, `name`, `type`, `additional_kwargs`,
`response_metadata`; `AIMessage.tool_calls`; `ToolMessage.tool_call_id` and `status`) as frozen
dataclasses, so they need no extra dependency. Every checkpoint saver can store them: they are
registered with the serializer under the names "hitlgraph.messages.<Class>".

When langchain_core is installed, its message objects work too: add_messages keeps them as they
are (mixed with these), ToolNode and tools_condition read them, and savers store them (install
with ``pip install -e '.[langchain]'`` from the repository).

Example:
    >>> from hitlgraph.messages import AIMessage, HumanMessage, add_messages
    >>> history = add_messages([], [("user", "What is 2 + 2?")])
    >>> history = add_messages(history, AIMessage("4"))
    >>> [m.type for m in history]
    ['human', 'ai']
"""

from hitlgraph.checkpoint.serde import register_type
from hitlgraph.messages._convert import (
    MessageLike,
    Messages,
    convert_to_messages,
    is_ai_message,
    is_message,
)
from hitlgraph.messages._interop import register_langchain_decoders
from hitlgraph.messages._reducer import add_messages
from hitlgraph.messages._types import (
    REMOVE_ALL_MESSAGES,
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    BaseMessage,
    Content,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
    message_chunk_to_message,
)

__all__ = [
    "REMOVE_ALL_MESSAGES",
    "AIMessage",
    "AIMessageChunk",
    "AnyMessage",
    "BaseMessage",
    "Content",
    "HumanMessage",
    "MessageLike",
    "Messages",
    "RemoveMessage",
    "SystemMessage",
    "ToolCall",
    "ToolCallChunk",
    "ToolMessage",
    "add_messages",
    "convert_to_messages",
    "is_ai_message",
    "is_message",
    "message_chunk_to_message",
]

for _cls in (HumanMessage, AIMessage, AIMessageChunk, ToolMessage, SystemMessage, RemoveMessage):
    # Stable names: stored data keeps naming these classes wherever the code moves.
    register_type(_cls, f"hitlgraph.messages.{_cls.__name__}")
del _cls

register_langchain_decoders()
