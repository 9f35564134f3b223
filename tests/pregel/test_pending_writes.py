"""Pending writes: when one task of a superstep pauses or fails, the siblings that finished keep
their writes, and on resume they do not run again."""

from __future__ import annotations

import operator
from collections import Counter
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, Send, interrupt


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


def _interrupting_step(calls: Counter[str]) -> Any:
    def ok(state: State) -> dict[str, Any]:
        calls["ok"] += 1
        return {"log": ["ok"]}

    def ask(state: State) -> dict[str, Any]:
        calls["ask"] += 1
        return {"log": ["ask:" + interrupt("go?")]}

    def after(state: State) -> dict[str, Any]:
        calls["after"] += 1
        return {"log": ["after"]}

    return (StateGraph(State).add_node("ok", ok).add_node("ask", ask).add_node("after", after)
            .add_edge(START, "ok").add_edge(START, "ask").add_edge(["ok", "ask"], "after")
            .compile(checkpointer=InMemorySaver()))


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_sibling_writes_survive_interrupt(run: Any, config: Any, durability: str) -> None:
    calls: Counter[str] = Counter()
    graph = _interrupting_step(calls)

    paused = run.invoke(graph, {"x": 0, "log": []}, config, durability=durability)
    assert paused["log"] == ["ok"]
    done = run.invoke(graph, Command(resume="yes"), config, durability=durability)

    assert done == {"x": 0, "log": ["ask:yes", "ok", "after"]}
    assert calls == {"ok": 1, "ask": 2, "after": 1}


def test_interrupted_step_state_shows_finished_sibling(run: Any, config: Any) -> None:
    graph = _interrupting_step(Counter())
    run.invoke(graph, {"x": 0, "log": []}, config)

    state = run.get_state(graph, config)

    assert state.values == {"x": 0, "log": ["ok"]}
    assert state.next == ("ask",)
    assert {t.name: t.result for t in state.tasks} == {"ok": {"log": ["ok"]}, "ask": None}
    assert [i.value for i in state.interrupts] == ["go?"]


def test_interrupted_step_history_records_the_step_as_it_began(run: Any, config: Any) -> None:
    graph = _interrupting_step(Counter())
    run.invoke(graph, {"x": 0, "log": []}, config)

    latest = run.history(graph, config)[0]

    assert latest.values == {"x": 0, "log": []}
    assert latest.next == ("ok", "ask")
    assert [i.value for i in latest.interrupts] == ["go?"]


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_sibling_writes_survive_failure(run: Any, config: Any, durability: str) -> None:
    calls: Counter[str] = Counter()
    broken = {"on": True}

    def ok(state: State) -> dict[str, Any]:
        calls["ok"] += 1
        return {"log": ["ok"]}

    def bad(state: State) -> dict[str, Any]:
        calls["bad"] += 1
        if broken["on"]:
            raise RuntimeError("disk full")
        return {"log": ["bad"]}

    graph = (StateGraph(State).add_node("ok", ok).add_node("bad", bad)
             .add_edge(START, "ok").add_edge(START, "bad").compile(checkpointer=InMemorySaver()))

    with pytest.raises(RuntimeError, match="disk full"):
        run.invoke(graph, {"x": 0, "log": []}, config, durability=durability)
    assert run.get_state(graph, config).next == ("bad",)

    broken["on"] = False
    assert run.invoke(graph, None, config, durability=durability)["log"] == ["bad", "ok"]
    assert calls == {"ok": 1, "bad": 2}


def test_finished_send_tasks_do_not_rerun_on_resume(run: Any, config: Any) -> None:
    calls: Counter[int] = Counter()

    def work(arg: dict[str, int]) -> dict[str, Any]:
        calls[arg["i"]] += 1
        if arg["i"] == 1:
            return {"log": [f"w1:{interrupt('check item 1')}"]}
        return {"log": [f"w{arg['i']}"]}

    graph = (StateGraph(State).add_node("work", work)
             .add_conditional_edges(START, lambda s: [Send("work", {"i": i}) for i in range(3)])
             .compile(checkpointer=InMemorySaver()))

    run.invoke(graph, {"x": 0, "log": []}, config)
    done = run.invoke(graph, Command(resume="fine"), config)

    assert done["log"] == ["w0", "w1:fine", "w2"]
    assert calls == {0: 1, 1: 2, 2: 1}
