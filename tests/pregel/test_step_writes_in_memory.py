"""With a saver that keeps everything in memory, a parallel step's writes go with its
checkpoint in one put_step call; the writes of the tasks that finished are still stored when
a sibling fails, pauses, or the consumer stops reading."""

from __future__ import annotations

import operator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt


class _S(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


class _Counting(InMemorySaver):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def put_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        self.calls.append("put_writes")
        super().put_writes(config, writes, task_id, task_path)

    def put_step(self, writes: Any, *args: Any) -> Any:
        self.calls.append(f"put_step:{len(writes)}")
        return super().put_step(writes, *args)


def _graph(saver: InMemorySaver, third: Any) -> Any:
    b = StateGraph(_S)
    for name, node in (("a", lambda s: {"log": ["a"]}), ("b", lambda s: {"log": ["b"]}),
                       ("c", third)):
        b.add_node(name, node)
        b.add_edge(START, name)
    return b.compile(checkpointer=saver)


def test_a_parallel_steps_writes_go_with_its_checkpoint() -> None:
    saver = _Counting()
    graph = _graph(saver, lambda s: {"log": ["c"]})
    out = graph.invoke({"log": []}, {"configurable": {"thread_id": "t"}})
    assert sorted(out["log"]) == ["a", "b", "c"]
    assert "put_writes" not in saver.calls
    assert "put_step:3" in saver.calls


def test_the_finished_tasks_writes_are_kept_when_a_sibling_fails() -> None:
    saver, ran = _Counting(), []

    def boom(s: _S) -> dict[str, Any]:
        ran.append("c")
        raise ValueError("no")

    config = {"configurable": {"thread_id": "t"}}
    graph = _graph(saver, boom)
    with pytest.raises(ValueError, match="no"):
        graph.invoke({"log": []}, config)
    state = graph.get_state(config)
    done = {t.name for t in state.tasks if t.error is None and t.result is not None}
    assert done == {"a", "b"}
    assert saver.calls.count("put_writes") == 3  # a's and b's at the failure, then c's error


def test_the_finished_tasks_are_not_run_again_after_a_sibling_paused() -> None:
    saver, ran = _Counting(), []

    def logged(name: str) -> Any:
        def node(s: _S) -> dict[str, Any]:
            ran.append(name)
            return {"log": [name]}
        return node

    def ask(s: _S) -> dict[str, Any]:
        return {"log": [interrupt("ok?")]}

    b = StateGraph(_S)
    for name, node in (("a", logged("a")), ("b", logged("b")), ("c", ask)):
        b.add_node(name, node)
        b.add_edge(START, name)
    graph = b.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": []}, config)
    out = graph.invoke(Command(resume="yes"), config)
    assert sorted(out["log"]) == ["a", "b", "yes"]
    assert sorted(ran) == ["a", "b"]
