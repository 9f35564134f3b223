"""Graphs the test server serves (named in the langgraph.json the fixtures write)."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.prebuilt import ScriptedChatModel
from hitlgraph.types import interrupt


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


class StepsState(TypedDict, total=False):
    value: str
    log: Annotated[list[str], operator.add]


def step_a(state: StepsState) -> StepsState:
    return {"log": ["a"]}


def step_b(state: StepsState) -> StepsState:
    return {"log": [f"b saw {state.get('value', '')}"]}


def step_c(state: StepsState) -> StepsState:
    return {"log": ["c"]}


def build_steps() -> Any:
    builder = StateGraph(StepsState)
    builder.add_sequence([step_a, step_b, step_c])
    builder.add_edge(START, "step_a")
    builder.add_edge("step_c", END)
    return builder.compile()


class SlowState(TypedDict, total=False):
    seconds: float
    done: Annotated[list[str], operator.add]


async def slow(state: SlowState) -> SlowState:
    await asyncio.sleep(state.get("seconds", 0.5))
    return {"done": ["slow"]}


slow_builder = StateGraph(SlowState)
slow_builder.add_node("slow", slow)
slow_builder.add_edge(START, "slow")
slow_builder.add_edge("slow", END)


def chat(state: MessagesState) -> dict[str, Any]:
    """Streams a scripted reply token by token (the "messages" stream mode sees the chunks)."""
    model = ScriptedChatModel(responses=["Hello there, reviewer!"])
    reply = None
    for chunk in model.stream(state["messages"]):
        reply = chunk if reply is None else reply + chunk
    assert reply is not None
    return {"messages": [reply.to_message()]}


chat_builder = StateGraph(MessagesState)
chat_builder.add_node("chat", chat)
chat_builder.add_edge(START, "chat")
chat_builder.add_edge("chat", END)


class SlowReviewState(TypedDict, total=False):
    seconds: float
    answer: str
    done: Annotated[list[str], operator.add]


def ask_first(state: SlowReviewState) -> SlowReviewState:
    return {"answer": interrupt("Go ahead?")}


async def then_slow(state: SlowReviewState) -> SlowReviewState:
    await asyncio.sleep(state.get("seconds", 0.0))
    return {"done": [f"slow after {state['answer']}"]}


slow_review_builder = StateGraph(SlowReviewState)
slow_review_builder.add_node("ask", ask_first)
slow_review_builder.add_node("slow", then_slow)
slow_review_builder.add_edge(START, "ask")
slow_review_builder.add_edge("ask", "slow")
slow_review_builder.add_edge("slow", END)
