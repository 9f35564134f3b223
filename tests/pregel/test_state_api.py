"""Reading and editing a thread: get_state, get_state_history, update_state, time travel, forks."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.errors import InvalidUpdateError
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command, Send, interrupt

sys.path.insert(0, str(Path(__file__).parent))
from _abc_graph import INPUT, State, abc


def ask_graph() -> Any:
    def ask(state: State) -> dict[str, Any]:
        return {"log": [interrupt("approve?")]}

    return (StateGraph(State).add_node("ask", ask).add_node("done", lambda s: {"log": ["done"]})
            .add_edge(START, "ask").add_edge("ask", "done")
            .compile(checkpointer=InMemorySaver()))




# -- get_state -------------------------------------------------------------------------------


def test_get_state_shows_values_next_config_and_metadata(run: Any, config: Any) -> None:
    graph = abc(interrupt_before=["b"])
    run.invoke(graph, INPUT, config)

    state = run.get_state(graph, config)

    assert state.values == {"x": 0, "log": ["a"]}
    assert state.next == ("b",)
    conf = state.config["configurable"]
    assert conf["thread_id"] == config["configurable"]["thread_id"]
    assert conf["checkpoint_ns"] == ""
    assert isinstance(conf["checkpoint_id"], str) and conf["checkpoint_id"]
    assert state.metadata == {"source": "loop", "step": 1, "parents": {}}
    assert datetime.fromisoformat(state.created_at).tzinfo is not None
    assert state.parent_config is not None
    assert state.parent_config["configurable"]["checkpoint_id"] != conf["checkpoint_id"]
    assert [(t.name, t.interrupts) for t in state.tasks] == [("b", ())]
    assert state.interrupts == ()


def test_get_state_shows_tasks_with_their_interrupts(run: Any, config: Any) -> None:
    graph = ask_graph()
    paused = run.invoke(graph, INPUT, config)

    state = run.get_state(graph, config)

    (task,) = state.tasks
    assert task.name == "ask"
    assert task.interrupts == tuple(paused["__interrupt__"])
    assert state.interrupts == task.interrupts


def test_get_state_of_an_unknown_thread_is_empty(run: Any) -> None:
    state = run.get_state(abc(), {"configurable": {"thread_id": "never-used"}})

    assert (state.values, state.next, state.metadata, state.tasks) == ({}, (), None, ())


def test_get_state_with_checkpoint_id_reads_that_checkpoint(run: Any, config: Any) -> None:
    graph = abc()
    run.invoke(graph, INPUT, config)
    older = next(s for s in run.history(graph, config) if s.next == ("b",))

    state = run.get_state(graph, older.config)

    assert state.values == {"x": 0, "log": ["a"]}
    assert state.next == ("b",)
    assert state.config == older.config


# -- get_state_history -------------------------------------------------------------------------


def test_history_lists_checkpoints_newest_first(run: Any, config: Any) -> None:
    graph = abc()
    run.invoke(graph, INPUT, config)

    history = run.history(graph, config)

    assert [s.metadata["step"] for s in history] == [3, 2, 1, 0, -1]
    assert [s.values["log"] for s in history] == [
        ["a", "b", "c"], ["a", "b"], ["a"], [], [],
    ]
    assert history[0].config == run.get_state(graph, config).config


def test_history_filter_selects_by_metadata(run: Any, config: Any) -> None:
    graph = abc()
    run.invoke(graph, INPUT, config)

    assert [s.metadata["step"] for s in run.history(graph, config, filter={"source": "input"})
            ] == [-1]
    assert [s.next for s in run.history(graph, config, filter={"step": 1})] == [("b",)]


def test_history_before_lists_only_older_checkpoints(run: Any, config: Any) -> None:
    graph = abc()
    run.invoke(graph, INPUT, config)
    pivot = run.history(graph, config)[2]

    older = run.history(graph, config, before=pivot.config)

    assert [s.metadata["step"] for s in older] == [0, -1]


def test_history_limit_keeps_the_newest(run: Any, config: Any) -> None:
    graph = abc()
    run.invoke(graph, INPUT, config)

    assert [s.metadata["step"] for s in run.history(graph, config, limit=2)] == [3, 2]


# -- update_state ------------------------------------------------------------------------------


def test_update_state_applies_reducers(run: Any, config: Any) -> None:
    graph = abc(interrupt_before=["b"])
    run.invoke(graph, INPUT, config)

    run.update_state(graph, config, {"x": 7, "log": ["edited"]})

    assert run.get_state(graph, config).values == {"x": 7, "log": ["a", "edited"]}


def test_update_state_returns_the_new_checkpoint_config(run: Any, config: Any) -> None:
    graph = abc(interrupt_before=["b"])
    run.invoke(graph, INPUT, config)

    new_config = run.update_state(graph, config, {"x": 7})

    state = run.get_state(graph, config)
    assert new_config == state.config
    assert state.metadata == {"source": "update", "step": 2, "parents": {}}


def test_update_state_without_as_node_keeps_next(run: Any, config: Any) -> None:
    calls: Counter[str] = Counter()
    graph = abc(calls, interrupt_before=["b"])
    run.invoke(graph, INPUT, config)

    run.update_state(graph, config, {"x": 7})

    assert run.get_state(graph, config).next == ("b",)
    assert run.invoke(graph, None, config) == {"x": 7, "log": ["a", "b", "c"]}
    assert calls == {"a": 1, "b": 1, "c": 1}


def test_update_state_as_node_sets_next_as_if_that_node_ran(run: Any, config: Any) -> None:
    calls: Counter[str] = Counter()
    graph = abc(calls, interrupt_before=["b"])
    run.invoke(graph, INPUT, config)

    run.update_state(graph, config, {"log": ["b by hand"]}, as_node="b")

    assert run.get_state(graph, config).next == ("c",)
    assert run.invoke(graph, None, config)["log"] == ["a", "b by hand", "c"]
    assert calls == {"a": 1, "c": 1}


def _fork_graph(calls: Counter[str]) -> Any:
    """a -> (b, d), b -> c; paused before b and d."""
    def logger(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            calls[name] += 1
            return {"log": [name]}

        return node

    builder = StateGraph(State)
    for name in ("a", "b", "c", "d"):
        builder.add_node(name, logger(name))
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("a", "d").add_edge("b", "c")
    return builder.compile(checkpointer=InMemorySaver(), interrupt_before=["b", "d"])


def test_update_state_as_node_replaces_the_pending_tasks(run: Any, config: Any) -> None:
    calls: Counter[str] = Counter()
    graph = _fork_graph(calls)
    run.invoke(graph, INPUT, config)
    assert run.get_state(graph, config).next == ("b", "d")

    run.update_state(graph, config, {"x": 1}, as_node="b")

    assert run.get_state(graph, config).next == ("c",)
    assert run.invoke(graph, None, config) == {"x": 1, "log": ["a", "c"]}
    assert calls == {"a": 1, "c": 1}


def test_update_state_as_a_node_without_successors_leaves_nothing_next(
        run: Any, config: Any) -> None:
    graph = _fork_graph(Counter())
    run.invoke(graph, INPUT, config)

    run.update_state(graph, config, {"x": 1}, as_node="d")

    assert run.get_state(graph, config).next == ()


def test_update_state_does_not_duplicate_pending_sends(run: Any, config: Any) -> None:
    def fan(state: State) -> list[Send]:
        return [Send("work", {"x": i, "log": []}) for i in range(2)]

    graph = (StateGraph(State).add_node("pre", lambda s: {"log": ["pre"]})
             .add_node("work", lambda s: {"log": [f"w{s['x']}"]})
             .add_edge(START, "pre").add_conditional_edges("pre", fan)
             .compile(checkpointer=InMemorySaver(), interrupt_before=["work"]))
    run.invoke(graph, INPUT, config)
    assert run.get_state(graph, config).next == ("work", "work")

    run.update_state(graph, config, {"x": 5})

    assert run.get_state(graph, config).next == ("work", "work")
    assert run.invoke(graph, None, config) == {"x": 5, "log": ["pre", "w0", "w1"]}


def test_update_state_as_end_drops_pending_tasks_and_interrupts(run: Any,
                                                                config: Any) -> None:
    graph = ask_graph()
    run.invoke(graph, INPUT, config)

    run.update_state(graph, config, None, as_node=END)

    state = run.get_state(graph, config)
    assert (state.next, state.tasks, state.interrupts) == ((), (), ())
    assert run.invoke(graph, None, config) == INPUT


def test_update_state_as_end_with_values_is_refused(run: Any, config: Any) -> None:
    graph = ask_graph()
    run.invoke(graph, INPUT, config)

    with pytest.raises(InvalidUpdateError, match="as_node=END\\) takes no values"):
        run.update_state(graph, config, {"x": 1}, as_node=END)


def test_update_state_with_unknown_as_node_is_refused(run: Any, config: Any) -> None:
    graph = abc(interrupt_before=["b"])
    run.invoke(graph, INPUT, config)

    with pytest.raises(InvalidUpdateError, match="Node 'ghost' does not exist"):
        run.update_state(graph, config, {"x": 1}, as_node="ghost")


# -- time travel and forks ---------------------------------------------------------------------


def test_invoking_an_older_checkpoint_replays_from_there(run: Any, config: Any) -> None:
    calls: Counter[str] = Counter()
    graph = abc(calls)
    run.invoke(graph, INPUT, config)
    older = next(s for s in run.history(graph, config) if s.next == ("b",))

    assert run.invoke(graph, None, older.config) == {"x": 0, "log": ["a", "b", "c"]}
    assert calls == {"a": 1, "b": 2, "c": 2}
    latest = run.get_state(graph, config)
    assert latest.values == {"x": 0, "log": ["a", "b", "c"]}
    assert latest.next == ()


def test_replayed_run_branches_off_the_older_checkpoint(run: Any, config: Any) -> None:
    graph = abc()
    run.invoke(graph, INPUT, config)
    older = next(s for s in run.history(graph, config) if s.next == ("b",))

    run.invoke(graph, None, older.config)

    history = run.history(graph, config)
    fork = next(s for s in history if s.metadata["source"] == "fork")
    assert fork.parent_config == older.config
    assert fork.values == older.values
    assert [(h.metadata["source"], h.metadata["step"]) for h in history[:3]] == [
        ("loop", 4), ("loop", 3), ("fork", 2),
    ]


def test_update_state_on_an_older_checkpoint_forks(run: Any, config: Any) -> None:
    graph = abc()
    run.invoke(graph, INPUT, config)
    older = next(s for s in run.history(graph, config) if s.next == ("b",))

    forked = run.update_state(graph, older.config, {"x": 100})

    state = run.get_state(graph, config)
    assert state.config == forked
    assert state.parent_config == older.config
    assert state.values == {"x": 100, "log": ["a"]}
    assert state.next == ("b",)
    assert run.invoke(graph, None, config) == {"x": 100, "log": ["a", "b", "c"]}


def test_update_state_during_an_interrupt_pause_then_invoke_none_asks_again(
        run: Any, config: Any) -> None:
    seen: list[int] = []

    def ask(state: State) -> dict[str, Any]:
        seen.append(state["x"])
        return {"log": [interrupt(f"ok with {state['x']}?")]}

    graph = (StateGraph(State).add_node("ask", ask).add_edge(START, "ask")
             .compile(checkpointer=InMemorySaver()))
    run.invoke(graph, INPUT, config)
    run.update_state(graph, config, {"x": 42})
    assert run.get_state(graph, config).interrupts == ()

    again = run.invoke(graph, None, config)

    assert [i.value for i in again["__interrupt__"]] == ["ok with 42?"]
    assert run.invoke(graph, Command(resume="yes"), config) == {"x": 42, "log": ["yes"]}
    assert seen == [0, 42, 42]
