"""The functional API: @entrypoint and @task, sync and async, futures, interrupts in both,
entrypoint.final and `previous`, results saved so finished tasks do not run again (also inside
StateGraph nodes, and across a new saver on the same SQLite file)."""

from __future__ import annotations

import asyncio
import operator
import threading
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.errors import CheckpointerRequiredError
from hitlgraph.func import entrypoint, task
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, Interrupt, StateSnapshot, interrupt


def review_workflow(calls: list[Any]) -> Any:
    """double(i) for i < n, then a task that asks a person, then the result."""

    @task
    def double(x: int) -> int:
        calls.append(("double", x))
        return x * 2

    @task
    def ask_person(total: int) -> Any:
        calls.append(("ask_person", total))
        return interrupt(f"approve {total}?")

    @entrypoint(checkpointer=InMemorySaver())
    def workflow(n: int) -> dict[str, Any]:
        futures = [double(i) for i in range(n)]
        values = [f.result() for f in futures]
        answer = ask_person(sum(values)).result()
        return {"values": values, "answer": answer}

    return workflow


# -- running ---------------------------------------------------------------------------------


def test_entrypoint_returns_what_the_function_returned(run: Any) -> None:
    @task
    def add_one(x: int) -> int:
        return x + 1

    @entrypoint()
    def workflow(n: int) -> list[int]:
        return [add_one(n).result(), add_one(n + 1).result()]

    assert run.invoke(workflow, 1) == [2, 3]


def test_async_entrypoint_awaits_async_task_futures(run: Any) -> None:
    @task
    async def square(x: int) -> int:
        await asyncio.sleep(0)
        return x * x

    @entrypoint()
    async def workflow(n: int) -> list[int]:
        futures = [square(i) for i in range(n)]
        return [await f for f in futures]

    assert asyncio.run(workflow.ainvoke(4)) == [0, 1, 4, 9]
    if run.mode == "async":
        assert run.invoke(workflow, 3) == [0, 1, 4]


def test_sync_task_futures_run_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=10)

    @task
    def meet(name: str) -> str:
        barrier.wait()  # BrokenBarrierError unless both calls run at once
        return name

    @entrypoint()
    def workflow(_: str) -> list[str]:
        first, second = meet("a"), meet("b")
        return [first.result(), second.result()]

    assert workflow.invoke("go") == ["a", "b"]


def test_task_called_outside_a_running_graph_raises_a_clear_error() -> None:
    @task
    def lonely() -> None:
        return None

    with pytest.raises(RuntimeError, match="called outside a running graph"):
        lonely()


# -- interrupts and saved task results -------------------------------------------------------


def test_interrupt_inside_a_task_pauses_and_the_resume_answers_it(run: Any, config: Any) -> None:
    calls: list[Any] = []
    workflow = review_workflow(calls)

    paused = run.invoke(workflow, 3, config)

    (pause,) = paused["__interrupt__"]
    assert isinstance(pause, Interrupt) and pause.value == "approve 6?"
    state = run.get_state(workflow, config)
    assert state.next == ("workflow",) and state.interrupts == (pause,)
    assert run.invoke(workflow, Command(resume="yes"), config) == {
        "values": [0, 2, 4], "answer": "yes"}


def test_finished_tasks_do_not_run_again_when_the_entrypoint_resumes(run: Any,
                                                                     config: Any) -> None:
    calls: list[Any] = []
    workflow = review_workflow(calls)
    run.invoke(workflow, 3, config)

    run.invoke(workflow, Command(resume="yes"), config)

    # the entrypoint ran twice; each double() once; the asking task again, to get its answer
    assert sorted(calls) == [("ask_person", 6), ("ask_person", 6), ("double", 0),
                             ("double", 1), ("double", 2)]


def test_interrupt_inside_the_entrypoint_keeps_side_effects_before_it_once(
    run: Any, config: Any,
) -> None:
    calls: list[str] = []

    @task
    def send_email() -> str:
        calls.append("email")
        return "sent"

    @entrypoint(checkpointer=InMemorySaver())
    def workflow(to: str) -> dict[str, Any]:
        status = send_email().result()
        ok = interrupt({"to": to, "status": status})
        return {"status": status, "ok": ok}

    paused = run.invoke(workflow, "ann", config)
    assert [i.value for i in paused["__interrupt__"]] == [{"to": "ann", "status": "sent"}]

    assert run.invoke(workflow, Command(resume=True), config) == {"status": "sent", "ok": True}
    assert calls == ["email"]


def test_interrupt_without_checkpointer_raises_a_clear_error() -> None:
    @entrypoint()
    def workflow(x: int) -> Any:
        return interrupt("needs a checkpointer")

    with pytest.raises(CheckpointerRequiredError, match="checkpointer"):
        workflow.invoke(1)


# -- results, previous, final ----------------------------------------------------------------


def test_previous_is_what_the_last_run_on_the_thread_returned(run: Any, config: Any) -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def counter(step: int, *, previous: Any = None) -> int:
        return (previous or 0) + step

    assert [run.invoke(counter, n, config) for n in (1, 2, 3)] == [1, 3, 6]
    assert run.get_state(counter, config).values == 6


def test_entrypoint_final_returns_value_and_saves_save_as_previous(run: Any,
                                                                  config: Any) -> None:
    seen: list[Any] = []

    @entrypoint(checkpointer=InMemorySaver())
    def totals(n: int, *, previous: Any = None) -> Any:
        seen.append(previous)
        return entrypoint.final(value=n * 100, save=(previous or 0) + n)

    assert run.invoke(totals, 1, config) == 100
    assert run.invoke(totals, 2, config) == 200
    assert seen == [None, 1]
    assert run.get_state(totals, config).values == 200  # the value, not what was saved


def test_interrupted_result_includes_the_last_dict_value(run: Any, config: Any) -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def workflow(n: int, *, previous: Any = None) -> dict[str, Any]:
        if n < 0:
            interrupt("negative?")
        return {"n": n}

    run.invoke(workflow, 1, config)

    paused = run.invoke(workflow, -1, config)

    assert paused.pop("__interrupt__")[0].value == "negative?"
    assert paused == {"n": 1}


def test_update_state_replaces_the_value_and_the_next_previous(run: Any, config: Any) -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def workflow(n: int, *, previous: Any = None) -> dict[str, Any]:
        return {"n": n, "prev": previous}

    run.invoke(workflow, 1, config)

    run.update_state(workflow, config, {"n": 99})

    assert run.get_state(workflow, config).values == {"n": 99}
    assert run.invoke(workflow, 2, config) == {"n": 2, "prev": {"n": 99}}


def test_each_entrypoint_run_is_an_input_checkpoint_then_a_loop_checkpoint(
    run: Any, config: Any,
) -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def workflow(n: int) -> int:
        return n + 1

    run.invoke(workflow, 1, config)
    run.invoke(workflow, 5, config)

    history = run.history(workflow, config)
    assert [(s.metadata["source"], s.next, s.values) for s in history] == [
        ("loop", (), 6), ("input", ("workflow",), 2), ("loop", (), 2),
        ("input", ("workflow",), None)]
    assert all(isinstance(s, StateSnapshot) for s in history)


# -- streaming -------------------------------------------------------------------------------


def test_stream_updates_show_each_task_result_then_the_entrypoint_result(
    run: Any, config: Any,
) -> None:
    workflow = review_workflow([])

    first = run.stream(workflow, 2, config)
    resumed = run.stream(workflow, Command(resume="ok"), config)

    assert sorted(first[:2], key=repr) == [{"double": 0}, {"double": 2}]
    (pause,) = first[2]["__interrupt__"]
    assert pause.value == "approve 2?" and len(first) == 3
    assert resumed == [{"ask_person": "ok"}, {"workflow": {"values": [0, 2], "answer": "ok"}}]


def test_stream_values_show_the_return_value_and_interrupts(run: Any, config: Any) -> None:
    workflow = review_workflow([])

    first = run.stream(workflow, 2, config, stream_mode="values")
    resumed = run.stream(workflow, Command(resume="ok"), config, stream_mode="values")

    assert list(first[0]) == ["__interrupt__"] and len(first) == 1
    assert resumed == [None, {"values": [0, 2], "answer": "ok"}]


def test_stream_tasks_shows_the_task_calls_of_a_node(run: Any, config: Any) -> None:
    @task
    def double(x: int) -> int:
        return x * 2

    class S(TypedDict):
        x: int

    def node(state: S) -> dict[str, Any]:
        return {"x": double(state["x"]).result()}

    graph = (StateGraph(S).add_node("node", node).add_edge(START, "node")
             .compile(checkpointer=InMemorySaver()))

    chunks = run.stream(graph, {"x": 1}, config, stream_mode=["tasks", "updates"])

    assert [(mode, c.get("name", next(iter(c)))) for mode, c in chunks] == [
        ("tasks", "node"), ("tasks", "double"), ("updates", "double"), ("tasks", "double"),
        ("updates", "node"), ("tasks", "node")]
    call = chunks[1][1]
    assert call["input"] == ((1,), {}) and call["triggers"] == ("__pregel_push",)
    assert chunks[3][1]["result"] == {"__return__": 2}


# -- @task inside StateGraph nodes -----------------------------------------------------------


class NodeState(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


def charging_graph(calls: list[str], checkpointer: Any) -> Any:
    @task
    def charge(amount: int) -> str:
        calls.append(f"charge {amount}")
        return f"receipt-{amount}"

    def pay(state: NodeState) -> dict[str, Any]:
        receipt = charge(state["x"]).result()
        answer = interrupt({"receipt": receipt})
        return {"log": [f"{receipt}:{answer}"]}

    return (StateGraph(NodeState).add_node("pay", pay).add_edge(START, "pay")
            .compile(checkpointer=checkpointer))


def test_task_called_in_a_node_keeps_its_result_when_the_node_runs_again(
    run: Any, config: Any,
) -> None:
    calls: list[str] = []
    graph = charging_graph(calls, InMemorySaver())

    paused = run.invoke(graph, {"x": 5, "log": []}, config)
    assert [i.value for i in paused["__interrupt__"]] == [{"receipt": "receipt-5"}]
    done = run.invoke(graph, Command(resume="ok"), config)

    assert done == {"x": 5, "log": ["receipt-5:ok"]}
    assert calls == ["charge 5"]


def test_task_result_saved_in_sqlite_is_reused_by_a_new_saver_on_the_same_file(
    tmp_path: Path, config: Any,
) -> None:
    calls: list[str] = []
    db = str(tmp_path / "db.sqlite")
    with SqliteSaver.from_conn_string(db) as saver:
        charging_graph(calls, saver).invoke({"x": 7, "log": []}, config)

    with SqliteSaver.from_conn_string(db) as fresh:  # as a new process would
        graph = charging_graph(calls, fresh)
        done = graph.invoke(Command(resume="ok"), config)

    assert done == {"x": 7, "log": ["receipt-7:ok"]}
    assert calls == ["charge 7"]


def test_async_entrypoint_resumes_without_running_finished_async_tasks(config: Any) -> None:
    calls: list[int] = []

    @task
    async def fetch(x: int) -> int:
        calls.append(x)
        return x * 10

    @entrypoint(checkpointer=InMemorySaver())
    async def workflow(n: int) -> dict[str, Any]:
        values = [await fetch(i) for i in range(n)]
        answer = interrupt({"values": values})
        return {"values": values, "answer": answer}

    async def main() -> tuple[Any, Any]:
        paused = await workflow.ainvoke(2, config)
        done = await workflow.ainvoke(Command(resume="ok"), config)
        return paused, done

    paused, done = asyncio.run(main())

    assert [i.value for i in paused["__interrupt__"]] == [{"values": [0, 10]}]
    assert done == {"values": [0, 10], "answer": "ok"}
    assert calls == [0, 1]


def test_exit_durability_saves_task_results_when_the_run_pauses(run: Any, tmp_path: Path
                                                                 ) -> None:
    calls: list[str] = []

    @task
    def side_effect(x: str) -> str:
        calls.append(x)
        return x.upper()

    with SqliteSaver.from_conn_string(str(tmp_path / "exit.db")) as saver:
        @entrypoint(checkpointer=saver)
        def flow(x: str) -> str:
            done = side_effect(x).result()
            return f"{done}:{interrupt('ok?')}"

        config = {"configurable": {"thread_id": "exit-durability"}}
        run.invoke(flow, "a", config, durability="exit")
        writes = saver.get_tuple(config).pending_writes
        assert [w[1] for w in writes].count("__task_result__") == 1
        assert run.invoke(flow, Command(resume="yes"), config, durability="exit") == "A:yes"
        assert calls == ["a"]
