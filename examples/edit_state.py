"""Edit the state of a paused run, then let it go on.

A node extracts an invoice from a text, and a breakpoint stops the run before the amount is
booked. The person checking it sees that the amount was read wrongly, corrects it with
update_state() while the run is paused, and continues with invoke(None): the booking node
sees the corrected value.
"""

from __future__ import annotations

import re
from typing import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph


class Invoice(TypedDict, total=False):
    text: str
    vendor: str
    amount: float
    booked: str


def extract(state: Invoice) -> Invoice:
    # A deliberately naive parser: it takes the first number it finds (the invoice number).
    vendor = state["text"].split(":")[0]
    first_number = re.search(r"\d+(\.\d+)?", state["text"])
    assert first_number is not None
    return {"vendor": vendor, "amount": float(first_number.group())}


def book(state: Invoice) -> Invoice:
    return {"booked": f"booked {state['amount']:.2f} EUR for {state['vendor']}"}


def build_graph() -> StateGraph[Invoice]:
    builder = StateGraph(Invoice)
    builder.add_node("extract", extract)
    builder.add_node("book", book)
    builder.add_edge(START, "extract")
    builder.add_edge("extract", "book")
    builder.add_edge("book", END)
    return builder


def main() -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver(), interrupt_before=["book"])
    config = {"configurable": {"thread_id": "invoice-1"}}

    print("== run until the breakpoint before 'book'")
    graph.invoke({"text": "Acme Ltd: invoice 20240117, total 149.90 EUR"}, config)
    snapshot = graph.get_state(config)
    print("next:", snapshot.next)
    print("extracted amount:", snapshot.values["amount"])

    print("== fix the amount while the run is paused")
    # The update is applied as if the node 'extract' had returned it, so the run still
    # continues with 'book' afterwards.
    new_config = graph.update_state(config, {"amount": 149.90}, as_node="extract")
    print("new checkpoint saved:", "checkpoint_id" in new_config["configurable"])
    snapshot = graph.get_state(config)
    print("amount now:", snapshot.values["amount"])
    print("next:", snapshot.next)

    print("== continue with invoke(None)")
    result = graph.invoke(None, config)
    print("result:", result["booked"])
    print("next:", graph.get_state(config).next)


if __name__ == "__main__":
    main()
