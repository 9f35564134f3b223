"""interrupt(): pausing, the "__interrupt__" output, Command(resume=...), several interrupts."""

from __future__ import annotations

import operator
import re
from typing import Annotated, Any

from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, Interrupt, interrupt


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


def logger(name: str) -> Any:
    def node(state: Any) -> dict[str, Any]:
        return {"log": [name]}

    return node


def ask_graph(ask: Any) -> Any:
    return (StateGraph(State).add_node("a", logger("a")).add_node("ask", ask)
            .add_node("c", logger("c")).add_edge(START, "a").add_edge("a", "ask")
            .add_edge("ask", "c").compile(checkpointer=InMemorySaver()))


def ask_name(state: State) -> dict[str, Any]:
    return {"log": ["name:" + interrupt({"question": "name?", "x": state["x"]})]}


def test_interrupt_pauses_and_invoke_returns_values_with_interrupt(run: Any,
                                                                  config: Any) -> None:
    result = run.invoke(ask_graph(ask_name), {"x": 3, "log": []}, config)

    (pause,) = result.pop("__interrupt__")
    assert result == {"x": 3, "log": ["a"]}
    assert isinstance(pause, Interrupt)
    assert pause.value == {"question": "name?", "x": 3}
    assert re.fullmatch(r"[0-9a-f]{32}", pause.id)


def test_interrupt_id_matches_the_thread_state(run: Any, config: Any) -> None:
    graph = ask_graph(ask_name)
    result = run.invoke(graph, {"x": 3, "log": []}, config)

    state = run.get_state(graph, config)

    assert state.interrupts == tuple(result["__interrupt__"])
    assert state.next == ("ask",)
    assert state.tasks[0].interrupts == tuple(result["__interrupt__"])


def test_stream_updates_yields_interrupt_chunk_and_ends(run: Any, config: Any) -> None:
    chunks = run.stream(ask_graph(ask_name), {"x": 3, "log": []}, config,
                        stream_mode="updates")

    assert chunks[0] == {"a": {"log": ["a"]}}
    assert list(chunks[1]) == ["__interrupt__"]
    (pause,) = chunks[1]["__interrupt__"]
    assert isinstance(chunks[1]["__interrupt__"], tuple)
    assert pause.value == {"question": "name?", "x": 3}
    assert len(chunks) == 2


def test_stream_values_yields_state_with_interrupt_last(run: Any, config: Any) -> None:
    chunks = run.stream(ask_graph(ask_name), {"x": 3, "log": []}, config,
                        stream_mode="values")

    assert chunks[:2] == [{"x": 3, "log": []}, {"x": 3, "log": ["a"]}]
    last = chunks[2]
    assert [i.value["question"] for i in last.pop("__interrupt__")] == ["name?"]
    assert last == {"x": 3, "log": ["a"]}
    assert len(chunks) == 3


def test_resume_value_is_returned_by_interrupt(run: Any, config: Any) -> None:
    graph = ask_graph(ask_name)
    run.invoke(graph, {"x": 3, "log": []}, config)

    assert run.invoke(graph, Command(resume="Ada"), config) == {
        "x": 3, "log": ["a", "name:Ada", "c"],
    }


def test_resume_reruns_node_from_start(run: Any, config: Any) -> None:
    before: list[int] = []
    after: list[str] = []

    def ask(state: State) -> dict[str, Any]:
        before.append(state["x"])
        answer = interrupt("ok?")
        after.append(answer)
        return {"log": [answer]}

    graph = ask_graph(ask)
    run.invoke(graph, {"x": 3, "log": []}, config)
    assert (before, after) == ([3], [])

    run.invoke(graph, Command(resume="yes"), config)
    assert (before, after) == ([3, 3], ["yes"])


def test_resume_streams_the_rest_of_the_run(run: Any, config: Any) -> None:
    graph = ask_graph(ask_name)
    run.invoke(graph, {"x": 3, "log": []}, config)

    chunks = run.stream(graph, Command(resume="Ada"), config, stream_mode="updates")

    assert chunks == [{"ask": {"log": ["name:Ada"]}}, {"c": {"log": ["c"]}}]


def test_several_interrupts_in_one_node_are_answered_in_order(run: Any,
                                                              config: Any) -> None:
    def form(state: State) -> dict[str, Any]:
        first = interrupt("first name?")
        last = interrupt("last name?")
        return {"log": [f"{first} {last}"]}

    graph = ask_graph(form)

    r1 = run.invoke(graph, {"x": 0, "log": []}, config)
    r2 = run.invoke(graph, Command(resume="Ada"), config)
    r3 = run.invoke(graph, Command(resume="Lovelace"), config)

    assert [i.value for i in r1["__interrupt__"]] == ["first name?"]
    assert [i.value for i in r2["__interrupt__"]] == ["last name?"]
    assert r1["__interrupt__"][0].id != r2["__interrupt__"][0].id
    assert r3 == {"x": 0, "log": ["a", "Ada Lovelace", "c"]}


def _three_askers() -> Any:
    def asker(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            return {"log": [f"{name}={interrupt(name)}"]}

        return node

    builder = StateGraph(State)
    for name in ("p", "q", "r"):
        builder.add_node(name, asker(name)).add_edge(START, name)
    return builder.compile(checkpointer=InMemorySaver())


def test_several_tasks_interrupting_answered_with_resume_map(run: Any, config: Any) -> None:
    graph = _three_askers()
    paused = run.invoke(graph, {"x": 0, "log": []}, config)
    by_value = {i.value: i.id for i in paused["__interrupt__"]}
    assert sorted(by_value) == ["p", "q", "r"]

    answers = {by_value[name]: name.upper() for name in ("p", "q", "r")}
    done = run.invoke(graph, Command(resume=answers), config)

    assert done == {"x": 0, "log": ["p=P", "q=Q", "r=R"]}


def test_partial_resume_map_leaves_the_rest_pending(run: Any, config: Any) -> None:
    graph = _three_askers()
    paused = run.invoke(graph, {"x": 0, "log": []}, config)
    by_value = {i.value: i.id for i in paused["__interrupt__"]}

    partial = run.invoke(graph, Command(resume={by_value["q"]: "Q"}), config)

    assert partial["log"] == ["q=Q"]
    assert sorted(i.value for i in partial["__interrupt__"]) == ["p", "r"]
    state = run.get_state(graph, config)
    assert state.next == ("p", "r")
    assert sorted(i.id for i in state.interrupts) == sorted([by_value["p"], by_value["r"]])

    done = run.invoke(graph, Command(resume={by_value["p"]: "P", by_value["r"]: "R"}), config)
    assert done["log"] == ["p=P", "q=Q", "r=R"]


def test_node_except_exception_does_not_swallow_the_pause(run: Any, config: Any) -> None:
    swallowed: list[BaseException] = []

    def careful(state: State) -> dict[str, Any]:
        try:
            answer = interrupt("sure?")
        except Exception as exc:  # the pattern LangGraph's docs warn about
            swallowed.append(exc)
            answer = "swallowed"
        return {"log": [answer]}

    graph = ask_graph(careful)
    paused = run.invoke(graph, {"x": 0, "log": []}, config)

    assert swallowed == []
    assert [i.value for i in paused["__interrupt__"]] == ["sure?"]
    assert run.invoke(graph, Command(resume="sure"), config)["log"] == ["a", "sure", "c"]


def test_async_node_interrupts_and_resumes(run: Any, config: Any) -> None:
    async def ask(state: State) -> dict[str, Any]:
        return {"log": ["async:" + interrupt("async?")]}

    graph = ask_graph(ask)
    paused = run.invoke(graph, {"x": 0, "log": []}, config)

    assert [i.value for i in paused["__interrupt__"]] == ["async?"]
    assert run.invoke(graph, Command(resume="ok"), config)["log"] == ["a", "async:ok", "c"]
