"""Graphs the CLI tests run; copied into each test's working folder as `flows.py`."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from hitlgraph import CompiledStateGraph
from hitlgraph.func import entrypoint
from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage
from hitlgraph.prebuilt import ToolReviewNode, tool, tools_condition
from hitlgraph.types import interrupt


class Post(TypedDict, total=False):
    topic: str
    draft: str
    approved: bool
    published: str


def write_draft(state: Post) -> Post:
    return {"draft": f"Tips for {state['topic']}."}


def review(state: Post) -> Post:
    answer = interrupt({"question": "Publish this draft?", "draft": state["draft"]})
    return {"approved": bool(answer["approved"])}


def publish(state: Post) -> Post:
    return {"published": state["draft"].upper() if state["approved"] else ""}


review_builder = StateGraph(Post)
review_builder.add_sequence([write_draft, review, publish])
review_builder.add_edge(START, "write_draft")
review_builder.add_edge("publish", END)
review_graph = review_builder.compile()


class Greeting(TypedDict, total=False):
    name: str
    greeting: str


def ask_name(state: Greeting) -> Greeting:
    name = interrupt("What is your name?")
    return {"name": name, "greeting": f"Hello, {name}!"}


greet_builder = StateGraph(Greeting)
greet_builder.add_node(ask_name)
greet_builder.add_edge(START, "ask_name")
greet = greet_builder.compile()


class Signoff(TypedDict):
    answers: Annotated[list[str], operator.add]


def legal(state: Signoff) -> Signoff:
    return {"answers": ["legal: " + str(interrupt("Legal OK?"))]}


def finance(state: Signoff) -> Signoff:
    return {"answers": ["finance: " + str(interrupt("Finance OK?"))]}


signoff_builder = StateGraph(Signoff)
signoff_builder.add_node(legal)
signoff_builder.add_node(finance)
signoff_builder.add_edge(START, "legal")
signoff_builder.add_edge(START, "finance")
signoff = signoff_builder.compile()


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


def step1(state: Log) -> Log:
    return {"log": ["step1"]}


def step2(state: Log) -> Log:
    return {"log": ["step2"]}


breaks_builder = StateGraph(Log)
breaks_builder.add_sequence([step1, step2])
breaks_builder.add_edge(START, "step1")
breaks = breaks_builder.compile(interrupt_before=["step2"])


def explode(state: Log) -> Log:
    raise ValueError("the flux capacitor is empty")


boom_builder = StateGraph(Log)
boom_builder.add_sequence([step1, explode])
boom_builder.add_edge(START, "step1")
boom = boom_builder.compile()


plain = StateGraph(Log).add_sequence([step1, step2]).add_edge(START, "step1").compile()


def route(state: Log) -> Literal["again", "stop"]:
    return "again" if len(state["log"]) < 2 else "stop"


branchy_builder = StateGraph(Log)
branchy_builder.add_node(step1)
branchy_builder.add_node(step2)
branchy_builder.add_edge(START, "step1")
branchy_builder.add_conditional_edges("step1", route, {"again": "step2", "stop": END})
branchy_builder.add_edge("step2", "step1")
branchy = branchy_builder.compile(interrupt_after=["step2"])


@entrypoint()
def double_check(number: int) -> dict[str, Any]:
    ok = interrupt({"question": f"Double {number}?"})
    return {"result": number * 2 if ok else number}


def make_graph() -> CompiledStateGraph:
    """A factory: its return annotation names a graph type, so the CLI calls it."""
    return review_builder.compile()


def main() -> None:
    """A script's entry point: the CLI must not call it to look for a graph."""
    raise SystemExit("main() was called")


not_a_graph = 42


@tool
def delete_file(path: str) -> str:
    """Delete a file."""
    return f"deleted {path}"


def asks_to_delete(state: MessagesState) -> dict[str, Any]:
    if any(getattr(m, "type", None) == "tool" for m in state["messages"]):
        return {"messages": [AIMessage("ok", id="ai-2")]}
    return {"messages": [AIMessage("", id="ai-1", tool_calls=[
        {"name": "delete_file", "args": {"path": "/tmp/x"}, "id": "call_del"}])]}


guarded_builder = StateGraph(MessagesState)
guarded_builder.add_node("agent", asks_to_delete)
guarded_builder.add_node(ToolReviewNode([delete_file], allowed=["accept", "ignore"]))
guarded_builder.add_edge(START, "agent")
guarded_builder.add_conditional_edges("agent", tools_condition, ["tools", END])
guarded_builder.add_edge("tools", "agent")
guarded = guarded_builder.compile()


def nap(state: Log) -> Log:
    import time

    time.sleep(60)
    return {"log": ["nap"]}


slow = StateGraph(Log).add_sequence([step1, nap]).add_edge(START, "step1").compile()


def unstorable_step(state: Log) -> dict[str, Any]:
    return {"log": [object()]}  # no serializer takes a bare object


unstorable = StateGraph(Log).add_node(unstorable_step).add_edge(START, "unstorable_step").compile()
