"""The LangGraph-style config dict, read once at the edge; get_config() inside a node."""

from __future__ import annotations

from typing import Any

from hitlgraph.pregel._context import current_task

__all__ = ["get_config", "get_stream_writer"]

RunnableConfig = dict[str, Any]


def get_config() -> RunnableConfig:
    """The config of the node that is running now."""
    return current_task("get_config()").config


def get_stream_writer() -> Any:
    """A function that sends a chunk to the "custom" stream of the running node."""
    task = current_task("get_stream_writer()")
    if task.writer is None:
        return lambda _chunk: None
    return task.writer
