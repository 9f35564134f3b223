"""The library's review event callback (hitlgraph.review.on_review_event): committed
outbox events, in order, from the moment it was made; a callback that raises gets the event
again. On a SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import pytest

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import ReviewEvent, on_review_event
from hitlgraph.types import Command, interrupt


class Asked(TypedDict, total=False):
    answer: str


def _ask(state: Asked) -> Asked:
    return {"answer": str(interrupt("ok?"))}


def test_callbacks_see_committed_events_once_in_order(tmp_path: Path) -> None:
    builder = StateGraph(Asked)
    builder.add_node("ask", _ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    with SqliteSaver.from_conn_string(str(tmp_path / "feed.sqlite")) as saver:
        graph = builder.compile(checkpointer=saver)
        graph.invoke({}, {"configurable": {"thread_id": "before"}})
        got: list[ReviewEvent] = []
        feed = on_review_event(saver, got.append)
        config = {"configurable": {"thread_id": "t1"}}
        graph.invoke({}, config)
        assert feed.poll() == 1 and feed.poll() == 0
        graph.invoke(Command(resume="yes", by="ann"), config)
        failing = on_review_event(saver, lambda event: 1 / 0, after=got[-1].seq)
        assert feed.poll() == 1
        assert [(e.kind, e.thread_id) for e in got] == [
            ("interrupt.created", "t1"), ("interrupt.decided", "t1")]
        assert got[1].data["by"] == "ann" and got[0].seq < got[1].seq
        for _ in range(2):
            with pytest.raises(ZeroDivisionError):
                failing.poll()
        assert failing.after == got[0].seq


def test_a_saver_without_an_outbox_is_refused() -> None:
    with pytest.raises(TypeError, match="keeps no review event outbox"):
        on_review_event(object(), print)
