"""What invoke(), ainvoke(), stream() and astream() accept: LangGraph's keywords, and nothing
else. LangGraph ignores a keyword it does not know; hitlgraph refuses it, naming it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypedDict

import pytest

from hitlgraph.graph import START, StateGraph
from hitlgraph.pregel.compiled import CompiledStateGraph


class State(TypedDict, total=False):
    a: int
    b: str


def _graph() -> CompiledStateGraph:
    builder = StateGraph(State)
    builder.add_node("one", lambda state: {"a": state.get("a", 0) + 1, "b": "x"})
    builder.add_edge(START, "one")
    return builder.compile()


async def _collect(chunks: Any) -> list[Any]:
    return [chunk async for chunk in chunks]


CALLS: dict[str, Callable[..., Any]] = {
    "invoke": lambda graph, **kw: graph.invoke({"a": 1}, **kw),
    "ainvoke": lambda graph, **kw: asyncio.run(graph.ainvoke({"a": 1}, **kw)),
    "stream": lambda graph, **kw: list(graph.stream({"a": 1}, **kw)),
    "astream": lambda graph, **kw: asyncio.run(_collect(graph.astream({"a": 1}, **kw))),
}


@pytest.mark.parametrize("method", sorted(CALLS))
def test_unknown_keywords_raise_type_error_naming_them(method: str) -> None:
    with pytest.raises(TypeError, match=rf"{method}\(\).*'input_keys', 'totally_bogus'"):
        CALLS[method](_graph(), totally_bogus=3, input_keys=["a"])


@pytest.mark.parametrize("method", sorted(CALLS))
@pytest.mark.parametrize("keyword", ["checkpoint_during", "context", "control", "print_mode",
                                     "version", "debug"])
def test_langgraph_keywords_not_implemented_yet_are_accepted(method: str, keyword: str) -> None:
    value = {"print_mode": (), "version": "v1", "checkpoint_during": None}.get(keyword)
    assert CALLS[method](_graph(), **{keyword: value}) == CALLS[method](_graph())


@pytest.mark.parametrize("method", ["invoke", "ainvoke"])
def test_invoke_takes_the_stream_keywords_langgraph_passes_on(method: str) -> None:
    assert CALLS[method](_graph(), subgraphs=True, debug=True) == {"a": 2, "b": "x"}


@pytest.mark.parametrize("method", sorted(CALLS))
def test_unknown_output_key_names_it_and_the_state_keys(method: str) -> None:
    with pytest.raises(ValueError, match=r"\['zzz'\].*\['a', 'b'\]"):
        CALLS[method](_graph(), output_keys=["a", "zzz"])


def test_output_keys_as_a_str_gives_the_bare_value() -> None:
    graph = _graph()
    assert graph.invoke({"a": 1}, output_keys="b") == "x"
    assert list(graph.stream({"a": 1}, output_keys="b", stream_mode="updates")) == [
        {"one": "x"}
    ]


def test_output_keys_as_a_list_narrows_values_and_updates() -> None:
    graph = _graph()
    assert graph.invoke({"a": 1}, output_keys=["a"]) == {"a": 2}
    assert list(graph.stream({"a": 1}, output_keys=["a"], stream_mode="values")) == [
        {"a": 1}, {"a": 2}
    ]
    assert list(graph.stream({"a": 1}, output_keys=[], stream_mode="updates")) == [
        {"one": None}
    ]
    assert graph.invoke({"a": 1}, output_keys=[]) is None
