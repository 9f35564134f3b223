"""Review event callbacks called by themselves after the commit (follow_review_events on a
thread, afollow_review_events in a task): no poll() by the program, each event once in seq
order, a callback that raises gets the same event again, nothing from before it started;
over every saver (memory, a SQLite file, PostgreSQL) and an async SQLite one."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import ReviewEvent, afollow_review_events, follow_review_events
from hitlgraph.types import Command, interrupt


class S(TypedDict, total=False):
    answer: Any


def _ask(state: S) -> S:
    return {"answer": interrupt({"question": "ok?"})}


def _graph(saver: Any) -> Any:
    builder = StateGraph(S)
    builder.add_node("ask", _ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


def _until(seen: list[Any], count: int, timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(seen) < count:
        assert time.monotonic() < deadline, seen
        time.sleep(0.02)
    return seen


def test_a_followers_callback_is_called_after_each_commit_without_a_poll(
        saver: BaseCheckpointSaver) -> None:
    graph = _graph(saver)
    graph.invoke({}, {"configurable": {"thread_id": "before"}})  # not handed over
    seen: list[tuple[str, str]] = []
    threads: set[str] = set()
    failed_once: list[int] = []

    def callback(event: ReviewEvent) -> None:
        if event.kind == "interrupt.decided" and not failed_once:
            failed_once.append(event.seq)
            raise RuntimeError("the receiver is down")  # handed over again at the next tick
        threads.add(threading.current_thread().name)
        seen.append((event.kind, event.thread_id))

    with follow_review_events(saver, callback, every=0.05):
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({}, config)
        assert _until(seen, 1) == [("interrupt.created", "t")]
        graph.invoke(Command(resume="yes", by="ann"), config)
        _until(seen, 2)
    assert seen == [("interrupt.created", "t"), ("interrupt.decided", "t")]
    assert len(failed_once) == 1
    assert threads == {"hitlgraph-review-events"}


def test_an_async_follower_runs_in_its_task_until_cancelled(tmp_path: Path) -> None:
    async def main() -> list[str]:
        seen: list[str] = []
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "follow.db")) as saver:
            graph = _graph(saver)
            task = asyncio.get_running_loop().create_task(afollow_review_events(
                saver, lambda event: seen.append(event.kind), every=0.05))
            await asyncio.sleep(0.1)  # the follower starts at the outbox's end
            config = {"configurable": {"thread_id": "t"}}
            await graph.ainvoke({}, config)
            await graph.ainvoke(Command(resume="yes", by="ann"), config)
            for _ in range(300):  # bounded: 15 s
                if len(seen) >= 2:
                    break
                await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return seen

    assert asyncio.run(main()) == ["interrupt.created", "interrupt.decided"]


@pytest.mark.parametrize("every", [0, -1, float("nan"), float("inf"), "1", True])
def test_a_bad_interval_is_refused_naming_it(every: Any) -> None:
    from hitlgraph.checkpoint.memory import InMemorySaver

    with pytest.raises(ValueError, match=r"every must be a positive number of seconds, got"):
        follow_review_events(InMemorySaver(), print, every=every)


def test_a_saver_without_an_outbox_is_refused() -> None:
    with pytest.raises(TypeError, match="keeps no review event outbox"):
        follow_review_events(object(), print)
