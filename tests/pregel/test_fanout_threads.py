"""A step of Sends with nothing streaming: the driving thread runs tasks itself while it
waits (pregel/_workers.py Lanes.add/take), yet the step's tasks still run side by side,
their results and errors as before, each in the context it was started from."""

from __future__ import annotations

import contextvars
import operator
import threading
import time
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.pregel._workers import Lanes
from hitlgraph.types import Send


class _S(TypedDict, total=False):
    i: int
    out: Annotated[list[Any], operator.add]
    total: int


def _fan_out(n: int, node: Any, saver: Any = None) -> Any:
    b = StateGraph(_S)
    b.add_node("w", node)
    b.add_node("sum", lambda s: {"total": sum(s["out"])})
    b.add_conditional_edges(START, lambda s: [Send("w", {"i": i}) for i in range(n)], ["w"])
    b.add_edge("w", "sum")
    b.add_edge("sum", END)
    return b.compile(checkpointer=saver)


def _double(s: _S) -> dict[str, Any]:
    return {"out": [s["i"] * 2]}


@pytest.mark.parametrize("n", [100, 1000])
@pytest.mark.parametrize("saver", [None, "memory"])
def test_results_of_many_sends_are_whole_and_in_order(n: int, saver: str | None) -> None:
    graph = _fan_out(n, _double, InMemorySaver() if saver else None)
    config = {"configurable": {"thread_id": "t"}}
    result = graph.invoke({"out": []}, config)
    assert result == {"out": [i * 2 for i in range(n)], "total": n * (n - 1)}
    if saver:
        assert graph.get_state(config).values == result


def test_branches_waiting_on_each_other_run_together() -> None:
    for parties in (2, 3, 8):
        barrier = threading.Barrier(parties, timeout=10)  # (broken, not hung, if serial)

        def meet(s: _S, barrier: threading.Barrier = barrier) -> dict[str, Any]:
            barrier.wait()
            return {"out": [s["i"]]}

        assert _fan_out(parties, meet).invoke({"out": []})["out"] == list(range(parties))


def test_a_blocked_branch_does_not_hold_up_the_others() -> None:
    release = threading.Event()
    finished: list[int] = []

    def node(s: _S) -> dict[str, Any]:
        if s["i"] == 0:
            assert release.wait(10)
        else:
            finished.append(s["i"])
            if len(finished) == 49:
                release.set()
        return {"out": [s["i"]]}

    assert _fan_out(50, node).invoke({"out": []})["out"] == list(range(50))


def test_a_failing_branch_beside_finished_ones_raises() -> None:
    def node(s: _S) -> dict[str, Any]:
        if s["i"] == 57:
            raise ValueError("branch 57")
        return {"out": [s["i"]]}

    saver = InMemorySaver()
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(ValueError, match="branch 57"):
        _fan_out(100, node, saver).invoke({"out": []}, config)
    assert saver.get_tuple(config) is not None


def test_each_branch_sees_the_callers_context_and_leaks_nothing() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[str] = []

    def node(s: _S) -> dict[str, Any]:
        seen.append(var.get())
        var.set(f"branch {s['i']}")
        return {"out": [s["i"]]}

    token = var.set("caller")
    try:
        _fan_out(20, node).invoke({"out": []})
        assert var.get() == "caller"
    finally:
        var.reset(token)
    assert seen == ["caller"] * 20


def test_take_runs_here_and_wakes_a_thread_for_what_is_left() -> None:
    lanes = Lanes(4)
    here = threading.get_ident()
    ran: dict[int, int] = {}
    barrier = threading.Barrier(2, timeout=10)

    def job(n: int) -> None:
        ran[n] = threading.get_ident()
        if n < 2:
            barrier.wait()

    for n in range(2):
        lanes.add(job, n)
    assert lanes.take()  # job 0 meets job 1, which a woken thread runs meanwhile
    deadline = time.monotonic() + 10
    while len(ran) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert ran[0] == here and ran[1] != here
    assert not lanes.take()
