"""Tool-call review: a person approves, edits or rejects each tool call before it runs.

A scripted "assistant" (standing in for a chat model) asks for three tool calls in one
message. The tools node calls interrupt() once per call, so the run pauses three times;
each pause is answered with one of:

    {"type": "approve"}                 run the call as asked
    {"type": "edit", "args": {...}}     run it with these arguments instead
    {"type": "reject"}                  skip it and tell the assistant so

The node runs again from its top after every answer, and the interrupt() calls that were
already answered return their answers at once. That is why the node first collects every
decision and only then runs the tools: each tool runs exactly once.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command, interrupt

Message = dict[str, Any]


class State(TypedDict):
    messages: Annotated[list[Message], operator.add]


# -- the tools -----------------------------------------------------------------------------------

def get_weather(city: str) -> str:
    print(f"  [tool] get_weather({city!r})")
    return f"Sunny and 21 degrees in {city}."


def send_email(to: str, body: str) -> str:
    print(f"  [tool] send_email({to!r}, {body!r})")
    return f"Email sent to {to}."


def delete_file(path: str) -> str:
    print(f"  [tool] delete_file({path!r})")
    return f"Deleted {path}."


TOOLS = {"get_weather": get_weather, "send_email": send_email, "delete_file": delete_file}


# -- the nodes -----------------------------------------------------------------------------------

def assistant(state: State) -> State:
    """A scripted model: first it asks for tools, then it sums up their results."""
    last = state["messages"][-1]
    if last["role"] == "user":
        return {"messages": [{
            "role": "assistant",
            "content": "I'll check the weather, email the team and tidy up.",
            "tool_calls": [
                {"name": "get_weather", "args": {"city": "Lisbon"}, "id": "call_1"},
                {"name": "send_email", "args": {"to": "team@example.com",
                                                "body": "Picnic at noon!"}, "id": "call_2"},
                {"name": "delete_file", "args": {"path": "/home/me/notes.txt"},
                 "id": "call_3"},
            ],
        }]}
    results = [m["content"] for m in state["messages"] if m["role"] == "tool"]
    return {"messages": [{"role": "assistant", "content": "Done: " + " ".join(results),
                          "tool_calls": []}]}


def tools(state: State) -> State:
    calls = state["messages"][-1]["tool_calls"]
    # 1. One question per call. Answered calls return at once when the node re-runs.
    decisions = [
        interrupt({"question": "Run this tool call?", "tool": call["name"],
                   "args": call["args"], "id": call["id"]})
        for call in calls
    ]
    # 2. Every call is decided: now act, once.
    results: list[Message] = []
    for call, decision in zip(calls, decisions, strict=True):
        kind = decision["type"]
        if kind == "reject":
            content = f"The user rejected the call to {call['name']}; it did not run."
        else:
            args = decision["args"] if kind == "edit" else call["args"]
            content = TOOLS[call["name"]](**args)
        results.append({"role": "tool", "tool_call_id": call["id"], "content": content})
    return {"messages": results}


def needs_tools(state: State) -> Literal["tools", "__end__"]:
    return "tools" if state["messages"][-1].get("tool_calls") else END


def build_graph() -> StateGraph[State]:
    builder = StateGraph(State)
    builder.add_node("assistant", assistant)
    builder.add_node("tools", tools)
    builder.add_edge(START, "assistant")
    builder.add_conditional_edges("assistant", needs_tools, ["tools", END])
    builder.add_edge("tools", "assistant")
    return builder


def main() -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "tools-1"}}
    answers = [
        {"type": "approve"},
        {"type": "edit", "args": {"to": "team@example.com", "body": "Picnic at 1pm!"}},
        {"type": "reject"},
    ]

    print("== user: plan a picnic")
    result = graph.invoke({"messages": [{"role": "user", "content": "Plan a picnic."}]}, config)
    for answer in answers:
        asked = result["__interrupt__"][0].value
        print(f"review {asked['id']}: {asked['tool']}({asked['args']})")
        print(f"  answer: {answer}")
        result = graph.invoke(Command(resume=answer), config)

    print("== finished; tool messages:")
    for message in result["messages"]:
        if message["role"] == "tool":
            print(f"  {message['tool_call_id']}: {message['content']}")
    print("assistant:", result["messages"][-1]["content"])
    print("next:", graph.get_state(config).next)


if __name__ == "__main__":
    main()
