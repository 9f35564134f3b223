"""StateGraph building: state schemas and reducers, nodes, edges, conditional edges, sequences.

Every test that runs a graph runs twice, through the sync and the async API (the `run` fixture).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command, Send


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


def logger(name: str) -> Any:
    def node(state: Any) -> dict[str, Any]:
        return {"log": [name]}

    node.__name__ = name
    return node


# -- state schemas ---------------------------------------------------------------------------


def test_typed_dict_state_gives_nodes_a_dict_and_returns_values(run: Any) -> None:
    seen: list[Any] = []

    def inc(state: State) -> dict[str, Any]:
        seen.append(state)
        return {"x": state["x"] + 1, "log": ["inc"]}

    graph = StateGraph(State).add_node("inc", inc).add_edge(START, "inc").compile()

    assert run.invoke(graph, {"x": 1, "log": []}) == {"x": 2, "log": ["inc"]}
    assert seen == [{"x": 1, "log": []}]


def test_dataclass_state_gives_nodes_an_instance(run: Any) -> None:
    @dataclass
    class DState:
        x: int = 0
        log: Annotated[list[str], operator.add] = field(default_factory=list)

    seen: list[Any] = []

    def inc(state: DState) -> dict[str, Any]:
        seen.append(state)
        return {"x": state.x + 1, "log": ["inc"]}

    graph = StateGraph(DState).add_node("inc", inc).add_edge(START, "inc").compile()

    assert run.invoke(graph, {"x": 1}) == {"x": 2, "log": ["inc"]}
    assert seen == [DState(x=1, log=[])]


def test_dataclass_instance_is_accepted_as_input(run: Any) -> None:
    @dataclass
    class DState:
        x: int = 0

    graph = (StateGraph(DState).add_node("inc", lambda s: {"x": s.x + 1})
             .add_edge(START, "inc").compile())

    assert run.invoke(graph, DState(x=3)) == {"x": 4}


def test_pydantic_state_gives_nodes_a_model_instance(run: Any) -> None:
    class PState(BaseModel):
        x: int = 0
        log: Annotated[list[str], operator.add] = []

    seen: list[Any] = []

    def inc(state: PState) -> dict[str, Any]:
        seen.append(state)
        return {"x": state.x + 1, "log": ["inc"]}

    graph = StateGraph(PState).add_node("inc", inc).add_edge(START, "inc").compile()

    assert run.invoke(graph, {"x": 1}) == {"x": 2, "log": ["inc"]}
    assert len(seen) == 1
    assert isinstance(seen[0], PState)
    assert (seen[0].x, seen[0].log) == (1, [])


def test_annotated_reducer_combines_writes_of_successive_steps(run: Any) -> None:
    graph = (StateGraph(State).add_sequence([logger("a"), logger("b"), logger("c")])
             .add_edge(START, "a").compile())

    assert run.invoke(graph, {"x": 0, "log": ["in"]}) == {"x": 0, "log": ["in", "a", "b", "c"]}


def test_key_without_reducer_keeps_the_last_value(run: Any) -> None:
    graph = (StateGraph(State)
             .add_sequence([("one", lambda s: {"x": 1}), ("two", lambda s: {"x": 2})])
             .add_edge(START, "one").compile())

    assert run.invoke(graph, {"x": 0, "log": []})["x"] == 2


class _In(TypedDict):
    question: str


class _Out(TypedDict):
    answer: str


class _Full(TypedDict):
    question: str
    answer: str
    secret: str


def _answer_graph(seen: list[Any]) -> Any:
    def answer(state: _Full) -> dict[str, Any]:
        seen.append(dict(state))
        return {"answer": "A:" + state["question"], "secret": "kept inside"}

    builder = StateGraph(_Full, input_schema=_In, output_schema=_Out)
    return builder.add_node("respond", answer).add_edge(START, "respond").compile()


def test_output_schema_filters_returned_keys(run: Any) -> None:
    graph = _answer_graph([])

    assert run.invoke(graph, {"question": "q"}) == {"answer": "A:q"}


def test_input_schema_filters_input_keys(run: Any) -> None:
    seen: list[Any] = []
    graph = _answer_graph(seen)

    run.invoke(graph, {"question": "q", "secret": "from caller"})

    assert seen == [{"question": "q"}]


def test_stream_values_shows_all_state_keys_despite_output_schema(run: Any) -> None:
    graph = _answer_graph([])

    chunks = run.stream(graph, {"question": "q"}, stream_mode="values")

    assert chunks == [
        {"question": "q"},
        {"question": "q", "answer": "A:q", "secret": "kept inside"},
    ]


# -- nodes -----------------------------------------------------------------------------------


def test_add_node_with_function_only_names_node_after_function(run: Any) -> None:
    def shout(state: State) -> dict[str, Any]:
        return {"log": ["shout"]}

    builder = StateGraph(State).add_node(shout).add_edge(START, "shout")

    assert "shout" in builder.nodes
    assert run.invoke(builder.compile(), {"x": 0, "log": []})["log"] == ["shout"]


def test_node_taking_config_sees_thread_id_and_task_metadata(run: Any, config: Any) -> None:
    seen: list[Any] = []

    def first(state: State) -> dict[str, Any]:
        return {"x": 1}

    def second(state: State, config) -> dict[str, Any]:
        seen.append(config)
        return {}

    graph = (StateGraph(State).add_sequence([first, second]).add_edge(START, "first")
             .compile(checkpointer=InMemorySaver()))
    run.invoke(graph, {"x": 0, "log": []}, config)

    (cfg,) = seen
    assert cfg["configurable"]["thread_id"] == config["configurable"]["thread_id"]
    assert cfg["metadata"]["langgraph_node"] == "second"
    assert cfg["metadata"]["langgraph_step"] == 2
    assert cfg["metadata"]["thread_id"] == config["configurable"]["thread_id"]


def test_async_node_runs_in_both_apis(run: Any) -> None:
    async def inc(state: State) -> dict[str, Any]:
        return {"x": state["x"] + 1, "log": ["async"]}

    graph = StateGraph(State).add_node("inc", inc).add_edge(START, "inc").compile()

    assert run.invoke(graph, {"x": 1, "log": []}) == {"x": 2, "log": ["async"]}


def test_async_node_taking_config_gets_it(run: Any) -> None:
    seen: list[str] = []

    async def node(state: State, config) -> None:
        seen.append(config["metadata"]["langgraph_node"])

    graph = StateGraph(State).add_node("node", node).add_edge(START, "node").compile()
    run.invoke(graph, {"x": 1, "log": []})

    assert seen == ["node"]


def test_node_returning_none_leaves_state_unchanged(run: Any) -> None:
    graph = StateGraph(State).add_node("noop", lambda s: None).add_edge(START, "noop").compile()

    assert run.invoke(graph, {"x": 7, "log": ["a"]}) == {"x": 7, "log": ["a"]}
    assert run.stream(graph, {"x": 7, "log": ["a"]}, stream_mode="updates") == [{"noop": None}]


def test_node_returning_command_updates_state_and_routes(run: Any) -> None:
    def decide(state: State) -> Command[Literal["yes", "no"]]:
        return Command(update={"x": 10}, goto="yes" if state["x"] > 0 else "no")

    graph = (StateGraph(State).add_node("decide", decide).add_node("yes", logger("yes"))
             .add_node("no", logger("no")).add_edge(START, "decide").compile())

    assert run.invoke(graph, {"x": 1, "log": []}) == {"x": 10, "log": ["yes"]}
    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 10, "log": ["no"]}


# -- edges -----------------------------------------------------------------------------------


def test_add_edge_runs_target_after_source(run: Any) -> None:
    graph = (StateGraph(State).add_node("a", logger("a")).add_node("b", logger("b"))
             .add_edge(START, "a").add_edge("a", "b").add_edge("b", END).compile())

    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["a", "b"]


def test_edge_from_list_runs_target_once_after_sources_of_different_steps(run: Any) -> None:
    builder = StateGraph(Log)
    for name in ("a", "x", "b", "c"):
        builder.add_node(name, logger(name))
    builder.add_edge(START, "a").add_edge(START, "x").add_edge("x", "b")
    builder.add_edge(["a", "b"], "c")
    graph = builder.compile()

    updates = run.stream(graph, {"log": []}, stream_mode="updates")

    names = [name for chunk in updates for name in chunk]
    assert names.count("c") == 1
    assert names[-1] == "c"
    assert sorted(names[:2]) == ["a", "x"] and names[2] == "b"
    assert run.invoke(graph, {"log": []})["log"] == ["a", "x", "b", "c"]


def test_conditional_edge_returning_a_name_runs_that_node(run: Any) -> None:
    graph = (StateGraph(State).add_node("a", logger("a")).add_node("b", logger("b"))
             .add_node("c", logger("c")).add_edge(START, "a")
             .add_conditional_edges("a", lambda s: "c" if s["x"] else "b").compile())

    assert run.invoke(graph, {"x": 1, "log": []})["log"] == ["a", "c"]
    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["a", "b"]


def test_conditional_edge_sees_the_source_nodes_update(run: Any) -> None:
    def inc(state: State) -> dict[str, Any]:
        return {"x": state["x"] + 1, "log": [f"inc{state['x'] + 1}"]}

    graph = (StateGraph(State).add_node("inc", inc).add_edge(START, "inc")
             .add_conditional_edges("inc", lambda s: END if s["x"] >= 3 else "inc").compile())

    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 3, "log": ["inc1", "inc2", "inc3"]}


def test_conditional_edge_returning_a_list_runs_all_in_one_step(run: Any) -> None:
    graph = (StateGraph(Log).add_node("a", logger("a")).add_node("b", logger("b"))
             .add_node("c", logger("c")).add_conditional_edges(START, lambda s: ["b", "c"])
             .compile())

    updates = run.stream(graph, {"log": []}, stream_mode="updates")

    assert sorted(name for chunk in updates for name in chunk) == ["b", "c"]
    assert run.invoke(graph, {"log": []})["log"] == ["b", "c"]


class Fan(TypedDict):
    items: list[int]
    out: Annotated[list[int], operator.add]


def test_conditional_edge_returning_sends_gives_each_task_its_input(run: Any) -> None:
    def fan_out(state: Fan) -> list[Send]:
        return [Send("double", {"n": n}) for n in state["items"]]

    graph = (StateGraph(Fan).add_node("double", lambda arg: {"out": [arg["n"] * 2]})
             .add_conditional_edges(START, fan_out, ["double"]).compile())

    assert run.invoke(graph, {"items": [3, 1, 2], "out": []}) == {
        "items": [3, 1, 2], "out": [6, 2, 4],
    }


def test_conditional_edge_returning_end_stops_the_branch(run: Any) -> None:
    graph = (StateGraph(State).add_node("a", logger("a")).add_node("b", logger("b"))
             .add_edge(START, "a").add_conditional_edges("a", lambda s: END, ["b", END])
             .compile())

    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["a"]


def test_conditional_edge_path_map_dict_translates_return_value(run: Any) -> None:
    graph = (StateGraph(State).add_node("a", logger("a")).add_node("b", logger("b"))
             .add_edge(START, "a")
             .add_conditional_edges("a", lambda s: s["x"] > 0, {True: "b", False: END})
             .compile())

    assert run.invoke(graph, {"x": 1, "log": []})["log"] == ["a", "b"]
    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["a"]


def test_conditional_edge_path_map_list_names_the_targets(run: Any) -> None:
    graph = (StateGraph(State).add_node("a", logger("a")).add_node("b", logger("b"))
             .add_node("c", logger("c")).add_edge(START, "a")
             .add_conditional_edges("a", lambda s: "c", ["b", "c"]).compile())

    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["a", "c"]


def test_add_sequence_chains_nodes_in_order(run: Any) -> None:
    builder = StateGraph(State).add_sequence([logger("a"), ("second", logger("b")), logger("c")])
    graph = builder.add_edge(START, "a").compile()

    assert set(builder.nodes) == {"a", "second", "c"}
    assert run.invoke(graph, {"x": 0, "log": []})["log"] == ["a", "b", "c"]


def test_set_entry_point_and_set_finish_point(run: Any) -> None:
    builder = StateGraph(State).add_node("a", logger("a")).add_node("b", logger("b"))
    builder.set_entry_point("a")
    builder.add_edge("a", "b")
    builder.set_finish_point("b")

    assert run.invoke(builder.compile(), {"x": 0, "log": []})["log"] == ["a", "b"]


def test_add_node_twice_with_one_name_is_refused() -> None:
    builder = StateGraph(State).add_node("a", logger("a"))

    with pytest.raises(ValueError, match="Node 'a' already exists"):
        builder.add_node("a", logger("a"))


def test_node_may_share_its_name_with_a_state_key(run: Any) -> None:
    graph = (StateGraph(State).add_node("x", lambda s: {"x": s["x"] + 1, "log": ["x"]})
             .add_edge(START, "x").compile())

    assert run.invoke(graph, {"x": 1, "log": []}) == {"x": 2, "log": ["x"]}
