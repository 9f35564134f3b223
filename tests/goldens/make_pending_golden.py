"""Writes the golden SQLite file of paused threads read by test_pending_golden.py:
`python tests/goldens/make_pending_golden.py OUT`.

sqlite_schema2_paused.sqlite was made with schema version 2 (before the pending-interrupt
index existed), at commit 608c797: threads paused in several ways, one finished, one whose
interrupt update_state dropped, so that the index built on first open can be checked.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TypedDict

sys.path.insert(0, str(Path(__file__).parent))

from _review_graph import build

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt


class Pair(TypedDict, total=False):
    a: str
    b: str


def _ask_a(state: Pair) -> dict[str, Any]:
    return {"a": interrupt("first?")}


def _ask_b(state: Pair) -> dict[str, Any]:
    return {"b": interrupt({"second": True})}


def nested() -> Any:
    """A subgraph node asking beside a plain node asking: two interrupts in one step."""
    inner = StateGraph(Pair)
    inner.add_node("inner_ask", _ask_a)
    inner.add_edge(START, "inner_ask")
    outer = StateGraph(Pair)
    outer.add_node("sub", inner.compile())
    outer.add_node("ask_b", _ask_b)
    outer.add_edge(START, "sub")
    outer.add_edge(START, "ask_b")
    return outer


def _config(thread: str, **metadata: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, "metadata": metadata}


if __name__ == "__main__":
    with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
        review = build().compile(checkpointer=saver)
        review.invoke({"log": []}, _config("served", graph_id="review"))
        review.invoke({"log": []}, _config("from-cli", hitlgraph_graph="golden:review"))
        review.invoke({"log": []}, _config("plain"))
        review.invoke({"log": []}, _config("finished", graph_id="review"))
        review.invoke(Command(resume="yes"), _config("finished", graph_id="review"))
        review.invoke({"log": []}, _config("dropped", graph_id="review"))
        review.update_state(_config("dropped"), {"answer": "set by hand"}, as_node="ask")
        pair = nested().compile(checkpointer=saver)
        pair.invoke({}, _config("nested", graph_id="pair"))
    print(f"wrote {sys.argv[1]}")
