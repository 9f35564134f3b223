"""What the server lists as waiting: POST /threads/search with status "interrupted" (the
inbox's list) and a thread row's `interrupts`.

The search is answered from the server's thread rows alone: it decodes no checkpoint and does
not read the saver's index of open interrupts either, because the index cannot give LangGraph's
answer (tests/server/compat/test_compat_search.py compares it with langgraph dev's). A thread
stopped at a breakpoint is "interrupted" although no interrupt() waits (the index holds nothing
for it), and the rows sort by the thread's own columns: updated_at by default, which a metadata
patch moves (the index keeps the order the interrupts were made in). X-Pagination-Total needs
no count of every match (it is the next offset plus one while another page follows).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from _harness import RunningServer

pytest.importorskip("fastapi")

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.postgres import PostgresSaver
from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.server._state import interrupts_by_task
from hitlgraph.types import Interrupt, PregelTask, StateSnapshot

_READS = ("aget_tuple", "alist", "alist_pending")
"""The saver's reads an answer could make: a checkpoint, checkpoints, a page of the index."""


@pytest.fixture
def count_saver_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the server's saver reads (by method name) from now on."""
    counts: Counter[str] = Counter()
    for cls in (AsyncSqliteSaver, AsyncPostgresSaver):
        for name in _READS:
            monkeypatch.setattr(cls, name, _counted(getattr(cls, name), name, counts))
    return counts


def _counted(method: Callable[..., Any], name: str, counts: Counter[str]) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts[name] += 1
        return method(self, *args, **kwargs)
    return call


@contextmanager
def _saver_of(server: RunningServer) -> Iterator[BaseCheckpointSaver]:
    db = str(server.db)
    if db.startswith("postgresql://"):
        with PostgresSaver.from_conn_string(db) as saver:
            yield saver
    else:
        with SqliteSaver.from_conn_string(db) as saver:
            yield saver


def _search(server: RunningServer, **body: Any) -> httpx.Response:
    answer = httpx.post(f"{server.url}/threads/search", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_the_interrupted_search_reads_thread_rows_not_checkpoints_nor_the_index(
        start_server: Callable[..., RunningServer], count_saver_reads: Counter[str]) -> None:
    server = start_server()
    client = server.client()
    paused = []
    for n in range(4):
        thread = client.threads.create()["thread_id"]
        client.runs.wait(thread, "review", input={"topic": f"t{n}"})
        paused.append(thread)
    stopped = client.threads.create()["thread_id"]
    client.runs.wait(stopped, "steps", input={"value": "v"}, interrupt_before=["step_b"])
    client.runs.wait(client.threads.create()["thread_id"], "steps", input={"value": "v"})
    count_saver_reads.clear()

    first = _search(server, status="interrupted", limit=3)
    second = _search(server, status="interrupted", limit=3, offset=3)
    found = [t["thread_id"] for t in first.json() + second.json()]
    assert found == [stopped, *reversed(paused)]  # updated_at, newest first
    assert first.headers["X-Pagination-Total"] == "4"  # 3 shown, and more follow
    assert first.headers["X-Pagination-Next"] == "3"
    assert "X-Pagination-Next" not in second.headers
    assert second.headers["X-Pagination-Total"] == "5"
    assert sum(count_saver_reads.values()) == 0, count_saver_reads
    client.threads.get_state(paused[0])
    assert count_saver_reads["aget_tuple"] > 0  # the count sees the server's reads

    with _saver_of(server) as saver:
        indexed = {item.thread_id.rpartition("/")[2] for item in saver.list_pending(limit=50)}
    assert indexed == set(paused)  # the breakpoint's thread is not in the index


def _interrupt(iid: str) -> Interrupt:
    return Interrupt(value=f"question {iid}", id=iid)


def test_a_thread_rows_interrupts_are_the_open_ones_only() -> None:
    """An unfinished task lists the interrupts already answered too; the thread row shows
    only those still waiting, grouped by task."""
    answered, waiting, other = _interrupt("a1"), _interrupt("w1"), _interrupt("w2")
    snap = StateSnapshot(
        values={}, next=("ask", "other"), config={"configurable": {}}, metadata={},
        created_at=None, parent_config=None,
        tasks=(PregelTask(id="t1", name="ask", path=(), interrupts=(answered, waiting)),
               PregelTask(id="t2", name="other", path=(), interrupts=(other,)),
               PregelTask(id="t3", name="done", path=(), interrupts=(answered,))),
        interrupts=(waiting, other))
    rows = interrupts_by_task(snap)
    assert {task: [i["id"] for i in listed] for task, listed in rows.items()} == {
        "t1": ["w1"], "t2": ["w2"]}
    assert rows["t1"][0]["value"] == "question w1"
