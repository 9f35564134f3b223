"""Parallel tasks of the sync driver run on threads the process keeps between runs
(pregel/_workers.py): still in parallel, at most 32 of a run at once, never starved by a task
that waits for tasks of its own, and a closed run starts nothing more."""

from __future__ import annotations

import operator
import threading
import time
from typing import Annotated, Any

from typing_extensions import TypedDict

from hitlgraph.graph import START, StateGraph
from hitlgraph.pregel._workers import Lanes
from hitlgraph.types import Send


class _S(TypedDict, total=False):
    i: int
    out: Annotated[list[Any], operator.add]


def _fan_out(n: int, node: Any) -> Any:
    b = StateGraph(_S)
    b.add_node("w", node)
    b.add_conditional_edges(START, lambda s: [Send("w", {"i": i}) for i in range(n)], ["w"])
    return b.compile()


def test_sends_run_in_parallel_and_threads_serve_the_next_run() -> None:
    barrier = threading.Barrier(8, timeout=10)  # (broken, not hung, if they ran one by one)
    idents: list[set[int]] = [set(), set()]
    run = [0]

    def meet(s: _S) -> dict[str, Any]:
        barrier.wait()
        idents[run[0]].add(threading.get_ident())
        return {"out": [s["i"]]}

    graph = _fan_out(8, meet)
    assert sorted(graph.invoke({"out": []})["out"]) == list(range(8))
    run[0] = 1
    time.sleep(0.2)  # (the first run's threads are back among the idle ones)
    assert sorted(graph.invoke({"out": []})["out"]) == list(range(8))
    here = threading.get_ident()  # (the driving thread runs some of them too: Lanes.take)
    assert idents[0] - {here} and idents[1] - {here}
    assert (idents[0] & idents[1]) - {here}  # the second run reused threads of the first


def test_a_run_has_at_most_32_tasks_running_at_once() -> None:
    lock, running, most = threading.Lock(), [0], [0]

    def count(s: _S) -> dict[str, Any]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return {"out": [s["i"]]}

    assert sorted(_fan_out(40, count).invoke({"out": []})["out"]) == list(range(40))
    assert 2 <= most[0] <= 32


def test_a_task_waiting_for_tasks_of_its_own_gets_threads() -> None:
    outer, inner = Lanes(1), Lanes(1)
    done = threading.Event()

    def child() -> None:
        done.set()

    def parent() -> None:
        inner.submit(child)
        assert done.wait(10)

    finished = threading.Event()
    outer.submit(lambda: (parent(), finished.set()))
    assert finished.wait(10)


def test_lanes_cap_their_tasks_and_a_closed_one_starts_nothing_more() -> None:
    lanes = Lanes(2)
    gate, started = threading.Event(), []
    lock = threading.Lock()

    def job(n: int) -> None:
        with lock:
            started.append(n)
        gate.wait(10)

    for n in range(5):
        lanes.submit(job, n)
    deadline = time.monotonic() + 10
    while len(started) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    assert sorted(started) == [0, 1]  # the cap: the other three wait in the backlog
    lanes.close()
    lanes.submit(job, 9)
    gate.set()
    time.sleep(0.1)
    assert sorted(started) == [0, 1]
