"""Writes the golden SQLite file read by test_policy_golden.py:
`python tests/goldens/make_policy_golden.py OUT`.

sqlite_schema5_paused.sqlite was made with schema version 5 (the index of open interrupts
and the review event outbox, before the index stored review policies), at commit b63b819:
a thread paused at an interrupt with a policy (deadline, default answer, assignee, group)
and one paused without, so that the migration storing policies can be checked.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any, TypedDict

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.review import Expire
from hitlgraph.types import interrupt


class Ticket(TypedDict, total=False):
    answer: Any


def ask_with_policy(state: Ticket) -> dict[str, Any]:
    return {"answer": interrupt({"refund": 40}, expires_in=timedelta(hours=1),
                                on_expire=Expire.answer({"approved": False}),
                                warn_before=timedelta(minutes=10), assignee="bob",
                                group="support")}


def ask_plain(state: Ticket) -> dict[str, Any]:
    return {"answer": interrupt("plain?")}


def build(node: Any) -> Any:
    graph = StateGraph(Ticket)
    graph.add_node("ask", node)
    graph.add_edge(START, "ask")
    return graph


def main(out: str) -> None:
    with SqliteSaver.from_conn_string(out) as saver:
        for thread, node in (("with-policy", ask_with_policy), ("plain", ask_plain)):
            app = build(node).compile(checkpointer=saver)
            app.invoke({}, {"configurable": {"thread_id": thread}})


if __name__ == "__main__":
    main(sys.argv[1])
