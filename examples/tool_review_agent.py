"""A small agent whose tool calls a person reviews before they run.

A scripted chat model (standing in for a real one) drafts a reply to a customer and asks for
two tool calls: look the order up, and email the customer. The "tools" node is a
ToolReviewNode: it pauses once per call with a review request, and runs nothing until every
call is answered. Here the script answers: accept the lookup, and edit the email before it is
sent. The model then sums up, and the run ends.

Each request is a dict an inbox or a CLI can show:

    {"type": "tool_review", "tool": "send_email", "args": {...}, "id": "call_email",
     "description": "...", "allowed": ["accept", "edit", "respond", "ignore"]}

and each answer is one of {"type": "accept"}, {"type": "edit", "args": {...}},
{"type": "respond", "content": "..."} or {"type": "ignore"}.
"""

from __future__ import annotations

from typing import Any

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage, HumanMessage
from hitlgraph.prebuilt import ScriptedChatModel, ToolReviewNode, tool, tools_condition
from hitlgraph.types import Command

DRAFT = "Hi Sam, your order 1042 ships tomorrow."


@tool
def lookup_order(order_id: int) -> str:
    """Find an order's status by its number."""
    print(f"  [tool] lookup_order({order_id})")
    return f"Order {order_id}: packed, ships tomorrow."


@tool
def send_email(to: str, subject: str, body: str) -> str:
    """Send an email to a customer."""
    print(f"  [tool] send_email(to={to!r}, subject={subject!r}, body={body!r})")
    return f"Email sent to {to}."


def build_model() -> ScriptedChatModel:
    return ScriptedChatModel(responses=[
        AIMessage(
            f"Draft reply: {DRAFT!r}. I'll check the order and send it.",
            tool_calls=[
                {"name": "lookup_order", "args": {"order_id": 1042}, "id": "call_lookup"},
                {"name": "send_email", "args": {"to": "sam@example.com",
                                                "subject": "Your order", "body": DRAFT},
                 "id": "call_email"},
            ],
        ),
        "Done: order 1042 is packed, and Sam has been emailed.",
    ])


def build_graph(model: ScriptedChatModel) -> StateGraph[MessagesState]:
    bound = model.bind_tools([lookup_order, send_email])

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node(ToolReviewNode([lookup_order, send_email]))  # the node is named "tools"
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder


def answer_for(request: dict[str, Any]) -> dict[str, Any]:
    """What our scripted reviewer says about each request."""
    if request["tool"] == "send_email":
        args = dict(request["args"], body=DRAFT + " Thanks for your patience!")
        return {"type": "edit", "args": args}
    return {"type": "accept"}


def show(message: Any) -> str:
    if message.type == "tool":
        return f"tool {message.name} [{message.status}]: {message.content}"
    who = {"human": "user", "ai": "assistant"}.get(message.type, message.type)
    calls = "".join(f"\n    asks: {c['name']}({c['args']})" for c in
                    getattr(message, "tool_calls", []))
    return f"{who}: {message.content}{calls}"


def main() -> None:
    graph = build_graph(build_model()).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "support-1"}}

    print("== user: Where is my order 1042? Please email Sam about it.")
    result = graph.invoke(
        {"messages": [HumanMessage("Where is my order 1042? Please email Sam about it.")]},
        config,
    )
    while "__interrupt__" in result:
        request = result["__interrupt__"][0].value
        answer = answer_for(request)
        print(f"review {request['id']}: {request['tool']}({request['args']})")
        print(f"  allowed: {request['allowed']}")
        print(f"  answer: {answer['type']}")
        result = graph.invoke(Command(resume=answer), config)

    print("== transcript")
    for message in result["messages"]:
        print(show(message))
    print("next:", graph.get_state(config).next)


if __name__ == "__main__":
    main()
