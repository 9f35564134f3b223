"""Public names live where LangGraph keeps them, so code ported by renaming the import prefix
finds every one."""

from __future__ import annotations

import importlib

import pytest

import hitlgraph

LANGGRAPH_PATHS = {
    "hitlgraph.graph": ["StateGraph", "START", "END"],
    "hitlgraph.types": [
        "interrupt", "Command", "Send", "Interrupt", "StateSnapshot", "RetryPolicy",
        "CachePolicy", "PregelTask", "StreamMode", "StreamWriter", "Durability", "All",
    ],
    "hitlgraph.cache.base": ["BaseCache"],
    "hitlgraph.cache.memory": ["InMemoryCache"],
    "hitlgraph.func": ["entrypoint", "task"],
    "hitlgraph.checkpoint.memory": ["InMemorySaver", "MemorySaver"],
    "hitlgraph.checkpoint.base": [
        "BaseCheckpointSaver", "Checkpoint", "CheckpointMetadata", "CheckpointTuple",
        "empty_checkpoint",
    ],
    "hitlgraph.errors": [
        "GraphRecursionError", "InvalidUpdateError", "EmptyInputError", "GraphInterrupt",
        "GraphBubbleUp", "NodeInterrupt", "ParentCommand", "ErrorCode",
    ],
    "hitlgraph.constants": ["START", "END"],
    "hitlgraph.config": ["get_config", "get_stream_writer"],
    "hitlgraph.runtime": ["Runtime", "get_runtime", "ExecutionInfo", "ServerInfo"],
    "hitlgraph.store.base": ["BaseStore", "Item", "SearchItem", "GetOp", "PutOp", "SearchOp",
                             "ListNamespacesOp", "MatchCondition", "IndexConfig", "TTLConfig",
                             "InvalidNamespaceError"],
    "hitlgraph.store.memory": ["InMemoryStore"],
}


@pytest.mark.parametrize(
    ("module", "name"),
    [(module, name) for module, names in LANGGRAPH_PATHS.items() for name in names],
)
def test_name_importable_from_langgraph_path(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


def test_memory_saver_is_alias_of_in_memory_saver() -> None:
    from hitlgraph.checkpoint.memory import InMemorySaver, MemorySaver

    assert MemorySaver is InMemorySaver


def test_start_and_end_are_langgraph_strings() -> None:
    from hitlgraph.graph import END, START

    assert (START, END) == ("__start__", "__end__")


def test_top_level_names_are_the_same_objects() -> None:
    from hitlgraph.checkpoint.memory import InMemorySaver
    from hitlgraph.errors import GraphRecursionError
    from hitlgraph.graph import StateGraph
    from hitlgraph.types import Command, interrupt

    assert hitlgraph.StateGraph is StateGraph
    assert hitlgraph.InMemorySaver is InMemorySaver
    assert hitlgraph.Command is Command
    assert hitlgraph.interrupt is interrupt
    assert hitlgraph.GraphRecursionError is GraphRecursionError


def test_top_level_all_lists_only_existing_names() -> None:
    missing = [name for name in hitlgraph.__all__ if not hasattr(hitlgraph, name)]
    assert missing == []
    assert {"StateGraph", "START", "END", "interrupt", "Command", "Send", "InMemorySaver"} <= set(
        hitlgraph.__all__
    )


def test_in_memory_saver_is_a_base_checkpoint_saver() -> None:
    from hitlgraph.checkpoint.base import BaseCheckpointSaver
    from hitlgraph.checkpoint.memory import InMemorySaver

    assert isinstance(InMemorySaver(), BaseCheckpointSaver)


def test_graph_interrupt_is_not_an_exception() -> None:
    from hitlgraph.errors import GraphBubbleUp, GraphInterrupt

    assert issubclass(GraphInterrupt, GraphBubbleUp)
    assert not issubclass(GraphInterrupt, Exception)


def test_error_classes_keep_langgraph_bases() -> None:
    from hitlgraph.errors import EmptyInputError, GraphRecursionError, InvalidUpdateError

    assert issubclass(GraphRecursionError, RecursionError)
    assert issubclass(InvalidUpdateError, Exception)
    assert issubclass(EmptyInputError, Exception)
