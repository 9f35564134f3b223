"""compile() checks the graph's structure and names the node at fault."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

import pytest
from typing_extensions import TypedDict

from hitlgraph.errors import GraphValidationError
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def noop(state: State) -> None:
    return None


def builder_with(*names: str) -> StateGraph[State]:
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, noop)
    return builder


def test_graph_validation_error_is_a_value_error() -> None:
    assert issubclass(GraphValidationError, ValueError)


def test_edge_to_unknown_node_names_it() -> None:
    builder = builder_with("a").add_edge(START, "a").add_edge("a", "ghost")

    with pytest.raises(ValueError, match=r"Edge 'a' -> 'ghost' ends at an unknown node: 'ghost'"):
        builder.compile()


def test_edge_from_unknown_node_names_it() -> None:
    builder = builder_with("a").add_edge(START, "a").add_edge("ghost", "a")

    with pytest.raises(GraphValidationError, match="starts at an unknown node: 'ghost'"):
        builder.compile()


def test_conditional_edge_mapping_to_unknown_node_names_it() -> None:
    builder = builder_with("a").add_edge(START, "a")
    builder.add_conditional_edges("a", lambda s: "x", {"x": "ghost"})

    with pytest.raises(GraphValidationError, match="maps to an unknown node: 'ghost'"):
        builder.compile()


def test_unreachable_node_is_named() -> None:
    builder = builder_with("a", "island").add_edge(START, "a")

    with pytest.raises(GraphValidationError, match="Node 'island' is unreachable"):
        builder.compile()


def test_node_reached_only_by_declared_command_goto_is_reachable() -> None:
    def route(state: State) -> Command[Literal["b"]]:
        return Command(goto="b")

    graph = builder_with("b").add_node("a", route).add_edge(START, "a").compile()

    assert graph.invoke({"log": []}) == {"log": []}


def test_missing_entry_point_is_reported() -> None:
    builder = builder_with("a").add_edge("a", END)

    with pytest.raises(GraphValidationError, match=r"no entry point.*add_edge\(START, "):
        builder.compile()


@pytest.mark.parametrize("when", ["interrupt_before", "interrupt_after"])
def test_unknown_node_in_compile_breakpoints_is_named(when: str) -> None:
    builder = builder_with("a").add_edge(START, "a")
    kwargs: dict[str, Any] = {when: ["a", "ghost"]}

    with pytest.raises(GraphValidationError, match=f"{when} names an unknown node: 'ghost'"):
        builder.compile(**kwargs)


def test_every_problem_is_listed_at_once() -> None:
    builder = builder_with("a").add_edge("a", "ghost")

    with pytest.raises(GraphValidationError) as info:
        builder.compile(interrupt_before=["phantom"])

    assert len(info.value.problems) == 3
    message = str(info.value)
    assert "'ghost'" in message and "'phantom'" in message and "no entry point" in message
