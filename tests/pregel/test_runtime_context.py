"""Run-time context (`context=`, `Runtime`, `get_runtime()`): what nodes see, sync and async,
and the caller mistakes hitlgraph refuses. LangGraph's behaviour for the same programs is
compared in test_langgraph_side_by_side.py."""

from __future__ import annotations

import asyncio
import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

import pydantic
import pytest

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import START, StateGraph
from hitlgraph.runtime import Runtime, get_runtime
from hitlgraph.types import Command, RetryPolicy, interrupt


@dataclass
class Ctx:
    user: str


class PCtx(pydantic.BaseModel):
    user: str
    limit: int = 3


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _graph(node: Any, *, context_schema: Any = Ctx, **compile_kw: Any) -> Any:
    b = StateGraph(State, context_schema=context_schema)
    b.add_node("n", node, **({"retry_policy": compile_kw.pop("retry")}
                             if "retry" in compile_kw else {}))
    b.add_edge(START, "n")
    return b.compile(**compile_kw)


def test_a_dict_context_becomes_the_dataclass_or_model_the_schema_names() -> None:
    seen: list[Any] = []
    graph = _graph(lambda s, runtime: seen.append(runtime.context) or {})
    graph.invoke({}, context={"user": "ann"})
    pgraph = _graph(lambda s, runtime: seen.append(runtime.context) or {}, context_schema=PCtx)
    pgraph.invoke({}, context={"user": "bob"})
    assert seen == [Ctx("ann"), PCtx(user="bob", limit=3)]


def test_a_context_of_another_type_than_the_schema_is_refused_before_anything_runs() -> None:
    ran: list[int] = []
    graph = _graph(lambda s: ran.append(1) or {})
    with pytest.raises(TypeError, match="context must be a Ctx"):
        graph.invoke({}, context="ann")
    with pytest.raises(TypeError, match="unexpected keyword"):
        graph.invoke({}, context={"name": "ann"})  # the dataclass's own error, as LangGraph
    assert ran == []


def test_context_without_a_schema_is_passed_as_given() -> None:
    seen: list[Any] = []
    graph = _graph(lambda s, runtime: seen.append(runtime.context) or {}, context_schema=None)
    graph.invoke({}, context=["any", "object"])
    assert seen == [["any", "object"]]


def test_async_nodes_and_astream_see_the_context() -> None:
    async def node(state: State, runtime: Runtime[Ctx]) -> State:
        assert get_runtime() is runtime
        return {"log": [runtime.context.user]}

    graph = _graph(node)

    async def main() -> tuple[Any, list[Any]]:
        out = await graph.ainvoke({}, context=Ctx("a1"))
        chunks = [c async for c in graph.astream({}, context={"user": "a2"},
                                                  stream_mode="updates")]
        return out, chunks

    out, chunks = asyncio.run(main())
    assert out == {"log": ["a1"]}
    assert chunks == [{"n": {"log": ["a2"]}}]


def test_context_is_not_checkpointed_so_a_resume_without_it_sees_none(tmp_path: Any) -> None:
    def node(state: State, runtime: Runtime[Ctx]) -> State:
        answer = interrupt("ok?")
        return {"log": [answer, str(runtime.context)]}

    with SqliteSaver.from_conn_string(str(tmp_path / "ctx.db")) as saver:
        graph = _graph(node, checkpointer=saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({}, config, context=Ctx("secret"))
        tup = saver.get_tuple(config)
        assert tup is not None and "secret" not in repr(tup)
        assert graph.invoke(Command(resume="yes"), config) == {"log": ["yes", "None"]}


def test_execution_info_counts_the_attempts_of_a_retry_policy() -> None:
    attempts: list[int] = []

    def flaky(state: State, runtime: Runtime[Ctx]) -> State:
        info = runtime.execution_info
        assert info is not None and info.node_first_attempt_time is not None
        attempts.append(info.node_attempt)
        if len(attempts) < 3:
            raise ValueError("again")
        return {}

    graph = _graph(flaky, retry=RetryPolicy(max_attempts=3, initial_interval=0.0,
                                            jitter=False, retry_on=ValueError))
    graph.invoke({}, context=Ctx("x"))
    assert attempts == [1, 2, 3]


def test_get_runtime_outside_a_node_says_where_it_can_be_called() -> None:
    with pytest.raises(RuntimeError, match=r"get_runtime\(\) can only be called inside a node"):
        get_runtime()
