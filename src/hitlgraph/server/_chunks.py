"""The SSE events of a run's chunks in the modes its client asked for, as LangGraph's server
sends them: one event per chunk, named after its mode (and its namespace, "mode|ns"), with the
checkpoints of "debug" chunks named as the server names them, and "messages" chunks in the
shapes of the SDK's "messages-tuple" and "messages" modes."""

from __future__ import annotations

from typing import Any

from hitlgraph.server._json import dumps
from hitlgraph.server._state import debug_chunk

__all__ = ["SDK_TO_GRAPH", "ChunkEvents", "MessageStream", "mode_names"]

SDK_TO_GRAPH = {"messages-tuple": "messages"}
"""The graph's stream mode of each SDK mode that has a name of its own."""


def mode_names(stream_mode: Any) -> list[str]:
    """A run's `stream_mode` (one name, a list, or nothing: "values") as a list."""
    return [stream_mode] if isinstance(stream_mode, str) else list(stream_mode or ["values"])


class ChunkEvents:
    """The SSE events of one run's chunks, for the modes in `asked` (the SDK's names)."""

    def __init__(self, asked: list[str], thread_id: str) -> None:
        self.wanted = {SDK_TO_GRAPH.get(name, name) for name in asked}
        """The graph's stream modes whose chunks the client gets."""
        self.thread_id = thread_id
        """The thread as the client knows it (debug checkpoints name it)."""
        self.messages = MessageStream(tuples="messages-tuple" in asked,
                                      whole="messages" in asked)

    def events(self, mode: str, chunk: Any, ns: tuple[str, ...]) -> list[tuple[str, str]]:
        """The events of a chunk of `mode` from the graph (or subgraph) at `ns` (none when
        the client did not ask for the mode)."""
        if mode not in self.wanted:
            return []
        if mode == "messages":
            return self.messages.events(chunk, ns)
        if mode == "debug":
            chunk = debug_chunk(chunk, self.thread_id)
        return [(mode if not ns else "|".join([mode, *ns]), dumps(chunk))]


def _as_message(message: Any) -> Any:
    """A message chunk as the whole message it adds up to so far (other messages as they are)."""
    if not type(message).__name__.endswith("Chunk"):
        return message
    convert = getattr(message, "to_message", None)
    if callable(convert):
        return convert()
    try:
        from langchain_core.messages import message_chunk_to_message
    except ImportError:  # pragma: no cover - a LangChain chunk implies langchain_core
        return message
    return message_chunk_to_message(message)


class MessageStream:
    """The SSE events of the graph's "messages" chunks ((message, metadata) pairs), as the
    LangGraph server sends them: `messages` with the pair for the SDK's "messages-tuple"
    mode; for its "messages" mode, `messages/metadata` the first time a message id is seen,
    then `messages/partial` with the message as streamed so far (chunks added up), or
    `messages/complete` with a whole message."""

    def __init__(self, *, tuples: bool, whole: bool) -> None:
        self.tuples = tuples
        self.whole = whole
        self.seen: dict[str, Any] = {}

    def events(self, pair: Any, ns: tuple[str, ...]) -> list[tuple[str, str]]:
        suffix = "|".join(("", *ns)) if ns else ""
        out: list[tuple[str, str]] = []
        if self.tuples:
            out.append(("messages" + suffix, dumps(pair)))
        if not self.whole:
            return out
        message, metadata = pair
        key = str(getattr(message, "id", None) or id(message))
        if key not in self.seen:
            out.append(("messages/metadata" + suffix, dumps({key: {"metadata": metadata}})))
        partial = type(message).__name__.endswith("Chunk")
        before = self.seen.get(key)
        if partial and before is not None and type(before).__name__.endswith("Chunk"):
            message = before + message
        self.seen[key] = message
        kind = "messages/partial" if partial else "messages/complete"
        out.append((kind + suffix, dumps([_as_message(message)])))
        return out
