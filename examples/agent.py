"""An agent whose tool calls you review in the terminal, with the hitlgraph CLI.

A scripted chat model (standing in for a real one) plans a trip: it asks to search flights,
then to book one. The "tools" node is a ToolReviewNode, so each call waits for a person:
accept it, edit its arguments, respond instead of running it, or ignore it.

Run it in the terminal (pip install -e '.[cli]'):

    hitlgraph run examples/agent.py:graph \\
        --input '{"messages": [{"role": "user", "content": "Book me a flight to Lisbon"}]}'

Each tool call shows up as a review; answer with a (accept), e (edit), r (respond) or
i (ignore). Ctrl-C leaves the run paused in ./hitlgraph.sqlite; `hitlgraph threads` lists it
and `hitlgraph resume THREAD --graph examples/agent.py:graph` picks it up. `hitlgraph graph
examples/agent.py:graph` prints the graph as Mermaid text.

Run as a script (`python examples/agent.py`), it answers its own reviews: it accepts the search
and edits the booking's passenger name.
"""

from __future__ import annotations

from typing import Any

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage, HumanMessage
from hitlgraph.prebuilt import ScriptedChatModel, ToolReviewNode, tool, tools_condition
from hitlgraph.types import Command


@tool
def search_flights(destination: str, date: str) -> str:
    """Find flights to a city on a date."""
    return f"TP1350 to {destination} on {date}, 09:40, 129 EUR."


@tool
def book_flight(flight: str, passenger: str) -> str:
    """Book a seat on a flight."""
    return f"Booked {flight} for {passenger}; confirmation HX7Q2."


TOOLS = [search_flights, book_flight]


def script(messages: list[Any]) -> list[AIMessage]:
    """The model's turns. Which one comes next depends on the conversation so far, so a run
    resumed in another process goes on where it stopped."""
    results = " ".join(m.content for m in messages if getattr(m, "type", None) == "tool")
    return [
        AIMessage("I'll look for a flight to Lisbon on Friday and book it for you.",
                  id="plan", tool_calls=[
                      {"name": "search_flights", "args": {"destination": "Lisbon",
                                                          "date": "Friday"}, "id": "call_search"},
                      {"name": "book_flight", "args": {"flight": "TP1350",
                                                       "passenger": "A. Traveller"},
                       "id": "call_book"},
                  ]),
        AIMessage(f"All set. {results}", id="summary"),
    ]


def agent(state: MessagesState) -> dict[str, Any]:
    messages = list(state["messages"])
    turns = sum(1 for m in messages if getattr(m, "type", None) == "ai")
    model = ScriptedChatModel(responses=script(messages)[turns:]).bind_tools(TOOLS)
    return {"messages": [model.invoke(messages)]}


builder = StateGraph(MessagesState)
builder.add_node("agent", agent)
builder.add_node(ToolReviewNode(TOOLS))  # named "tools"
builder.add_edge(START, "agent")
builder.add_conditional_edges("agent", tools_condition, ["tools", END])
builder.add_edge("tools", "agent")

graph = builder.compile()
"""No checkpointer here: the CLI runs the graph with its SQLite saver."""


def main() -> None:
    app = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "trip-1"}}
    result = app.invoke({"messages": [HumanMessage("Book me a flight to Lisbon on Friday.")]},
                        config)
    while "__interrupt__" in result:
        request = result["__interrupt__"][0].value
        if request["tool"] == "book_flight":
            answer = {"type": "edit", "args": {**request["args"], "passenger": "Ada Lovelace"}}
        else:
            answer = {"type": "accept"}
        print(f"review {request['tool']}({request['args']}): {answer['type']}")
        result = app.invoke(Command(resume=answer), config)
    print("assistant:", result["messages"][-1].content)


if __name__ == "__main__":
    main()
