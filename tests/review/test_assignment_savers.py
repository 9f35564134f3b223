"""Assignment through the library, over every saver (memory, a SQLite file, PostgreSQL):
interrupt(..., assignee=, group=) as the index keeps it, claim / release / reassign as
compare-and-sets with their errors, each logged in the decision log, and list_pending's
assignee, group and unassigned filters."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import InterruptHeldError, InterruptNotOpenError
from hitlgraph.types import Command, interrupt


class S(TypedDict, total=False):
    who: dict[str, Any]
    answer: Any


def _ask(state: S) -> S:
    return {"answer": interrupt({"question": "ok?"}, **state.get("who", {}))}


def _paused(saver: BaseCheckpointSaver, thread: str, **who: Any) -> tuple[Any, str]:
    builder = StateGraph(S)
    builder.add_node("ask", _ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    graph = builder.compile(checkpointer=saver)
    out = graph.invoke({"who": who}, {"configurable": {"thread_id": thread}})
    return graph, out["__interrupt__"][0].id


def _holder(saver: Any, thread: str) -> str | None:
    [entry] = list(saver.list_pending(thread_id=thread))
    return entry.assignee  # type: ignore[no-any-return]


def test_claim_release_and_reassign_are_checked_and_logged(
        saver: BaseCheckpointSaver) -> None:
    graph, iid = _paused(saver, "t", group="ops")
    s: Any = saver
    assert _holder(s, "t") is None
    s.claim("t", iid, "alice")
    s.claim("t", iid, "alice")  # again: still hers
    assert _holder(s, "t") == "alice"
    with pytest.raises(InterruptHeldError, match="'alice' holds it") as held:
        s.claim("t", iid, "bob")
    assert (held.value.holder, held.value.principal) == ("alice", "bob")
    with pytest.raises(InterruptHeldError, match="'alice' holds it"):
        s.release("t", iid, "bob")
    s.reassign("t", iid, "carol", to="bob", reason="on leave")
    assert _holder(s, "t") == "bob"
    s.release("t", iid, "alice", force=True)
    assert _holder(s, "t") is None
    with pytest.raises(InterruptHeldError, match="no one holds it"):
        s.release("t", iid, "bob")
    log = [(d.outcome, d.by) for d in s.list_decisions(thread_id="t")]
    assert sorted(log) == sorted([("claimed", "alice"), ("claimed", "alice"),
                                  ("reassigned", "carol"), ("released", "alice")])
    graph.invoke(Command(resume="yes", by="bob"), {"configurable": {"thread_id": "t"}})
    with pytest.raises(InterruptNotOpenError, match="is not open"):
        s.claim("t", iid, "bob")


def test_list_pending_filters_by_assignee_group_and_nobody(saver: BaseCheckpointSaver) -> None:
    _paused(saver, "t-bob", assignee="bob")
    _paused(saver, "t-ops", group="ops")
    _paused(saver, "t-free")
    s: Any = saver

    def threads(**query: Any) -> list[str]:
        return sorted(p.thread_id for p in s.list_pending(**query))

    assert threads(assignee="bob") == ["t-bob"]
    assert threads(group="ops") == ["t-ops"]
    assert threads(unassigned=True) == ["t-free", "t-ops"]
    _, iid = next((p.thread_id, p.interrupt_id) for p in s.list_pending(thread_id="t-ops"))
    s.claim("t-ops", iid, "dan")
    assert threads(assignee="dan") == ["t-ops"]
    assert threads(unassigned=True) == ["t-free"]
