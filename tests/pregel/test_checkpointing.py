"""Checkpoints: one per superstep, LangGraph's metadata (source and step), and durability modes.

The expected metadata sequences were read from LangGraph 1.2 running the same graphs.
"""

from __future__ import annotations

import operator
from itertools import pairwise
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


def logger(name: str) -> Any:
    def node(state: Any) -> dict[str, Any]:
        return {"log": [name]}

    return node


def chain(*names: str, **compile_kwargs: Any) -> Any:
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, logger(name))
    builder.add_edge(START, names[0])
    for a, b in pairwise(names):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=InMemorySaver(), **compile_kwargs)


def meta(run: Any, graph: Any, config: Any) -> list[tuple[str, int, tuple[str, ...]]]:
    """(source, step, next) of each checkpoint, oldest first."""
    return [(s.metadata["source"], s.metadata["step"], s.next)
            for s in reversed(run.history(graph, config))]


def test_one_checkpoint_per_superstep_with_input_and_loop_sources(run: Any,
                                                                  config: Any) -> None:
    graph = chain("a", "b", "c")
    run.invoke(graph, {"x": 0, "log": []}, config)

    assert meta(run, graph, config) == [
        ("input", -1, ("__start__",)),
        ("loop", 0, ("a",)),
        ("loop", 1, ("b",)),
        ("loop", 2, ("c",)),
        ("loop", 3, ()),
    ]


def test_parallel_nodes_share_one_checkpoint(run: Any, config: Any) -> None:
    graph = (StateGraph(State).add_node("a", logger("a")).add_node("b", logger("b"))
             .add_edge(START, "a").add_edge(START, "b")
             .compile(checkpointer=InMemorySaver()))
    run.invoke(graph, {"x": 0, "log": []}, config)

    assert meta(run, graph, config) == [
        ("input", -1, ("__start__",)),
        ("loop", 0, ("a", "b")),
        ("loop", 1, ()),
    ]


def test_second_input_on_a_thread_continues_its_step_count(run: Any, config: Any) -> None:
    graph = chain("a")
    run.invoke(graph, {"x": 0, "log": []}, config)
    run.invoke(graph, {"x": 1, "log": []}, config)

    assert meta(run, graph, config)[3:] == [
        ("input", 2, ("__start__",)),
        ("loop", 3, ("a",)),
        ("loop", 4, ()),
    ]
    assert run.get_state(graph, config).values == {"x": 1, "log": ["a", "a"]}


def test_update_state_writes_an_update_checkpoint(run: Any, config: Any) -> None:
    graph = chain("a")
    run.invoke(graph, {"x": 0, "log": []}, config)
    run.update_state(graph, config, {"x": 5})

    assert meta(run, graph, config)[-1] == ("update", 2, ())


def test_replay_from_an_older_checkpoint_writes_a_fork_checkpoint(run: Any,
                                                                   config: Any) -> None:
    graph = chain("a", "b")
    run.invoke(graph, {"x": 0, "log": []}, config)
    older = next(s for s in run.history(graph, config) if s.next == ("b",))

    run.invoke(graph, None, older.config)

    assert meta(run, graph, config)[-2:] == [("fork", 2, ("b",)), ("loop", 3, ())]


def test_each_checkpoint_names_its_parent(run: Any, config: Any) -> None:
    graph = chain("a", "b")
    run.invoke(graph, {"x": 0, "log": []}, config)
    history = run.history(graph, config)

    for newer, older in pairwise(history):
        assert newer.parent_config == older.config
    assert history[-1].parent_config is None


def _ask_graph() -> Any:
    def ask(state: State) -> dict[str, Any]:
        return {"log": [interrupt("name?")]}

    return (StateGraph(State).add_node("a", logger("a")).add_node("ask", ask)
            .add_node("c", logger("c")).add_edge(START, "a").add_edge("a", "ask")
            .add_edge("ask", "c").compile(checkpointer=InMemorySaver()))


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_durability_mode_pause_at_interrupt_is_resumable(run: Any, config: Any,
                                                         durability: str) -> None:
    graph = _ask_graph()

    paused = run.invoke(graph, {"x": 0, "log": []}, config, durability=durability)
    assert [i.value for i in paused["__interrupt__"]] == ["name?"]
    assert run.get_state(graph, config).next == ("ask",)

    done = run.invoke(graph, Command(resume="Ada"), config, durability=durability)
    assert done == {"x": 0, "log": ["a", "Ada", "c"]}


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_durability_mode_pause_at_breakpoint_is_resumable(run: Any, config: Any,
                                                          durability: str) -> None:
    graph = chain("a", "b", "c", interrupt_before=["c"])

    assert run.invoke(graph, {"x": 0, "log": []}, config, durability=durability) == {
        "x": 0, "log": ["a", "b"],
    }
    assert run.get_state(graph, config).next == ("c",)
    assert run.invoke(graph, None, config, durability=durability)["log"] == ["a", "b", "c"]


def test_exit_durability_writes_fewer_checkpoints_than_sync(run: Any) -> None:
    counts = {}
    for durability in ("sync", "exit"):
        graph = chain("a", "b", "c")
        cfg = {"configurable": {"thread_id": durability}}
        run.invoke(graph, {"x": 0, "log": []}, cfg, durability=durability)
        counts[durability] = len(run.history(graph, cfg))

    assert counts == {"sync": 5, "exit": 1}


def test_exit_durability_keeps_only_the_final_checkpoint(run: Any, config: Any) -> None:
    graph = chain("a", "b", "c")
    run.invoke(graph, {"x": 0, "log": []}, config, durability="exit")

    assert meta(run, graph, config) == [("loop", 3, ())]
    assert run.get_state(graph, config).values == {"x": 0, "log": ["a", "b", "c"]}


def test_unknown_durability_is_refused(run: Any, config: Any) -> None:
    with pytest.raises(ValueError, match="durability must be one of"):
        run.invoke(chain("a"), {"x": 0, "log": []}, config, durability="later")


def test_config_metadata_and_plain_configurable_values_go_into_checkpoint_metadata(
        run: Any) -> None:
    # As LangGraph 1.2: plain values (str, int, float, bool) of config["metadata"], then of
    # config["configurable"] under other names; not None, containers, objects, "__" keys, the
    # thread's own keys, or the engine's source/step/parents.
    graph = chain("a")
    config = {
        "configurable": {"thread_id": "meta-1", "user": "ada", "n": 3, "f": 1.5, "b": True,
                         "k": "from configurable", "none": None, "d": {"x": 1}, "__p": "x",
                         "_q": "y", "source": "mine", "step": 99, "o": object()},
        "metadata": {"run_id": "r1", "k": "from metadata", "lst": [1], "parents": "p",
                     "thread_id": "t"},
    }
    run.invoke(graph, {"x": 0, "log": []}, config)
    expected = {"run_id": "r1", "k": "from metadata", "user": "ada", "n": 3, "f": 1.5,
                "b": True, "_q": "y"}
    history = run.history(graph, {"configurable": {"thread_id": "meta-1"}})
    assert [s.metadata for s in history] == [
        {"source": "loop", "step": 1, "parents": {}, **expected},
        {"source": "loop", "step": 0, "parents": {}, **expected},
        {"source": "input", "step": -1, "parents": {}, **expected},
    ]
    run.update_state(graph, {"configurable": {"thread_id": "meta-1", "editor": "grace"},
                             "metadata": {"why": "typo"}}, {"x": 5})
    latest = run.get_state(graph, {"configurable": {"thread_id": "meta-1"}})
    assert latest.metadata == {"source": "update", "step": 2, "parents": {}, "why": "typo",
                               "editor": "grace"}
