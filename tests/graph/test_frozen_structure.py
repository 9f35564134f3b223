"""A compiled graph keeps the structure its builder had at compile(), as LangGraph's does."""

from __future__ import annotations

from typing import TypedDict

import pytest

from hitlgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    a: int


def _builder() -> StateGraph[State]:
    builder = StateGraph(State)
    builder.add_node("first", lambda state: {"a": 1})
    builder.add_edge(START, "first")
    return builder


def test_nodes_added_after_compile_do_not_run_or_show() -> None:
    builder = _builder()
    graph = builder.compile()
    builder.add_node("second", lambda state: {"a": 2})
    builder.add_edge("first", "second")
    builder.add_edge("second", END)

    assert graph.invoke({"a": 0}) == {"a": 1}
    assert sorted(graph.nodes) == [START, "first"]
    drawing = graph.get_graph()
    assert sorted(drawing.nodes) == [START, "first"]
    assert [(e.source, e.target) for e in drawing.edges] == [(START, "first")]


def test_builder_attribute_is_the_builder_as_in_langgraph() -> None:
    builder = _builder()
    graph = builder.compile()
    builder.add_node("second", lambda state: {"a": 2})
    assert graph.builder is builder
    assert "second" in graph.builder.nodes


def test_structure_is_read_only() -> None:
    graph = _builder().compile()
    with pytest.raises(TypeError):
        graph.structure.nodes["x"] = graph.structure.nodes["first"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        graph.structure.edges.add(("first", END))  # type: ignore[attr-defined]
