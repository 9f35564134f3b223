"""Graphs whose node asks with a review policy, for the deadline tests (a module of its own
so that worker processes can import it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypedDict

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import Expire
from hitlgraph.types import interrupt


class Ticket(TypedDict, total=False):
    answer: Any
    done: str


RULES: dict[str, Expire] = {
    "answer": Expire.answer({"approved": False}),
    "cancel": Expire.cancel(),
    "cancel_why": Expire.cancel("no reply from the customer"),
    "escalate": Expire.escalate(to="lead", expires_in=timedelta(hours=2)),
}


def build(rule: str, **more: Any) -> StateGraph[Any]:
    """ask (interrupt with expires_in=1h, on_expire=RULES[rule]) -> finish."""

    def ask(state: Ticket) -> dict[str, Any]:
        return {"answer": interrupt({"refund": 40}, expires_in=timedelta(hours=1),
                                    on_expire=RULES[rule], **more)}

    def finish(state: Ticket) -> dict[str, Any]:
        return {"done": f"finished with {state['answer']!r}"}

    graph = StateGraph(Ticket)
    graph.add_node("ask", ask)
    graph.add_node("finish", finish)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", "finish")
    graph.add_edge("finish", END)
    return graph
