"""ScriptedChatModel: a chat model that answers from a script, for tests and examples."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

from hitlgraph.messages import AIMessage, AIMessageChunk
from hitlgraph.pregel._context import emit_message_chunk

__all__ = ["ScriptExhaustedError", "ScriptedChatModel", "ScriptedResponse"]

ScriptedResponse = AIMessage | str | dict[str, Any]
"""One scripted answer: an AIMessage, its text, or a dict with "content" and/or "tool_calls"
(each {name, args} with an optional id)."""


class ScriptExhaustedError(IndexError):
    """The scripted model was asked for more answers than its script has."""


def _to_ai(response: ScriptedResponse, index: int) -> AIMessage:
    if isinstance(response, AIMessage):
        return response.to_message() if isinstance(response, AIMessageChunk) else response
    if isinstance(response, str):
        return AIMessage(response)
    if isinstance(response, dict):
        unknown = sorted(set(response) - {"content", "tool_calls", "id", "name"})
        if unknown:
            raise ValueError(
                f"Scripted response {index} has unknown keys {unknown}; use 'content', "
                "'tool_calls', 'id' and 'name'."
            )
        calls = [
            {"name": c["name"], "args": dict(c.get("args", {})),
             "id": c.get("id") or f"call_{uuid.uuid4().hex[:12]}"}
            for c in response.get("tool_calls", ())
        ]
        return AIMessage(response.get("content", ""), tool_calls=calls,  # type: ignore[arg-type]
                         id=response.get("id"), name=response.get("name"))
    raise TypeError(
        f"Scripted response {index} must be an AIMessage, a str or a dict, got {response!r}."
    )


_PIECES = re.compile(r"\s*\S+|\s+")


class ScriptedChatModel:
    """A chat model that returns its scripted answers in order, offline and deterministic.

    Each `invoke` (or `stream`) call takes the next answer; the messages it was given are kept
    in `calls`. `stream` yields the answer as AIMessageChunks, one per word (with the spaces
    before it), the tool calls in the last one; added up with `+` they give the answer back
    (`chunk.to_message()` is equal to it). `bind_tools` returns the model itself, so code
    written for a real model runs unchanged.

    Args:
        responses: the answers, in order (see `ScriptedResponse`). String and dict answers are
            made into AIMessages now, so each has a fixed id.

    Raises:
        ScriptExhaustedError: (from invoke / stream) every answer was used.

    Example:
        >>> model = ScriptedChatModel(responses=["Hello there!"])
        >>> [chunk.content for chunk in model.stream([("user", "hi")])]
        ['Hello', ' there!']
    """

    def __init__(self, responses: Iterable[ScriptedResponse]) -> None:
        self.responses: list[AIMessage] = [_to_ai(r, i) for i, r in enumerate(responses)]
        self.calls: list[Any] = []
        self.bound_tools: list[Any] = []
        self._next = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ScriptedChatModel({self._next} of {len(self.responses)} responses used)"

    @property
    def remaining(self) -> int:
        """How many answers are left."""
        return len(self.responses) - self._next

    def _take(self, messages: Any) -> AIMessage:
        with self._lock:
            if self._next >= len(self.responses):
                raise ScriptExhaustedError(
                    f"ScriptedChatModel has no answer left: its script has "
                    f"{len(self.responses)} and all were used. Add more to responses=[...]."
                )
            answer = self.responses[self._next]
            self._next += 1
            self.calls.append(messages)
        return answer

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> AIMessage:
        """The next answer. Inside a graph streamed with stream_mode="messages", its tokens
        are streamed as the model "generates" them, as a real chat model's would be."""
        answer = self._take(input)
        for chunk in _chunks(answer):
            emit_message_chunk(chunk)
        return answer

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> AIMessage:
        """The next answer (async)."""
        return self.invoke(input, config, **kwargs)

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[AIMessageChunk]:
        """The next answer, in pieces (also sent to the "messages" stream of the running node)."""
        for chunk in _chunks(self._take(input)):
            emit_message_chunk(chunk)
            yield chunk

    async def astream(self, input: Any, config: Any = None,
                      **kwargs: Any) -> AsyncIterator[AIMessageChunk]:
        """The next answer, in pieces (async)."""
        for chunk in self.stream(input, config, **kwargs):
            yield chunk

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        """Return this model (the script already says which tools are called)."""
        self.bound_tools = list(tools)
        return self


def _chunks(answer: AIMessage) -> Iterator[AIMessageChunk]:
    text = answer.content if isinstance(answer.content, str) else None
    pieces: list[Any] = _PIECES.findall(text) if text is not None else [answer.content]
    if not pieces or pieces == [""]:
        pieces = [""]
    last = len(pieces) - 1
    for i, piece in enumerate(pieces):
        extra: dict[str, Any] = {}
        if i == 0:
            extra = {"name": answer.name, "additional_kwargs": dict(answer.additional_kwargs)}
        if i == last:
            extra.update(tool_calls=list(answer.tool_calls),
                         invalid_tool_calls=list(answer.invalid_tool_calls),
                         response_metadata=dict(answer.response_metadata),
                         usage_metadata=answer.usage_metadata)
        yield AIMessageChunk(piece, id=answer.id, **extra)
