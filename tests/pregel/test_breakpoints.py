"""Static breakpoints (interrupt_before / interrupt_after), continuing with invoke(None), and new
input on a paused thread."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.errors import EmptyInputError
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import interrupt

sys.path.insert(0, str(Path(__file__).parent))
from _abc_graph import INPUT, State, abc


def test_compiled_interrupt_before_pauses_before_the_node(run: Any, config: Any) -> None:
    calls: Counter[str] = Counter()
    graph = abc(calls, interrupt_before=["b"])

    assert run.invoke(graph, INPUT, config) == {"x": 0, "log": ["a"]}
    assert calls == {"a": 1}
    assert run.get_state(graph, config).next == ("b",)


def test_compiled_interrupt_after_pauses_after_the_node(run: Any, config: Any) -> None:
    calls: Counter[str] = Counter()
    graph = abc(calls, interrupt_after=["b"])

    assert run.invoke(graph, INPUT, config) == {"x": 0, "log": ["a", "b"]}
    assert calls == {"a": 1, "b": 1}
    assert run.get_state(graph, config).next == ("c",)


def test_invoke_none_continues_from_a_breakpoint(run: Any, config: Any) -> None:
    calls: Counter[str] = Counter()
    graph = abc(calls, interrupt_before=["b"])
    run.invoke(graph, INPUT, config)

    assert run.invoke(graph, None, config) == {"x": 0, "log": ["a", "b", "c"]}
    assert calls == {"a": 1, "b": 1, "c": 1}


def test_breakpoint_pause_has_no_interrupt_values(run: Any, config: Any) -> None:
    graph = abc(interrupt_before=["b"])

    assert "__interrupt__" not in run.invoke(graph, INPUT, config)
    assert run.get_state(graph, config).interrupts == ()


def test_stream_updates_at_a_breakpoint_yields_an_empty_interrupt(run: Any,
                                                                  config: Any) -> None:
    graph = abc(interrupt_before=["b"])

    chunks = run.stream(graph, INPUT, config, stream_mode="updates")

    assert chunks == [{"a": {"log": ["a"]}}, {"__interrupt__": ()}]


def test_invoke_time_interrupt_before_replaces_compiled_one(run: Any, config: Any) -> None:
    graph = abc(interrupt_before=["b"])

    assert run.invoke(graph, INPUT, config, interrupt_before=["c"]) == {
        "x": 0, "log": ["a", "b"],
    }
    assert run.get_state(graph, config).next == ("c",)


def test_invoke_time_interrupt_after_applies_with_compiled_before(run: Any,
                                                                  config: Any) -> None:
    graph = abc(interrupt_before=["c"])

    assert run.invoke(graph, INPUT, config, interrupt_after=["a"]) == {"x": 0, "log": ["a"]}
    assert run.get_state(graph, config).next == ("b",)


def test_invoke_time_empty_list_keeps_compiled_breakpoints(run: Any, config: Any) -> None:
    graph = abc(interrupt_before=["b"])

    assert run.invoke(graph, INPUT, config, interrupt_before=[]) == {"x": 0, "log": ["a"]}


def test_star_breaks_before_every_node(run: Any, config: Any) -> None:
    graph = abc(interrupt_before="*")

    assert run.invoke(graph, INPUT, config) == {"x": 0, "log": []}
    assert run.get_state(graph, config).next == ("a",)
    assert run.invoke(graph, None, config)["log"] == ["a"]
    assert run.invoke(graph, None, config)["log"] == ["a", "b"]
    assert run.invoke(graph, None, config)["log"] == ["a", "b", "c"]


def test_star_breaks_after_every_node_given_at_invoke(run: Any, config: Any) -> None:
    graph = abc()

    assert run.invoke(graph, INPUT, config, interrupt_after="*")["log"] == ["a"]
    assert run.invoke(graph, None, config, interrupt_after="*")["log"] == ["a", "b"]
    assert run.invoke(graph, None, config)["log"] == ["a", "b", "c"]


def test_new_input_abandons_a_pending_interrupt(run: Any, config: Any) -> None:
    def ask(state: State) -> dict[str, Any]:
        return {"log": [interrupt(f"about {state['x']}?")]}

    graph = (StateGraph(State).add_node("ask", ask).add_edge(START, "ask")
             .compile(checkpointer=InMemorySaver()))
    run.invoke(graph, {"x": 1, "log": []}, config)

    again = run.invoke(graph, {"x": 2, "log": ["new"]}, config)

    assert [i.value for i in again["__interrupt__"]] == ["about 2?"]
    state = run.get_state(graph, config)
    assert [i.value for i in state.interrupts] == ["about 2?"]
    assert state.values == {"x": 2, "log": ["new"]}


def test_new_input_abandons_a_pending_breakpoint(run: Any, config: Any) -> None:
    calls: Counter[str] = Counter()
    graph = abc(calls, interrupt_before=["c"])
    run.invoke(graph, INPUT, config)

    assert run.invoke(graph, {"x": 1, "log": []}, config) == {
        "x": 1, "log": ["a", "b", "a", "b"],
    }
    assert calls == {"a": 2, "b": 2}


def test_invoke_none_on_an_empty_thread_raises_empty_input_error(run: Any,
                                                                 config: Any) -> None:
    with pytest.raises(EmptyInputError, match="no checkpoint to continue"):
        run.invoke(abc(), None, config)


def test_invoke_none_without_checkpointer_raises_empty_input_error(run: Any) -> None:
    graph = (StateGraph(State).add_node("a", lambda s: None).add_edge(START, "a").compile())

    with pytest.raises(EmptyInputError, match="Received no input"):
        run.invoke(graph, None)
