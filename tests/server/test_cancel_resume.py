"""A resume that is cancelled is never half-applied (issue 17): cancelled before a worker
claims it, while its node runs with the answer, or after that node finished, the thread
either still waits for the same answer (the interrupt answerable again, as before the run)
or has taken it completely. Each test of a server runs on SQLite and on PostgreSQL; the
rule deciding what is given back is tested on its own at the end."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import GRAPHS, RunningServer, ServerProcess

from hitlgraph.constants import INTERRUPT, RESUME
from hitlgraph.server._give_back import answer_counts, subgraph_withdrawals, withdrawals
from hitlgraph.server.store.base import Store
from hitlgraph.types import Interrupt

both = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

GRAPH = '''
import asyncio
import operator
from typing import Annotated, TypedDict

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import interrupt


class State(TypedDict, total=False):
    seconds: float
    after: float
    answer: str
    done: Annotated[list[str], operator.add]


async def ask(state: State) -> State:
    answer = interrupt("Go ahead?")
    await asyncio.sleep(state.get("seconds", 0.0) if answer == "first" else 0.0)
    return {"answer": answer, "done": [f"ask got {answer}"]}


async def then(state: State) -> State:
    await asyncio.sleep(state.get("after", 0.0))
    return {"done": [f"then saw {state['answer']}"]}


builder = StateGraph(State)
builder.add_node("ask", ask)
builder.add_node("then", then)
builder.add_edge(START, "ask")
builder.add_edge("ask", "then")
builder.add_edge("then", END)

nested = StateGraph(State)
nested.add_node("inner", builder.compile())
nested.add_edge(START, "inner")
nested.add_edge("inner", END)
'''


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The usual graphs, 'ask_slow' (a node slow after the answer "first", then a slow
    node) and 'nested' (ask_slow as a subgraph)."""
    source = Path(__file__).with_name("graphs.py")
    (tmp_path / "graphs.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "cancel_graphs.py").write_text(GRAPH, encoding="utf-8")
    path = tmp_path / "langgraph.json"
    graphs = {**GRAPHS, "ask_slow": "./cancel_graphs.py:builder",
              "nested": "./cancel_graphs.py:nested"}
    path.write_text(json.dumps({"graphs": graphs}), encoding="utf-8")
    return path


def call(server: RunningServer, method: str, path: str, body: Any = None,
         status: int = 200) -> Any:
    answer = httpx.request(method, f"{server.url}{path}", json=body, timeout=60)
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


def paused(server: RunningServer, graph: str = "ask_slow", **state: float) -> str:
    """A thread of `graph` waiting at its interrupt."""
    thread = call(server, "POST", "/threads", {})["thread_id"]
    result = call(server, "POST", f"/threads/{thread}/runs/wait",
                  {"assistant_id": graph, "input": state})
    assert [i["value"] for i in result["__interrupt__"]] == ["Go ahead?"]
    return thread


def until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def running(server: RunningServer, thread: str, run_id: str) -> bool:
    return call(server, "GET", f"/threads/{thread}/runs/{run_id}")["status"] == "running"


def resume(server: RunningServer, thread: str, answer: str) -> str:
    run = call(server, "POST", f"/threads/{thread}/runs",
               {"assistant_id": "ask_slow", "command": {"resume": answer}})
    return str(run["run_id"])


def cancel(server: RunningServer, thread: str, run_id: str) -> None:
    call(server, "POST", f"/threads/{thread}/runs/{run_id}/cancel?wait=true&action=interrupt",
         status=204)


def assert_waits_again(server: RunningServer, thread: str) -> None:
    """The thread asks its question again, and a new answer (not the cancelled one) is the one
    its nodes see."""
    state = call(server, "GET", f"/threads/{thread}/state")
    assert [i["value"] for i in state["interrupts"]] == ["Go ahead?"], state
    assert state["next"] == ["ask"]
    assert call(server, "GET", f"/threads/{thread}")["status"] == "interrupted"
    done = call(server, "POST", f"/threads/{thread}/runs/wait",
                {"assistant_id": "ask_slow", "command": {"resume": "second"}})
    assert done["done"] == ["ask got second", "then saw second"], done


@both
def test_resume_cancelled_while_its_node_runs_leaves_the_question_answerable(
        server: RunningServer) -> None:
    thread = paused(server, seconds=3.0)
    run_id = resume(server, thread, "first")
    until(lambda: running(server, thread, run_id), "the resume to run")
    time.sleep(0.3)  # the answer is claimed, the node sleeps
    cancel(server, thread, run_id)
    assert call(server, "GET", f"/threads/{thread}/runs/{run_id}")["status"] == "interrupted"
    assert_waits_again(server, thread)


@both
def test_resume_cancelled_by_an_interrupting_run_is_given_back(server: RunningServer) -> None:
    thread = paused(server, seconds=3.0)
    run_id = resume(server, thread, "first")
    until(lambda: running(server, thread, run_id), "the resume to run")
    time.sleep(0.3)
    second = call(server, "POST", f"/threads/{thread}/runs/wait",
                  {"assistant_id": "ask_slow", "command": {"resume": "second"},
                   "multitask_strategy": "interrupt"})
    assert call(server, "GET", f"/threads/{thread}/runs/{run_id}")["status"] == "interrupted"
    assert second["done"] == ["ask got second", "then saw second"], second


@both
def test_continuing_after_a_cancelled_resume_does_not_take_its_answer(
        server: RunningServer) -> None:
    thread = paused(server, seconds=3.0)
    run_id = resume(server, thread, "first")
    until(lambda: running(server, thread, run_id), "the resume to run")
    time.sleep(0.3)
    cancel(server, thread, run_id)
    again = call(server, "POST", f"/threads/{thread}/runs/wait",
                 {"assistant_id": "ask_slow", "input": None})
    assert [i["value"] for i in again["__interrupt__"]] == ["Go ahead?"]
    assert again["done"] == []
    assert_waits_again(server, thread)


@both
def test_resume_cancelled_before_a_worker_claims_it_changes_nothing(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    thread = paused(server)
    held = threading.Event()
    claim_run = Store.claim_run

    async def claim(self: Store, worker_id: str, lease_seconds: float) -> Any:
        return None if held.is_set() else await claim_run(self, worker_id, lease_seconds)

    monkeypatch.setattr(Store, "claim_run", claim)
    held.set()
    run_id = resume(server, thread, "first")
    cancel(server, thread, run_id)
    held.clear()
    assert call(server, "GET", f"/threads/{thread}/runs/{run_id}")["status"] == "interrupted"
    assert_waits_again(server, thread)


@both
def test_resume_cancelled_after_its_node_finished_stays_applied(server: RunningServer) -> None:
    thread = paused(server, after=1.5)
    run_id = resume(server, thread, "first")
    until(lambda: call(server, "GET", f"/threads/{thread}/state")["next"] == ["then"],
          "the answered node to finish")
    cancel(server, thread, run_id)
    state = call(server, "GET", f"/threads/{thread}/state")
    assert state["interrupts"] == [] and state["values"]["done"] == ["ask got first"]
    call(server, "POST", f"/threads/{thread}/runs",
         {"assistant_id": "ask_slow", "command": {"resume": "second"}}, status=409)
    done = call(server, "POST", f"/threads/{thread}/runs/wait",
                {"assistant_id": "ask_slow", "input": None})
    assert done["done"] == ["ask got first", "then saw first"], done


def _writes(*entries: tuple[str, str, Any]) -> list[tuple[str, str, Any]]:
    return list(entries)


ASKED = ("t", INTERRUPT, [Interrupt("q1", id="i1")])


def test_give_back_withdraws_only_the_answers_given_since_the_start() -> None:
    before = answer_counts(_writes(ASKED, ("t", RESUME, [["i0", "old", True]])))
    assert before == {"t": 1}
    now = _writes(ASKED, ("t", RESUME, [["i0", "old", True]]),
                  ("t", RESUME, [["i0", "old", True], ["i1", "new", True]]))
    assert withdrawals(now, before) == [
        ("t", [["i0", "old", True], ["i1", "new", True], ["i1", None, False]])]


def test_give_back_keeps_the_answers_of_a_task_that_moved_on() -> None:
    answered = ("t", RESUME, [["i1", "yes", True]])
    finished = _writes(ASKED, answered, ("t", "value", 1))
    asked_again = _writes(("t", INTERRUPT, [Interrupt("q2", id="i2")]), answered)
    failed = _writes(ASKED, ("t", RESUME, [["i1", "yes", True], ["i1", None, False]]))
    for writes in (finished, asked_again, failed):
        assert withdrawals(writes, {}) == []
    assert withdrawals(_writes(ASKED, answered), {"t": 1}) == []


@both
def test_resume_of_a_subgraph_cancelled_while_its_node_runs_is_given_back(
        server: RunningServer) -> None:
    thread = paused(server, "nested", seconds=3.0)
    run = call(server, "POST", f"/threads/{thread}/runs",
               {"assistant_id": "nested", "command": {"resume": "first"}})
    until(lambda: running(server, thread, run["run_id"]), "the resume to run")
    time.sleep(0.3)
    cancel(server, thread, run["run_id"])
    state = call(server, "GET", f"/threads/{thread}/state")
    assert [i["value"] for i in state["interrupts"]] == ["Go ahead?"], state
    done = call(server, "POST", f"/threads/{thread}/runs/wait",
                {"assistant_id": "nested", "command": {"resume": "second"}})
    assert done["done"] == ["ask got second", "then saw second"], done


@both
def test_resume_of_a_subgraph_cancelled_after_its_node_finished_stays_applied(
        server: RunningServer) -> None:
    thread = paused(server, "nested", after=1.5)
    run = call(server, "POST", f"/threads/{thread}/runs",
               {"assistant_id": "nested", "command": {"resume": "first"}})
    until(lambda: running(server, thread, run["run_id"]), "the resume to run")
    time.sleep(0.5)  # 'ask' is done inside the subgraph; 'then' sleeps
    cancel(server, thread, run["run_id"])
    assert call(server, "GET", f"/threads/{thread}/state")["interrupts"] == []
    assert call(server, "GET", f"/threads/{thread}")["interrupts"] == {}
    call(server, "POST", f"/threads/{thread}/runs",
         {"assistant_id": "nested", "command": {"resume": "second"}}, status=409)
    done = call(server, "POST", f"/threads/{thread}/runs/wait",
                {"assistant_id": "nested", "input": None})
    assert done["done"] == ["ask got first", "then saw first"], done


def test_give_back_in_subgraphs_goes_to_every_level_or_none() -> None:
    given = {"top": [["i1", "yes", True], ["i1", None, False]]}
    outer = {"configurable": {"checkpoint_ns": "inner:top", "checkpoint_id": "c1"}}
    waiting = _writes(("leaf", INTERRUPT, [Interrupt("q1", id="i1")]),
                      ("leaf", RESUME, [["i1", "yes", True]]))
    keep, inner = subgraph_withdrawals(given, [(outer, waiting)])
    assert keep == set()
    assert inner == [(outer, "leaf", [["i1", "yes", True], ["i1", None, False]])]
    finished = [*waiting, ("leaf", "answer", "yes")]
    assert subgraph_withdrawals(given, [(outer, finished)]) == ({"top"}, [])
    moved = _writes(("then", "done", 1))  # the subgraph saved its step: no question left
    assert subgraph_withdrawals(given, [(outer, moved)]) == ({"top"}, [])
    assert subgraph_withdrawals(given, []) == (set(), [])


@both
def test_resume_cancelled_after_its_worker_died_is_given_back(
        database: str, start_process: Callable[..., ServerProcess]) -> None:
    doomed = start_process(database, "--lease-seconds", "2")
    server = RunningServer(url=doomed.url, db=database, clients=[])
    thread = paused(server, seconds=60.0)
    run_id = resume(server, thread, "first")
    until(lambda: running(server, thread, run_id), "the resume to run")
    time.sleep(0.5)  # the answer is claimed, the node sleeps
    doomed.kill()
    heir = start_process(database, "--workers", "1", "--lease-seconds", "2",
                         "--poll-seconds", "0.1")
    server = RunningServer(url=heir.url, db=database, clients=[])
    cancel(server, thread, run_id)
    until(lambda: call(server, "GET", f"/threads/{thread}/runs/{run_id}")["status"]
          == "interrupted", "the run to end as cancelled")
    heir.wait_for("given back")
    state = call(server, "GET", f"/threads/{thread}/state")
    assert [i["value"] for i in state["interrupts"]] == ["Go ahead?"], state
    done = call(server, "POST", f"/threads/{thread}/runs/wait",
                {"assistant_id": "ask_slow", "command": {"resume": "second"}})
    assert done["answer"] == "second"
