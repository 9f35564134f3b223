"""The graphs both servers serve in the differential suite, written against LangGraph.

`langgraph dev` imports this file as it is; `hitlgraph serve` gets a copy whose import prefix
`langgraph` is replaced by `hitlgraph`, as a user porting their code would do.
"""

from __future__ import annotations

import operator
import time
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class ReviewState(TypedDict, total=False):
    topic: str
    draft: str
    approved: bool
    published: str


def write_draft(state: ReviewState) -> ReviewState:
    return {"draft": f"Tips for {state['topic']}"}


def review(state: ReviewState) -> ReviewState:
    answer = interrupt({"question": "Publish this draft?", "draft": state["draft"]})
    if not isinstance(answer, dict) or "approved" not in answer:
        raise ValueError(f"The answer must be {{'approved': bool}}, got {answer!r}")
    return {"approved": answer["approved"], "draft": answer.get("text", state["draft"])}


def publish(state: ReviewState) -> ReviewState:
    return {"published": state["draft"].upper() if state["approved"] else ""}


review_builder = StateGraph(ReviewState)
review_builder.add_sequence([write_draft, review, publish])
review_builder.add_edge(START, "write_draft")
review_builder.add_edge("publish", END)
review_graph = review_builder.compile()


class StepsState(TypedDict, total=False):
    value: str
    log: Annotated[list[str], operator.add]


def step_a(state: StepsState) -> StepsState:
    return {"log": ["a"]}


def step_b(state: StepsState) -> StepsState:
    return {"log": [f"b saw {state.get('value', '')}"]}


def step_c(state: StepsState) -> StepsState:
    return {"log": ["c"]}


steps_builder = StateGraph(StepsState)
steps_builder.add_sequence([step_a, step_b, step_c])
steps_builder.add_edge(START, "step_a")
steps_builder.add_edge("step_c", END)
steps_graph = steps_builder.compile()


def fail(state: StepsState) -> StepsState:
    raise RuntimeError(f"cannot handle {state.get('value')!r}")


failing_builder = StateGraph(StepsState)
failing_builder.add_node("step_a", step_a)
failing_builder.add_node("fail", fail)
failing_builder.add_edge(START, "step_a")
failing_builder.add_edge("step_a", "fail")
failing_builder.add_edge("fail", END)
failing_graph = failing_builder.compile()


def slow_step(state: StepsState) -> StepsState:
    time.sleep(1.0)
    return {"log": ["slow"]}


slow_builder = StateGraph(StepsState)
slow_builder.add_node("slow_step", slow_step)
slow_builder.add_edge(START, "slow_step")
slow_builder.add_edge("slow_step", END)
slow_graph = slow_builder.compile()

GRAPHS: dict[str, Any] = {
    "review": "review_graph",
    "steps": "steps_graph",
    "failing": "failing_graph",
    "slow": "slow_graph",
}
"""Graph id -> the variable holding it (langgraph.json is written from this)."""
