"""Answers to a k-of-n interrupt given at the same moment, by threads and by processes, on a
SQLite file and on PostgreSQL: each principal's answer is counted exactly once.

Each answer is claimed compare-and-set on the paused task's resume log; of two answers that
race for the same place in it one is stored and the other, having stored nothing, is counted
again on the newer checkpoint by the engine itself (pregel._loop.RECOUNTS): no sender sees a
CheckpointConflictError.
"""

from __future__ import annotations

import multiprocessing
import operator
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.errors import CheckpointConflictError
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command, interrupt

RACERS = ("ann", "ben", "cat", "dan")
THREAD = {"configurable": {"thread_id": "raced"}}


class State(TypedDict, total=False):
    decisions: list[Any]
    runs: Annotated[list[str], operator.add]


def _ask(state: State) -> State:
    return {"decisions": interrupt("ship it?", approvals=len(RACERS)), "runs": ["ask"]}


def _graph(saver: BaseCheckpointSaver) -> Any:
    builder = StateGraph(State).add_node("ask", _ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


def _open(backend: str, where: str) -> AbstractContextManager[BaseCheckpointSaver]:
    if backend == "sqlite":
        from hitlgraph.checkpoint.sqlite import SqliteSaver

        return SqliteSaver.from_conn_string(where)
    from hitlgraph.checkpoint.postgres import PostgresSaver

    return PostgresSaver.from_conn_string(where)


def answer(backend: str, where: str, by: str, start: Any) -> int:
    """Answer as `by` once `start` lets every racer go; the conflicts that reached it (0 or 1:
    one call)."""
    with _open(backend, where) as saver:
        app = _graph(saver)
        start.wait(timeout=60)
        try:
            app.invoke(Command(resume=f"yes from {by}", by=by), THREAD)
        except CheckpointConflictError:
            return 1
    return 0


def _in_process(backend: str, where: str, by: str, start: Any, lost: Any) -> None:
    lost.put((by, answer(backend, where, by, start)))


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    backend = request.param
    where = (str(tmp_path / "race.db") if backend == "sqlite"
             else request.getfixturevalue("pg_conninfo"))
    with _open(backend, where) as saver:
        if hasattr(saver, "setup"):
            saver.setup()
        _graph(saver).invoke({}, THREAD)
    yield backend, where


def _race_threads(backend: str, where: str) -> dict[str, int]:
    start = threading.Barrier(len(RACERS))
    lost: dict[str, int] = {}

    def racer(by: str) -> None:
        lost[by] = answer(backend, where, by, start)

    threads = [threading.Thread(target=racer, args=(by,)) for by in RACERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return lost


def _race_processes(backend: str, where: str) -> dict[str, int]:
    ctx = multiprocessing.get_context("spawn")
    start, lost = ctx.Barrier(len(RACERS)), ctx.Queue()
    procs = [ctx.Process(target=_in_process, args=(backend, where, by, start, lost))
             for by in RACERS]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * len(RACERS)
    return dict(lost.get(timeout=5) for _ in RACERS)


RACES: dict[str, Callable[[str, str], dict[str, int]]] = {
    "threads": _race_threads, "processes": _race_processes}


@pytest.mark.parametrize("race", RACES)
def test_racing_answers_are_each_counted_once(database: tuple[str, str], race: str) -> None:
    backend, where = database
    lost = RACES[race](backend, where)
    assert lost == dict.fromkeys(RACERS, 0)
    with _open(backend, where) as saver:
        state = _graph(saver).get_state(THREAD)
        decisions = state.values["decisions"]
        logged = list(saver.list_decisions(thread_id="raced"))  # type: ignore[attr-defined]
    assert sorted(d.by for d in decisions) == sorted(RACERS)
    assert all(d.answer == f"yes from {d.by}" for d in decisions)
    assert state.values["runs"] == ["ask"] and state.next == ()
    assert sorted(d.by for d in logged) == sorted(RACERS)
