"""The agent `hitlgraph demo` runs: a support assistant whose tool calls a person reviews.

A scripted chat model (hitlgraph.prebuilt.ScriptedChatModel, standing in for a real one) drafts
a reply to a customer and asks for two tool calls: look the order up, then email the reply. The
"tools" node is a ToolReviewNode: it pauses once per call and runs nothing until each call is
answered with accept, edit, respond or ignore. The model then sums up what the tools did.

The model's script is chosen by how many assistant turns the conversation already has, so a
run paused in one process and resumed in another (the checkpoints live in SQLite) goes on where
it stopped.

Use it from the command line:

    hitlgraph demo
    hitlgraph run hitlgraph.cli.demo:graph \
        --input '{"messages": [{"role": "user", "content": "Where is order 1042?"}]}'
    hitlgraph resume THREAD --value accept
"""

from __future__ import annotations

from typing import Any

from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage, HumanMessage
from hitlgraph.prebuilt import ScriptedChatModel, ToolReviewNode, tool, tools_condition
from hitlgraph.pregel.compiled import CompiledStateGraph

__all__ = ["DRAFT", "build_graph", "builder", "demo_input", "graph"]

DRAFT = ("Hi Sam, thanks for your patience! Your order 1042 is packed and ships tomorrow; "
         "you will get a tracking link by email.")
"""The reply the assistant drafts."""


@tool
def lookup_order(order_id: int) -> str:
    """Find an order's status by its number."""
    return f"Order {order_id}: packed, ships tomorrow by courier."


@tool
def send_email(to: str, subject: str, body: str) -> str:
    """Send an email to a customer."""
    return f"Email sent to {to}, subject {subject!r}: {body}"


TOOLS = [lookup_order, send_email]


def _first_turn() -> AIMessage:
    return AIMessage(
        f"Here is my draft reply to Sam:\n\n  {DRAFT}\n\nI'll check the order, then email "
        "the reply.",
        id="demo-ai-1",
        tool_calls=[
            {"name": "lookup_order", "args": {"order_id": 1042}, "id": "call_lookup"},
            {"name": "send_email", "args": {"to": "sam@example.com",
                                            "subject": "Your order 1042", "body": DRAFT},
             "id": "call_email"},
        ],
    )


def _closing_turn(messages: list[Any]) -> AIMessage:
    results = [m for m in messages if getattr(m, "type", None) == "tool"]
    lines = [f"- {m.name}: {m.content}" for m in results]
    return AIMessage("Done. What the tools did:\n" + "\n".join(lines), id="demo-ai-2")


def agent(state: MessagesState) -> dict[str, Any]:
    """Ask the (scripted) model for the next turn of the conversation."""
    messages = list(state["messages"])
    turns = sum(1 for m in messages if getattr(m, "type", None) == "ai")
    script = [_first_turn(), _closing_turn(messages)][turns:]
    model = ScriptedChatModel(responses=script).bind_tools(TOOLS)
    return {"messages": [model.invoke(messages)]}


def build_graph() -> StateGraph[MessagesState]:
    """The agent's builder: agent → tools (reviewed) → agent → END."""
    b = StateGraph(MessagesState)
    b.add_node("agent", agent)
    b.add_node(ToolReviewNode(TOOLS))  # named "tools"
    b.add_edge(START, "agent")
    b.add_conditional_edges("agent", tools_condition, ["tools", END])
    b.add_edge("tools", "agent")
    return b


def demo_input() -> dict[str, Any]:
    """The customer's request that starts a demo thread."""
    return {"messages": [HumanMessage(
        "Sam asks where order 1042 is. Draft a reply and email it to sam@example.com.",
        id="demo-user-1",
    )]}


builder = build_graph()
graph: CompiledStateGraph = builder.compile()
"""Compiled without a checkpointer: the CLI runs it with its SQLite saver."""
