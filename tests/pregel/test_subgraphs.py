"""Subgraphs: a compiled graph as a node or invoked inside a node, their checkpoint namespaces,
interrupts inside them (one and two levels deep, in parallel), Command.PARENT, and reading and
editing their state from the parent."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.errors import ResumeError
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, Interrupt, StateSnapshot, interrupt


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


def counted(name: str, calls: list[str]) -> Any:
    def node(state: Any) -> dict[str, Any]:
        calls.append(name)
        return {"log": [name]}

    return node


def asker(name: str, calls: list[str]) -> Any:
    def node(state: Any) -> dict[str, Any]:
        calls.append(name)
        return {"log": [f"{name}:{interrupt(name + '?')}"]}

    return node


def sub_with_question(calls: list[str]) -> Any:
    """inner -> ask (interrupt) -> after; state keys shared with the parent."""
    return (StateGraph(Log).add_node("inner", counted("inner", calls))
            .add_node("ask", asker("ask", calls)).add_node("after", counted("after", calls))
            .add_edge(START, "inner").add_edge("inner", "ask").add_edge("ask", "after")
            .compile())


def parent_of(sub: Any, calls: list[str]) -> Any:
    """top -> sub -> end."""
    return (StateGraph(Log).add_node("top", counted("top", calls)).add_node("sub", sub)
            .add_node("end", counted("end", calls)).add_edge(START, "top")
            .add_edge("top", "sub").add_edge("sub", "end")
            .compile(checkpointer=InMemorySaver()))


# -- running subgraphs ---------------------------------------------------------------------------


def test_compiled_graph_as_node_reads_and_writes_the_shared_state_keys(run: Any) -> None:
    sub = (StateGraph(State).add_node("double", lambda s: {"x": s["x"] * 2, "log": ["double"]})
           .add_edge(START, "double").compile())
    graph = (StateGraph(State).add_node("sub", sub).add_node("after", lambda s: {"log": ["after"]})
             .add_edge(START, "sub").add_edge("sub", "after").compile())

    # the subgraph returns its whole state, so the parent's reducer adds its log again
    assert run.invoke(graph, {"x": 3, "log": ["in"]}) == {
        "x": 6, "log": ["in", "in", "double", "after"]}


def test_graph_invoked_inside_a_node_function_runs_as_a_subgraph(run: Any,
                                                                 config: Any) -> None:
    calls: list[str] = []
    sub = sub_with_question(calls)

    def caller(state: Log) -> dict[str, Any]:
        calls.append("caller")
        return {"log": sub.invoke({"log": []})["log"]}

    graph = (StateGraph(Log).add_node("caller", caller).add_edge(START, "caller")
             .compile(checkpointer=InMemorySaver()))

    paused = run.invoke(graph, {"log": []}, config)
    assert [i.value for i in paused["__interrupt__"]] == ["ask?"]
    done = run.invoke(graph, Command(resume="ok"), config)

    assert done == {"log": ["inner", "ask:ok", "after"]}
    assert calls == ["caller", "inner", "ask", "caller", "ask", "after"]


def test_subgraph_checkpoints_live_under_the_node_and_task_id_namespace(run: Any,
                                                                       config: Any) -> None:
    graph = parent_of(sub_with_question([]), [])
    run.invoke(graph, {"log": []}, config)
    (task,) = run.get_state(graph, config).tasks

    ns = f"sub:{task.id}"
    sub_config = {"configurable": {**config["configurable"], "checkpoint_ns": ns}}
    history = run.history(graph, sub_config)

    assert [s.next for s in history] == [("ask",), ("inner",), ("__start__",)]
    assert all(s.config["configurable"]["checkpoint_ns"] == ns for s in history)
    parent_id = run.get_state(graph, config).config["configurable"]["checkpoint_id"]
    assert all(s.metadata["parents"] == {"": parent_id} for s in history)
    assert history[0].config["configurable"]["checkpoint_map"] == {
        "": parent_id, ns: history[0].config["configurable"]["checkpoint_id"]}
    assert [s.next for s in run.history(graph, config)] == [
        ("sub",), ("top",), ("__start__",)]  # the parent's own history has no sub steps


# -- interrupts inside subgraphs -----------------------------------------------------------------


def test_interrupt_inside_a_subgraph_pauses_the_whole_run(run: Any, config: Any) -> None:
    calls: list[str] = []
    graph = parent_of(sub_with_question(calls), calls)

    paused = run.invoke(graph, {"log": []}, config)

    (pause,) = paused.pop("__interrupt__")
    assert isinstance(pause, Interrupt) and pause.value == "ask?"
    assert paused == {"log": ["top"]}
    state = run.get_state(graph, config)
    assert state.next == ("sub",) and state.interrupts == (pause,)
    assert calls == ["top", "inner", "ask"]


def test_resume_on_the_parent_continues_inside_the_subgraph(run: Any, config: Any) -> None:
    calls: list[str] = []
    graph = parent_of(sub_with_question(calls), calls)
    run.invoke(graph, {"log": []}, config)

    done = run.invoke(graph, Command(resume="yes"), config)

    assert done == {"log": ["top", "top", "inner", "ask:yes", "after", "end"]}
    assert calls == ["top", "inner", "ask", "ask", "after", "end"]  # inner did not run again


def test_interrupt_two_subgraph_levels_deep_is_resumed_from_the_top(run: Any,
                                                                   config: Any) -> None:
    calls: list[str] = []
    deepest = (StateGraph(Log).add_node("deep", asker("deep", calls)).add_edge(START, "deep")
               .compile())
    middle = (StateGraph(Log).add_node("m1", counted("m1", calls)).add_node("deepest", deepest)
              .add_edge(START, "m1").add_edge("m1", "deepest").compile())
    graph = (StateGraph(Log).add_node("top", counted("top", calls))
             .add_node("middle", middle).add_edge(START, "top").add_edge("top", "middle")
             .compile(checkpointer=InMemorySaver()))

    paused = run.invoke(graph, {"log": []}, config)
    assert [i.value for i in paused["__interrupt__"]] == ["deep?"]
    done = run.invoke(graph, Command(resume="yes"), config)

    assert done == {"log": ["top", "top", "m1", "top", "m1", "deep:yes"]}
    assert calls == ["top", "m1", "deep", "deep"]
    assert run.get_state(graph, config).next == ()


def parallel_subgraphs(calls: list[str]) -> Any:
    sub_a = StateGraph(Log).add_node("qa", asker("qa", calls)).add_edge(START, "qa").compile()
    sub_b = StateGraph(Log).add_node("qb", asker("qb", calls)).add_edge(START, "qb").compile()
    return (StateGraph(Log).add_node("ga", sub_a).add_node("gb", sub_b)
            .add_node("after", counted("after", calls))
            .add_edge(START, "ga").add_edge(START, "gb").add_edge(["ga", "gb"], "after")
            .compile(checkpointer=InMemorySaver()))


def test_parallel_subgraph_interrupts_are_answered_by_interrupt_id(run: Any,
                                                                  config: Any) -> None:
    calls: list[str] = []
    graph = parallel_subgraphs(calls)

    paused = run.invoke(graph, {"log": []}, config)
    ids = {i.value: i.id for i in paused["__interrupt__"]}
    assert sorted(ids) == ["qa?", "qb?"]
    done = run.invoke(graph, Command(resume={ids["qa?"]: "A", ids["qb?"]: "B"}), config)

    assert done == {"log": ["qa:A", "qb:B", "after"]}
    assert sorted(calls) == ["after", "qa", "qa", "qb", "qb"]


def test_answering_one_parallel_subgraph_interrupt_keeps_the_other_waiting(
    run: Any, config: Any,
) -> None:
    graph = parallel_subgraphs([])
    ids = {i.value: i.id for i in run.invoke(graph, {"log": []}, config)["__interrupt__"]}

    partial = run.invoke(graph, Command(resume={ids["qa?"]: "A"}), config)

    assert partial["log"] == ["qa:A"]
    assert [i.id for i in partial["__interrupt__"]] == [ids["qb?"]]
    assert run.invoke(graph, Command(resume={ids["qb?"]: "B"}), config) == {
        "log": ["qa:A", "qb:B", "after"]}


def test_a_single_resume_value_for_several_subgraph_interrupts_is_rejected(
    run: Any, config: Any,
) -> None:
    graph = parallel_subgraphs([])
    run.invoke(graph, {"log": []}, config)

    with pytest.raises(ResumeError, match="has 2 interrupts waiting"):
        run.invoke(graph, Command(resume="for whom?"), config)


# -- Command.PARENT ------------------------------------------------------------------------------


def test_command_parent_from_a_subgraph_node_routes_and_updates_in_the_parent(
    run: Any, config: Any,
) -> None:
    calls: list[str] = []

    def jump(state: Log) -> Command[Any]:
        calls.append("jump")
        return Command(graph=Command.PARENT, goto="landing", update={"log": ["jumped"]})

    sub = (StateGraph(Log).add_node("jump", jump).add_node("never", counted("never", calls))
           .add_edge(START, "jump").add_edge("jump", "never").compile())
    graph = (StateGraph(Log).add_node("sub", sub, destinations=("landing",))
             .add_node("landing", counted("landing", calls)).add_edge(START, "sub")
             .compile(checkpointer=InMemorySaver()))

    assert run.invoke(graph, {"log": []}, config) == {"log": ["jumped", "landing"]}
    assert calls == ["jump", "landing"]  # the subgraph's own next node never ran
    assert run.stream(graph, {"log": []}, {"configurable": {"thread_id": "p2"}},
                      stream_mode="updates") == [
        {"sub": {"log": ["jumped"]}}, {"landing": {"log": ["landing"]}}]


# -- reading and editing a subgraph's state ------------------------------------------------------


def test_get_state_with_subgraphs_shows_the_subgraph_snapshot_in_the_parent_task(
    run: Any, config: Any,
) -> None:
    graph = parent_of(sub_with_question([]), [])
    paused = run.invoke(graph, {"log": []}, config)

    if run.mode == "sync":
        state = graph.get_state(config, subgraphs=True)
    else:
        state = asyncio.run(graph.aget_state(config, subgraphs=True))

    (task,) = state.tasks
    assert isinstance(task.state, StateSnapshot)
    assert task.state.values == {"log": ["top", "inner"]}
    assert task.state.next == ("ask",)
    assert task.state.interrupts == tuple(paused["__interrupt__"])
    assert task.state.config["configurable"]["checkpoint_ns"] == f"sub:{task.id}"


def test_without_subgraphs_the_task_state_is_a_config_that_reads_the_subgraph(
    run: Any, config: Any,
) -> None:
    graph = parent_of(sub_with_question([]), [])
    run.invoke(graph, {"log": []}, config)

    (task,) = run.get_state(graph, config).tasks

    assert task.state == {"configurable": {"thread_id": config["configurable"]["thread_id"],
                                           "checkpoint_ns": f"sub:{task.id}"}}
    assert run.get_state(graph, task.state).next == ("ask",)


def test_update_state_with_the_subgraph_config_edits_it_and_the_resume_sees_it(
    run: Any, config: Any,
) -> None:
    def check(state: State) -> dict[str, Any]:
        answer = interrupt("ok?")
        return {"log": [f"x={state['x']} answer={answer}"]}

    sub = StateGraph(State).add_node("check", check).add_edge(START, "check").compile()
    graph = (StateGraph(State).add_node("sub", sub).add_edge(START, "sub")
             .compile(checkpointer=InMemorySaver()))
    run.invoke(graph, {"x": 1, "log": []}, config)
    nested = graph.get_state(config, subgraphs=True).tasks[0].state

    new_config = run.update_state(graph, nested.config, {"x": 42})

    assert new_config["configurable"]["checkpoint_ns"] == nested.config["configurable"][
        "checkpoint_ns"]
    edited = run.get_state(graph, new_config)
    assert edited.values == {"x": 42, "log": []} and edited.next == ("check",)
    assert edited.metadata["source"] == "update"
    assert edited.metadata["parents"] == nested.metadata["parents"]
    assert run.invoke(graph, Command(resume="fine"), config) == {
        "x": 42, "log": ["x=42 answer=fine"]}


def test_get_state_with_subgraphs_finds_a_graph_invoked_inside_a_node_function(
    config: Any,
) -> None:
    sub = sub_with_question([])

    def caller(state: Log) -> dict[str, Any]:
        return {"log": sub.invoke({"log": []})["log"]}

    graph = (StateGraph(Log).add_node("caller", caller).add_edge(START, "caller")
             .compile(checkpointer=InMemorySaver()))
    graph.invoke({"log": []}, config)

    (task,) = graph.get_state(config, subgraphs=True).tasks

    assert isinstance(task.state, StateSnapshot)
    assert task.state.next == ("ask",)
    assert task.state.config["configurable"]["checkpoint_ns"] == f"caller:{task.id}"
