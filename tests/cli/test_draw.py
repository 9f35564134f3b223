"""CompiledStateGraph.get_graph(): the nodes and edges of a graph, and its Mermaid text."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.graph._draw import Edge
from hitlgraph.types import Command


class S(TypedDict):
    log: Annotated[list[str], operator.add]


def node(state: S) -> S:
    return {"log": ["x"]}


def test_plain_and_waiting_edges() -> None:
    b = StateGraph(S)
    for name in ("a", "b", "c"):
        b.add_node(name, node)
    b.add_edge(START, "a")
    b.add_edge(START, "b")
    b.add_edge(["a", "b"], "c")
    b.add_edge("c", END)
    drawing = b.compile().get_graph()
    assert list(drawing.nodes) == [START, "a", "b", "c", END]
    assert drawing.edges == [
        Edge(START, "a"), Edge(START, "b"), Edge("a", "c"), Edge("b", "c"), Edge("c", END),
    ]


def test_conditional_edges_without_path_map_reach_every_node() -> None:
    def pick(state: S) -> str:
        return "b"

    b = StateGraph(S)
    b.add_node("a", node)
    b.add_node("b", node)
    b.add_edge(START, "a")
    b.add_conditional_edges("a", pick)
    edges = {(e.source, e.target): e for e in b.compile().get_graph().edges}
    assert edges[("a", "b")].conditional and edges[("a", END)].conditional
    assert ("a", "a") not in edges


def test_literal_routes_and_command_destinations() -> None:
    def route(state: S) -> Literal["b", "__end__"]:
        return "b"

    def jumper(state: S) -> Command[Literal["a", "__end__"]]:
        return Command(goto=END)

    b = StateGraph(S)
    b.add_node("a", node)
    b.add_node("b", jumper)
    b.add_edge(START, "a")
    b.add_conditional_edges("a", route)
    drawing = b.compile(interrupt_before=["b"], interrupt_after="*").get_graph()
    pairs = {(e.source, e.target, e.conditional) for e in drawing.edges}
    assert pairs == {(START, "a", False), ("a", "b", True), ("a", END, True),
                     ("b", "a", True), ("b", END, True)}
    assert drawing.nodes["b"].metadata == {"__interrupt": "before,after"}
    assert drawing.nodes["a"].metadata == {"__interrupt": "after"}
    text = drawing.draw_mermaid()
    assert "\tb(\"b<br/><small><em>interrupt before,after</em></small>\")" in text
    assert "\ta -.-> b;" in text and "\tb -.-> __end__;" in text


def test_mermaid_ids_and_labels_are_safe() -> None:
    b = StateGraph(S)
    b.add_node("check-in", node)
    b.add_node('say "hi"', node)
    b.add_node("end", node)
    b.add_edge(START, "check-in")
    b.add_conditional_edges("check-in", lambda s: "x|y", {"x|y": 'say "hi"', "z": "end"})
    b.add_edge('say "hi"', END)
    b.add_edge("end", END)
    text = b.compile().get_graph().draw_mermaid(with_styles=False)
    assert text.startswith("graph TD;\n")
    assert '\tcheck_in("check-in")' in text
    assert '\tsay__hi_("say #quot;hi#quot;")' in text
    assert '\tend_("end")' in text  # "end" is a Mermaid keyword
    assert "\tcheck_in -.->|x#124;y| say__hi_;" in text
    assert "\tcheck_in -.->|z| end_;" in text
    assert "classDef" not in text


def test_to_json() -> None:
    b = StateGraph(S).add_node("a", node).add_edge(START, "a").add_edge("a", END)
    data = b.compile().get_graph().to_json()
    assert data["edges"] == [
        {"source": START, "target": "a", "data": None, "conditional": False},
        {"source": "a", "target": END, "data": None, "conditional": False},
    ]
    assert [n["id"] for n in data["nodes"]] == [START, "a", END]
