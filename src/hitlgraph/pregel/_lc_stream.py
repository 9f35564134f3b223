"""Token streaming from LangChain chat models into stream_mode="messages".

When a node runs while its graph is streamed with "messages" and the program uses
langchain-core, the node runs with a LangChain callback handler in LangChain's config context.
A LangChain chat model called inside the node (even as `model.invoke(messages)`, without a
config) then streams, and each token chunk goes to the "messages" stream with the node's
metadata. Nothing here imports langchain-core unless the program already did.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

from hitlgraph.pregel._context import TaskContext


def _handler_class() -> type[Any]:
    from langchain_core.callbacks import BaseCallbackHandler

    class StreamTokens(BaseCallbackHandler):
        """Sends a chat model's token chunks to the running node's "messages" stream."""

        run_inline = True

        def __init__(self, task: TaskContext) -> None:
            self.task = task

        def on_llm_new_token(self, token: Any, *, chunk: Any = None, **kwargs: Any) -> None:
            message = getattr(chunk, "message", None)
            if message is not None:
                self.task.emit_message(message)

        # Declares the handler a streaming one, so chat models stream even under invoke().
        def tap_output_iter(self, run_id: Any, output: Iterator[Any]) -> Iterator[Any]:
            return output

        def tap_output_aiter(self, run_id: Any, output: AsyncIterator[Any]
                             ) -> AsyncIterator[Any]:
            return output

    return StreamTokens


_cls: type[Any] | None = None


def stream_chat_model_tokens(task: TaskContext) -> None:
    """If the task's run listens to "messages" and langchain-core is in use, make LangChain
    chat models called by the task stream their tokens there. Call inside the task's own
    context (it sets a context variable)."""
    global _cls
    sink = task.sink
    if sink is None or "messages" not in sink.modes or "langchain_core" not in sys.modules:
        return
    from langchain_core.runnables.config import var_child_runnable_config

    if _cls is None:
        _cls = _handler_class()
    current = var_child_runnable_config.get() or {}
    handler = _cls(task)
    existing: Any = current.get("callbacks")
    if existing is None:
        callbacks: Any = [handler]
    elif isinstance(existing, list):
        callbacks = [*existing, handler]
    else:  # a callback manager
        callbacks = existing.copy()
        callbacks.add_handler(handler, inherit=True)
    var_child_runnable_config.set({**current, "callbacks": callbacks,
                                   "metadata": {**current.get("metadata", {}),
                                                **task.config.get("metadata", {})}})
