"""The LangGraph-style config dict, read once at the edge; get_config() inside a node."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hitlgraph._running import current_task

__all__ = ["get_config", "get_stream_writer"]

RunnableConfig = dict[str, Any]


def get_config() -> RunnableConfig:
    """The config of the node that is running now."""
    return current_task("get_config()").config


def get_stream_writer() -> Callable[[Any], None]:
    """A function that sends a chunk to the "custom" stream of the running node.

    When the run is not streamed with stream_mode="custom", the function does nothing.
    """
    return current_task("get_stream_writer()").writer
