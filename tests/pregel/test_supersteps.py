"""Supersteps: parallel tasks, their writes, Send and Command routing, the recursion limit,
retries and failing nodes."""

from __future__ import annotations

import operator
import threading
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.errors import GraphRecursionError, InvalidUpdateError
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, RetryPolicy, Send


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


def logger(name: str) -> Any:
    def node(state: Any) -> dict[str, Any]:
        return {"log": [name]}

    return node


def no_wait(**kwargs: Any) -> RetryPolicy:
    return RetryPolicy(initial_interval=0, jitter=False, **kwargs)


# -- parallel tasks ----------------------------------------------------------------------------


def test_parallel_nodes_see_the_same_state(run: Any) -> None:
    seen: dict[str, Any] = {}

    def reader(name: str, update: dict[str, Any]) -> Any:
        def node(state: State) -> dict[str, Any]:
            seen[name] = dict(state)
            return update

        return node

    graph = (StateGraph(State)
             .add_node("a", reader("a", {"x": 1, "log": ["a"]}))
             .add_node("b", reader("b", {"log": ["b"]}))
             .add_edge(START, "a").add_edge(START, "b").compile())
    run.invoke(graph, {"x": 0, "log": ["in"]})

    assert seen == {"a": {"x": 0, "log": ["in"]}, "b": {"x": 0, "log": ["in"]}}


def test_parallel_writes_apply_together_in_node_name_order(run: Any) -> None:
    seen: list[Any] = []

    def after(state: State) -> None:
        seen.append(dict(state))

    graph = (StateGraph(State).add_node("zb", logger("zb")).add_node("ya", logger("ya"))
             .add_node("after", after).add_edge(START, "zb").add_edge(START, "ya")
             .add_edge(["zb", "ya"], "after").compile())

    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 0, "log": ["ya", "zb"]}
    assert seen == [{"x": 0, "log": ["ya", "zb"]}]


def test_parallel_nodes_run_concurrently(run: Any) -> None:
    barrier = threading.Barrier(2, timeout=10)

    def meet(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            barrier.wait()  # breaks (BrokenBarrierError) unless both run at once
            return {"log": [name]}

        return node

    graph = (StateGraph(State).add_node("a", meet("a")).add_node("b", meet("b"))
             .add_edge(START, "a").add_edge(START, "b").compile())

    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["a", "b"]


def test_two_writes_to_key_without_reducer_in_one_step_raise_naming_the_key(run: Any) -> None:
    graph = (StateGraph(State).add_node("w1", lambda s: {"x": 1}).add_node("w2", lambda s: {"x": 2})
             .add_edge(START, "w1").add_edge(START, "w2").compile())

    with pytest.raises(InvalidUpdateError, match=r"Key 'x' got 2 writes .*'w1' and 'w2'"):
        run.invoke(graph, {"x": 0, "log": []})


# -- Send and Command --------------------------------------------------------------------------


def test_send_fan_out_runs_one_task_per_send_with_its_input(run: Any) -> None:
    inputs: list[Any] = []

    def work(arg: dict[str, Any]) -> dict[str, Any]:
        inputs.append(arg)
        return {"log": [f"w{arg['i']}"]}

    graph = (StateGraph(State).add_node("work", work)
             .add_conditional_edges(START, lambda s: [Send("work", {"i": i}) for i in range(3)])
             .compile())

    updates = run.stream(graph, {"x": 0, "log": []}, stream_mode="updates")

    assert sorted(inputs, key=lambda a: a["i"]) == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert len(updates) == 3 and all(list(chunk) == ["work"] for chunk in updates)
    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["w0", "w1", "w2"]


def test_command_goto_routes_and_update_updates(run: Any) -> None:
    def decide(state: State) -> Command[Any]:
        return Command(update={"x": 1}, goto=["p", "q"])

    graph = (StateGraph(State).add_node("decide", decide).add_node("p", logger("p"))
             .add_node("q", logger("q")).add_edge(START, "decide").compile())

    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 1, "log": ["p", "q"]}


def test_command_goto_send_gives_the_task_its_input(run: Any) -> None:
    def fan(state: State) -> Command[Any]:
        return Command(goto=[Send("p", {"x": 5, "log": []}), Send("p", {"x": 6, "log": []})])

    graph = (StateGraph(State).add_node("fan", fan)
             .add_node("p", lambda s: {"log": [f"p{s['x']}"]}).add_edge(START, "fan").compile())

    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 0, "log": ["p5", "p6"]}


# -- recursion limit ---------------------------------------------------------------------------


def _loop_graph(calls: list[int], checkpointer: Any = None) -> Any:
    def inc(state: State) -> dict[str, Any]:
        calls.append(1)
        return {"x": state["x"] + 1}

    builder = StateGraph(State).add_node("inc", inc).add_edge(START, "inc").add_edge("inc", "inc")
    return builder.compile(checkpointer=checkpointer)


def test_recursion_limit_defaults_to_25_supersteps(run: Any) -> None:
    calls: list[int] = []

    with pytest.raises(GraphRecursionError, match="Recursion limit of 25 reached"):
        run.invoke(_loop_graph(calls), {"x": 0, "log": []})
    assert len(calls) == 25


def test_recursion_limit_from_config_stops_the_run(run: Any, config: Any) -> None:
    calls: list[int] = []
    graph = _loop_graph(calls, InMemorySaver())

    with pytest.raises(GraphRecursionError, match="Recursion limit of 5 reached"):
        run.invoke(graph, {"x": 0, "log": []}, {**config, "recursion_limit": 5})
    assert len(calls) == 5
    assert run.get_state(graph, config).values["x"] == 5


def test_graph_recursion_error_is_a_recursion_error() -> None:
    assert issubclass(GraphRecursionError, RecursionError)


# -- retries -----------------------------------------------------------------------------------


def _flaky_graph(calls: list[int], fail_times: int, policy: RetryPolicy,
                 exc: type[Exception] = ConnectionError) -> Any:
    def flaky(state: State) -> dict[str, Any]:
        calls.append(1)
        if len(calls) <= fail_times:
            raise exc(f"failure {len(calls)}")
        return {"log": ["ok"]}

    builder = StateGraph(State).add_node("flaky", flaky, retry_policy=policy)
    return builder.add_edge(START, "flaky").compile()


def test_retry_policy_retries_a_failing_node_until_it_succeeds(run: Any) -> None:
    calls: list[int] = []
    graph = _flaky_graph(calls, 2, no_wait(max_attempts=3))

    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["ok"]
    assert len(calls) == 3


def test_retry_policy_gives_up_after_max_attempts(run: Any) -> None:
    calls: list[int] = []
    graph = _flaky_graph(calls, 5, no_wait(max_attempts=2))

    with pytest.raises(ConnectionError, match="failure 2"):
        run.invoke(graph, {"x": 0, "log": []})
    assert len(calls) == 2


def test_retry_on_predicate_declines_retry(run: Any) -> None:
    calls: list[int] = []
    policy = no_wait(max_attempts=5, retry_on=lambda exc: "transient" in str(exc))
    graph = _flaky_graph(calls, 2, policy)

    with pytest.raises(ConnectionError, match="failure 1"):
        run.invoke(graph, {"x": 0, "log": []})
    assert len(calls) == 1


def test_retry_on_predicate_accepts_retry(run: Any) -> None:
    calls: list[int] = []
    policy = no_wait(max_attempts=5, retry_on=lambda exc: "failure" in str(exc))
    graph = _flaky_graph(calls, 2, policy, exc=ValueError)

    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["ok"]
    assert len(calls) == 3


def test_retry_on_exception_class_retries_only_that_class(run: Any) -> None:
    calls: list[int] = []
    graph = _flaky_graph(calls, 2, no_wait(max_attempts=5, retry_on=KeyError), exc=ValueError)

    with pytest.raises(ValueError, match="failure 1"):
        run.invoke(graph, {"x": 0, "log": []})
    assert len(calls) == 1


def test_default_retry_on_does_not_retry_value_error(run: Any) -> None:
    calls: list[int] = []
    graph = _flaky_graph(calls, 2, no_wait(max_attempts=3), exc=ValueError)

    with pytest.raises(ValueError, match="failure 1"):
        run.invoke(graph, {"x": 0, "log": []})
    assert len(calls) == 1


# -- failing nodes -----------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_node_exception_propagates_with_its_class_and_names_the_node(run: Any) -> None:
    def bad(state: State) -> None:
        raise Boom("kaput")

    graph = StateGraph(State).add_node("bad", bad).add_edge(START, "bad").compile()

    with pytest.raises(Boom, match="kaput") as info:
        run.invoke(graph, {"x": 0, "log": []})
    assert any("During task with name 'bad'" in note for note in info.value.__notes__)


def test_failed_node_leaves_last_checkpoint_resumable(run: Any, config: Any) -> None:
    broken = {"on": True}

    def second(state: State) -> dict[str, Any]:
        if broken["on"]:
            raise Boom("not yet")
        return {"log": ["second"]}

    graph = (StateGraph(State).add_node("first", logger("first")).add_node("second", second)
             .add_edge(START, "first").add_edge("first", "second")
             .compile(checkpointer=InMemorySaver()))

    with pytest.raises(Boom, match="not yet"):
        run.invoke(graph, {"x": 0, "log": []}, config)
    state = run.get_state(graph, config)
    assert state.values == {"x": 0, "log": ["first"]}
    assert state.next == ("second",)
    assert [t.error for t in state.tasks] == ["Boom('not yet')"]

    broken["on"] = False
    assert run.invoke(graph, None, config) == {"x": 0, "log": ["first", "second"]}
