"""Approve or reject: a review step that only asks when it has to.

An expense claim is checked automatically; claims over a limit are flagged with
needs_review, and only then does the review node call interrupt(). The reviewer's answer
("approve" or "reject") decides which node runs next. Three threads show each path: a
small claim that never pauses, a large one that is approved, and a large one that is rejected.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command, interrupt

LIMIT = 500


class Claim(TypedDict, total=False):
    employee: str
    amount: int
    needs_review: bool
    decision: str
    outcome: str


def check(state: Claim) -> Claim:
    return {"needs_review": state["amount"] > LIMIT}


def review(state: Claim) -> Claim:
    if not state["needs_review"]:
        return {"decision": "approve"}
    decision = interrupt({
        "question": f"{state['employee']} claims {state['amount']} (limit {LIMIT}). "
                    "Answer 'approve' or 'reject'.",
        "amount": state["amount"],
    })
    if decision not in ("approve", "reject"):
        raise ValueError(f"expected 'approve' or 'reject', got {decision!r}")
    return {"decision": decision}


def route(state: Claim) -> Literal["pay", "refuse"]:
    return "pay" if state["decision"] == "approve" else "refuse"


def pay(state: Claim) -> Claim:
    return {"outcome": f"paid {state['amount']} to {state['employee']}"}


def refuse(state: Claim) -> Claim:
    return {"outcome": f"claim of {state['employee']} refused"}


def build_graph() -> StateGraph[Claim]:
    builder = StateGraph(Claim)
    builder.add_node("check", check)
    builder.add_node("review", review)
    builder.add_node("pay", pay)
    builder.add_node("refuse", refuse)
    builder.add_edge(START, "check")
    builder.add_edge("check", "review")
    builder.add_conditional_edges("review", route)
    builder.add_edge("pay", END)
    builder.add_edge("refuse", END)
    return builder


def handle(graph, thread_id: str, claim: Claim, answer: str | None) -> None:
    config = {"configurable": {"thread_id": thread_id}}
    print(f"== thread {thread_id}: {claim['employee']} claims {claim['amount']}")
    result = graph.invoke(claim, config)
    if "__interrupt__" not in result:
        print("no review needed")
    else:
        print("paused:", result["__interrupt__"][0].value["question"])
        print("next:", graph.get_state(config).next)
        print(f"reviewer answers {answer!r}")
        result = graph.invoke(Command(resume=answer), config)
    print("decision:", result["decision"])
    print("outcome:", result["outcome"])


def main() -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    handle(graph, "claim-small", {"employee": "Ada", "amount": 120}, None)
    handle(graph, "claim-approve", {"employee": "Grace", "amount": 900}, "approve")
    handle(graph, "claim-reject", {"employee": "Linus", "amount": 4000}, "reject")


if __name__ == "__main__":
    main()
