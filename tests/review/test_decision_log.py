"""The decision log as graphs write it, on every saver: a resume logs who answered what (once,
also for a subgraph's interrupt), update_state logs the questions it drops, a refused resume
logs nothing, a cancelled run's give-back logs "given_back"; and tampering shows."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any, TypedDict

import pytest

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.errors import ResumeError
from hitlgraph.graph import START, StateGraph
from hitlgraph.review import ChainBreak, Decision, DecisionLog
from hitlgraph.server._give_back import answer_counts, give_back
from hitlgraph.types import Command, interrupt


class State(TypedDict, total=False):
    a: Any
    b: Any


def _ask(key: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        return {key: interrupt(f"{key}?")}
    return node


def _graph(saver: BaseCheckpointSaver, *keys: str) -> Any:
    builder = StateGraph(State)
    for key in keys:
        builder.add_node(f"ask_{key}", _ask(key))
        builder.add_edge(START, f"ask_{key}")
    return builder.compile(checkpointer=saver)


def _log(saver: BaseCheckpointSaver, **query: Any) -> list[Decision]:
    assert isinstance(saver, DecisionLog)
    return list(saver.list_decisions(**query))


def _config(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def test_a_resume_logs_who_answered_what(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "a")
    app.invoke({}, _config("t"))
    [asked] = app.get_state(_config("t")).interrupts
    app.invoke(Command(resume={"ok": True}, by="alice", reason="fits the policy"),
               _config("t"))
    [found] = _log(saver)
    assert (found.thread_id, found.checkpoint_ns, found.interrupt_id, found.node, found.answer,
            found.by, found.reason, found.outcome) == (
        "t", "", asked.id, "ask_a", {"ok": True}, "alice", "fits the policy", "answered")
    assert saver.verify_decisions() is None  # type: ignore[attr-defined]


def test_a_resume_without_by_logs_the_answer_anonymously(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "a")
    app.invoke({}, _config("t"))
    app.invoke(Command(resume="yes"), _config("t"))
    assert [(d.by, d.reason, d.answer) for d in _log(saver)] == [(None, None, "yes")]


def test_answers_by_id_log_a_row_each(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "a", "b")
    app.invoke({}, _config("t"))
    ids = {i.value: i.id for i in app.get_state(_config("t")).interrupts}
    app.invoke(Command(resume={ids["a?"]: 1, ids["b?"]: 2}, by="bob"), _config("t"))
    assert sorted((d.node, d.answer, d.by) for d in _log(saver)) == [
        ("ask_a", 1, "bob"), ("ask_b", 2, "bob")]


def test_a_refused_resume_logs_nothing(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "a")
    app.invoke({}, _config("t"))
    app.invoke(Command(resume="yes", by="alice"), _config("t"))
    with pytest.raises(ResumeError):
        app.invoke(Command(resume="again", by="mallory"), _config("t"))
    assert [d.by for d in _log(saver)] == ["alice"]


def test_a_subgraphs_interrupt_is_logged_once_where_it_was_asked(
        saver: BaseCheckpointSaver) -> None:
    inner = StateGraph(State)
    inner.add_node("inner_ask", _ask("a"))
    inner.add_edge(START, "inner_ask")
    outer = StateGraph(State)
    outer.add_node("sub", inner.compile())
    outer.add_edge(START, "sub")
    app = outer.compile(checkpointer=saver)
    app.invoke({}, _config("t"))
    app.invoke(Command(resume="deep", by="carol"), _config("t"))
    [found] = _log(saver)
    assert (found.node, found.answer, found.by) == ("inner_ask", "deep", "carol")
    assert found.checkpoint_ns.startswith("sub:")


def test_update_state_over_a_question_logs_it_resolved(saver: BaseCheckpointSaver) -> None:
    app = _graph(saver, "a")
    app.invoke({}, _config("t"))
    [asked] = app.get_state(_config("t")).interrupts
    app.update_state(_config("t"), {"a": "by hand"}, as_node="ask_a")
    [found] = _log(saver)
    assert (found.interrupt_id, found.node, found.answer, found.outcome) == (
        asked.id, "ask_a", None, "resolved")


def test_ainvoke_logs_the_decision_too(tmp_path: Path) -> None:
    async def main() -> list[Decision]:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "a.db")) as saver:
            app = _graph(saver, "a")
            await app.ainvoke({}, _config("t"))
            await app.ainvoke(Command(resume=3, by="dave"), _config("t"))
            return [d async for d in saver.alist_decisions()]

    assert [(d.answer, d.by) for d in asyncio.run(main())] == [(3, "dave")]


def test_a_cancelled_runs_give_back_is_logged(saver: BaseCheckpointSaver) -> None:
    """(The server's give-back, called as its worker does once a cancelled run stopped.)"""
    app = _graph(saver, "a")
    app.invoke({}, _config("t"))
    start = saver.get_tuple(_config("t"))
    assert start is not None
    [asked] = app.get_state(_config("t")).interrupts
    [task] = [w[0] for w in start.pending_writes or () if w[1] == "__interrupt__"]
    before = answer_counts(start.pending_writes)
    saver.put_writes(start.config, [("__resume__", [[asked.id, "claimed", True]])], task,
                     "ask_a")  # claimed, as the cancelled run did before its node ran
    given = asyncio.run(give_back(saver, app, _config("t"), start.checkpoint["id"], before,
                                  None))
    assert given == [task]
    [found] = _log(saver)
    assert (found.interrupt_id, found.outcome, found.answer) == (asked.id, "given_back", None)
    assert found.reason == "the run that took the answer was cancelled"


def _decide(saver: BaseCheckpointSaver, n: int) -> None:
    app = _graph(saver, "a")
    for i in range(n):
        app.invoke({}, _config(f"t{i}"))
        app.invoke(Command(resume=i, by=f"user{i}"), _config(f"t{i}"))


def test_tampering_with_a_sqlite_log_is_found(tmp_path: Path) -> None:
    path = str(tmp_path / "log.db")
    with SqliteSaver.from_conn_string(path) as saver:
        _decide(saver, 4)
        assert saver.verify_decisions() is None
    conn = sqlite3.connect(path)

    def verify() -> ChainBreak | None:
        with SqliteSaver.from_conn_string(path) as saver:
            return saver.verify_decisions()

    with conn:
        conn.execute("UPDATE decisions SET decided_by = 'mallory' WHERE seq = 2")
    assert verify() == ChainBreak(seq=2, problem="changed")
    assert str(verify()) == "decision 2 was changed"
    with conn:
        conn.execute("UPDATE decisions SET decided_by = 'user1' WHERE seq = 2")
        conn.execute("DELETE FROM decisions WHERE seq = 3")
    assert verify() == ChainBreak(seq=3, problem="removed")
    with conn:
        conn.execute("DELETE FROM decisions WHERE seq = 4")
    assert verify() == ChainBreak(seq=3, problem="removed")  # the end, cut off
    with conn:
        conn.execute("DELETE FROM decisions WHERE seq > 2")
        conn.execute("DELETE FROM decisions_head")
    assert verify() == ChainBreak(seq=2, problem="changed")  # the head itself, gone


def test_postgres_writers_deciding_at_once_keep_one_chain(pg_conninfo: str) -> None:
    from hitlgraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(pg_conninfo, max_size=4) as saver:
        app = _graph(saver, "a")
        for i in range(8):
            app.invoke({}, _config(f"t{i}"))
        workers = [threading.Thread(target=app.invoke, args=(
            Command(resume=i, by=f"user{i}"), _config(f"t{i}"))) for i in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(d.seq for d in _log(saver, limit=100)) == list(range(1, 9))
        assert saver.verify_decisions() is None
