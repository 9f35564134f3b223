"""A run given a fence (WriteRules(fence=...).on(config)) writes checkpoints only while its
token is the latest: once another worker advances the fence (takes the run's lease over), the first
run's next write is refused and the thread keeps its last good checkpoint."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.base import WRITE_RULES
from hitlgraph.checkpoint.conformance import fenced_by
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.errors import CheckpointConflictError, FencedWriteError
from hitlgraph.graph import START, StateGraph


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def _graph(saver: SqliteSaver, on_b: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("a", lambda s: {"log": ["a"]})

    def b(state: State) -> dict[str, Any]:
        on_b()
        return {"log": ["b"]}

    builder.add_node("b", b)
    builder.add_node("c", lambda s: {"log": ["c"]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    return builder.compile(checkpointer=saver)


def test_run_whose_fence_was_advanced_stops_without_writing(run: Any, tmp_path: Path,
                                                             config: dict[str, Any]) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "fenced.db")) as saver:
        token = saver.advance_fence("run-1")
        graph = _graph(saver, lambda: saver.advance_fence("run-1"))  # taken over during b
        fenced = {"configurable": {**config["configurable"], **fenced_by("run-1", token)}}
        with pytest.raises(FencedWriteError) as caught:
            run.invoke(graph, {"log": []}, fenced, durability="sync")
        assert isinstance(caught.value, CheckpointConflictError)
        assert "Another worker took the lease over" in str(caught.value)
        state = run.get_state(graph, config)
        assert state.values["log"] == ["a"] and state.next == ("b",)
        # The new holder continues from that checkpoint with its own token.
        fresh = {"configurable": {**config["configurable"], **fenced_by("run-1", token + 1)}}
        graph = _graph(saver, lambda: None)
        assert run.invoke(graph, None, fresh)["log"] == ["a", "b", "c"]


def test_malformed_write_rules_are_a_clear_error(tmp_path: Path, config: dict[str, Any]) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "fenced.db")) as saver:
        graph = _graph(saver, lambda: None)
        bad = {"configurable": {**config["configurable"], WRITE_RULES: "run-1"}}
        with pytest.raises(TypeError, match="must be a WriteRules"):
            graph.invoke({"log": []}, bad)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync task", "async task"])
def test_a_taken_over_worker_stores_nothing_not_even_task_results(
        run: Any, tmp_path: Path, config: dict[str, Any], asynchronous: bool) -> None:
    from hitlgraph.func import task

    with SqliteSaver.from_conn_string(str(tmp_path / "fenced.db")) as saver:
        token = saver.advance_fence("run-1")

        def work() -> str:  # the lease is taken over while the @task runs
            saver.advance_fence("run-1")
            return "done"

        async def awork() -> str:
            return work()

        step = task(awork if asynchronous else work)

        async def anode(state: State) -> dict[str, Any]:
            return {"log": [await step()]}

        def node(state: State) -> dict[str, Any]:
            return {"log": [step().result()]}

        builder = StateGraph(State)
        builder.add_node("a", anode if asynchronous else node)
        builder.add_edge(START, "a")
        graph = builder.compile(checkpointer=saver)
        fenced = {"configurable": {**config["configurable"], **fenced_by("run-1", token)}}
        with pytest.raises(FencedWriteError):
            run.invoke(graph, {"log": []}, fenced, durability="sync")
        stored = saver.get_tuple(config)
        assert stored is not None
        assert stored.pending_writes == []  # no task result, no error record: nothing
        # the checkpoints made before the takeover, and nothing after it
        assert [t.metadata["step"] for t in saver.list(config)] == [0, -1]
