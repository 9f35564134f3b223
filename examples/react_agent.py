"""The prebuilt agent: create_react_agent with a person reviewing one of its tools.

A scripted chat model (standing in for a real one) looks an order up and then wants to email
the customer. `review=["send_email"]` makes the agent pause before each email: the lookup runs
at once, the email waits for an answer. Here the scripted reviewer edits the email's body, and
the agent then sums up. The checkpoints go to a SQLite file, so the answer could come from
another process, later.

    python examples/react_agent.py [--db PATH]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.prebuilt import ScriptedChatModel, create_react_agent
from hitlgraph.types import Command


def lookup_order(order_id: int) -> str:
    """Find an order's status by its number."""
    return f"Order {order_id}: packed, ships tomorrow."


def send_email(to: str, body: str) -> str:
    """Send an email to a customer."""
    print(f"  [tool] send_email(to={to!r}, body={body!r})")
    return f"Email sent to {to}."


def build_agent(saver: SqliteSaver, answers: list[Any]) -> Any:
    return create_react_agent(ScriptedChatModel(answers), [lookup_order, send_email],
                              prompt="You answer customers about their orders.",
                              review=["send_email"], checkpointer=saver)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(Path(tempfile.mkdtemp()) / "agent.sqlite"))
    db = parser.parse_args().db
    config = {"configurable": {"thread_id": "order-1042"}}
    body = "Hi Sam, order 1042 ships tomorrow."
    with SqliteSaver.from_conn_string(db) as saver:
        agent = build_agent(saver, [
            {"tool_calls": [{"name": "lookup_order", "args": {"order_id": 1042}}]},
            {"tool_calls": [{"name": "send_email", "args": {"to": "sam@example.com",
                                                            "body": body}}]},
        ])
        paused = agent.invoke({"messages": [("user", "Where is order 1042?")]}, config)
        request = paused["__interrupt__"][0].value
        print("review asked:", request["tool"], request["args"])
        print("next:", agent.get_state(config).next)

    with SqliteSaver.from_conn_string(db) as saver:  # later, as a restarted program would
        agent = build_agent(saver, ["Sam has been told: order 1042 ships tomorrow."])
        edited = {"to": "sam@example.com", "body": body + " Thanks for waiting!"}
        result = agent.invoke(Command(resume={"type": "edit", "args": edited}), config)
        for message in result["messages"]:
            calls = [(c["name"], c["args"]) for c in getattr(message, "tool_calls", ())]
            print(f"{message.type}: {message.content or calls}")


if __name__ == "__main__":
    main()
