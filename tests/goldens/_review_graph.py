"""The graph whose checkpoints the golden SQLite files hold: appends over several steps (stored
as deltas), a parallel step (several tasks' writes), then a pause at an interrupt."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    answer: str


def grow(state: State) -> dict[str, Any]:
    return {"log": [f"item-{len(state.get('log', []))}"]}


def more(state: State) -> str:
    return "grow" if len(state.get("log", [])) < 6 else "fan"


def fan(state: State) -> dict[str, Any]:
    return {"log": ["fan"]}


def left(state: State) -> dict[str, Any]:
    return {"log": ["left"]}


def right(state: State) -> dict[str, Any]:
    return {"log": ["right"]}


def ask(state: State) -> dict[str, Any]:
    return {"answer": interrupt({"question": "ok?", "items": len(state["log"])})}


def finish(state: State) -> dict[str, Any]:
    return {"log": [f"done:{state['answer']}"]}


def build() -> StateGraph[Any]:
    graph = StateGraph(State)
    for name, node in [("grow", grow), ("fan", fan), ("left", left), ("right", right),
                       ("ask", ask), ("finish", finish)]:
        graph.add_node(name, node)
    graph.add_edge(START, "grow")
    graph.add_conditional_edges("grow", more, ["grow", "fan"])
    graph.add_edge("fan", "left")
    graph.add_edge("fan", "right")
    graph.add_edge(["left", "right"], "ask")
    graph.add_edge("ask", "finish")
    graph.add_edge("finish", END)
    return graph


EXPECTED_FINAL = [*(f"item-{i}" for i in range(6)), "fan", "left", "right", "done:yes"]
