"""A run whose background save fails ("async" durability, sync driver) keeps the checkpoints
saved before it, even when they were queued behind a slow write and went to the saver in one
batch with the one that failed."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint.serde._errors import SerializationError
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import END, START, StateGraph


class State(TypedDict):
    n: Any


class SlowFirstPut(SqliteSaver):
    """Its first put takes 0.2 s, so that the next steps' saves queue up behind it."""

    slow = True

    def put(self, *args: Any, **kwargs: Any) -> Any:
        if self.slow:
            self.slow = False
            time.sleep(0.2)
        return super().put(*args, **kwargs)


def test_a_failing_background_save_keeps_the_good_saves_queued_before_it(
        tmp_path: Path) -> None:
    builder = StateGraph(State)
    builder.add_node("a", lambda s: {"n": s["n"] + 1})
    builder.add_node("b", lambda s: {"n": s["n"] + 1})
    builder.add_node("c", lambda s: {"n": threading.Lock()})  # (its checkpoint cannot be saved)
    builder.add_node("d", lambda s: {"n": 0})
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c").add_edge("c", "d")
    builder.add_edge("d", END)
    with SlowFirstPut.from_conn_string(str(tmp_path / "s.sqlite")) as saver:
        graph = builder.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "t"}}
        with pytest.raises(SerializationError):
            graph.invoke({"n": 0}, config, durability="async")
        history = [(s.metadata["step"], s.values) for s in graph.get_state_history(config)]
    assert [step for step, _ in history] == [2, 1, 0, -1]
    assert history[0] == (2, {"n": 2})
