"""Every stream mode's chunks, with the shapes LangGraph gives them (ids and timestamps aside),
several modes at once, subgraph namespaces, interrupts in streams, concurrency inside a step,
and leaving a stream early."""

from __future__ import annotations

import asyncio
import itertools
import operator
import re
import threading
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.config import get_stream_writer
from hitlgraph.graph import START, StateGraph
from hitlgraph.messages import AIMessage, HumanMessage
from hitlgraph.types import Command, Interrupt, StreamWriter, interrupt

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


class Chat(TypedDict):
    messages: Annotated[list[Any], operator.add]


def logger(name: str) -> Any:
    def node(state: Any) -> dict[str, Any]:
        return {"log": [name]}

    return node


def chain(*names: str, checkpointer: Any = None) -> Any:
    """START -> names[0] -> names[1] -> ..., each node logging its name."""
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, logger(name))
    builder.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=checkpointer)


def ask(state: State) -> dict[str, Any]:
    return {"log": ["ask:" + interrupt("q?")]}


def a_then_ask(checkpointer: Any = None) -> Any:
    return (StateGraph(State).add_node("a", logger("a")).add_node("ask", ask)
            .add_edge(START, "a").add_edge("a", "ask")
            .compile(checkpointer=checkpointer or InMemorySaver()))


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and UUID.fullmatch(value) is not None


def subgraph_parent() -> Any:
    """pre -> sub (a compiled graph: s1 -> s2, s1 writes a custom chunk)."""
    def s1(state: State) -> dict[str, Any]:
        get_stream_writer()("sub-custom")
        return {"log": ["s1"]}

    sub = (StateGraph(State).add_node("s1", s1).add_node("s2", lambda s: {"x": s["x"] * 10})
           .add_edge(START, "s1").add_edge("s1", "s2").compile())
    return (StateGraph(State).add_node("pre", logger("pre")).add_node("sub", sub)
            .add_edge(START, "pre").add_edge("pre", "sub").compile())


# -- one mode at a time ------------------------------------------------------------------------


def test_values_mode_yields_the_state_after_the_input_and_after_each_step(run: Any) -> None:
    chunks = run.stream(chain("a", "b"), {"x": 1, "log": []}, stream_mode="values")

    assert chunks == [{"x": 1, "log": []}, {"x": 1, "log": ["a"]}, {"x": 1, "log": ["a", "b"]}]


def test_updates_mode_yields_node_name_to_the_update_it_returned(run: Any) -> None:
    chunks = run.stream(chain("a", "b"), {"x": 1, "log": []}, stream_mode="updates")

    assert chunks == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]


def test_updates_mode_yields_one_chunk_per_node_of_a_parallel_step(run: Any) -> None:
    graph = (StateGraph(State).add_node("p1", logger("p1")).add_node("p2", logger("p2"))
             .add_edge(START, "p1").add_edge(START, "p2").compile())

    chunks = run.stream(graph, {"x": 0, "log": []}, stream_mode="updates")

    assert sorted(chunks, key=repr) == [{"p1": {"log": ["p1"]}}, {"p2": {"log": ["p2"]}}]


def test_updates_mode_shows_none_for_a_node_that_returned_nothing(run: Any) -> None:
    graph = (StateGraph(State).add_node("quiet", lambda s: None).add_edge(START, "quiet")
             .compile())

    assert run.stream(graph, {"x": 0, "log": []}, stream_mode="updates") == [{"quiet": None}]


def test_custom_mode_yields_what_get_stream_writer_and_the_writer_parameter_write(
    run: Any,
) -> None:
    def a(state: State) -> dict[str, Any]:
        get_stream_writer()({"from": "a"})
        return {"log": ["a"]}

    def b(state: State, writer: StreamWriter) -> dict[str, Any]:
        writer("b-custom")
        return {"log": ["b"]}

    graph = (StateGraph(State).add_node("a", a).add_node("b", b)
             .add_edge(START, "a").add_edge("a", "b").compile())

    assert run.stream(graph, {"x": 0, "log": []}, stream_mode="custom") == [
        {"from": "a"}, "b-custom"]


def test_stream_writer_does_nothing_when_custom_mode_is_not_streamed(run: Any) -> None:
    def a(state: State, writer: StreamWriter) -> dict[str, Any]:
        writer("ignored")
        get_stream_writer()("ignored too")
        return {"log": ["a"]}

    graph = StateGraph(State).add_node("a", a).add_edge(START, "a").compile()

    assert run.stream(graph, {"x": 0, "log": []}, stream_mode="updates") == [
        {"a": {"log": ["a"]}}]
    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 0, "log": ["a"]}


def test_messages_mode_yields_each_returned_message_with_its_node_metadata(
    run: Any, config: Any,
) -> None:
    def chat(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage(content="hi", id="m1")]}

    def chat2(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage(content="yo", id="m2")]}

    graph = (StateGraph(Chat).add_node("chat", chat).add_node("chat2", chat2)
             .add_edge(START, "chat").add_edge("chat", "chat2")
             .compile(checkpointer=InMemorySaver()))

    chunks = run.stream(graph, {"messages": []}, config, stream_mode="messages")

    assert [(m.content, m.id) for m, _ in chunks] == [("hi", "m1"), ("yo", "m2")]
    (_, first), (_, second) = chunks
    assert first["langgraph_node"] == "chat" and first["langgraph_step"] == 1
    assert second["langgraph_node"] == "chat2" and second["langgraph_step"] == 2
    assert first["langgraph_path"] == ("__pregel_pull", "chat")
    assert first["langgraph_triggers"] == ("branch:to:chat",)
    assert first["thread_id"] == config["configurable"]["thread_id"]
    name, task_id = first["langgraph_checkpoint_ns"].split(":")
    assert name == "chat" and is_uuid(task_id)
    assert "checkpoint_ns" not in first  # a top-level node has none (as in LangGraph)


def test_messages_mode_does_not_repeat_messages_the_node_was_given(run: Any) -> None:
    def add(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage(content="new", id="n1")]}

    def echo_all(state: Chat) -> dict[str, Any]:  # returns its input's messages again
        return {"messages": [*state["messages"], AIMessage(content="more", id="n2")]}

    graph = (StateGraph(Chat).add_node("add", add).add_node("echo_all", echo_all)
             .add_edge(START, "add").add_edge("add", "echo_all").compile())

    chunks = run.stream(graph, {"messages": [HumanMessage(content="q", id="h1")]},
                        stream_mode="messages")

    assert [(m.id, meta["langgraph_node"]) for m, meta in chunks] == [
        ("n1", "add"), ("n2", "echo_all")]


def test_messages_chunk_comes_before_the_update_of_the_same_node(run: Any) -> None:
    def chat(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage(content="hi", id="m1")]}

    graph = StateGraph(Chat).add_node("chat", chat).add_edge(START, "chat").compile()

    chunks = run.stream(graph, {"messages": []}, stream_mode=["messages", "updates"])

    assert [mode for mode, _ in chunks] == ["messages", "updates"]


def test_tasks_mode_yields_a_start_and_a_result_chunk_per_task(run: Any) -> None:
    chunks = run.stream(chain("a", "b"), {"x": 1, "log": []}, stream_mode="tasks")

    start_a, result_a, start_b, result_b = chunks
    assert is_uuid(start_a["id"]) and result_a["id"] == start_a["id"]
    assert start_a == {"id": start_a["id"], "name": "a", "input": {"x": 1, "log": []},
                       "triggers": ("branch:to:a",)}
    assert result_a == {"id": start_a["id"], "name": "a", "error": None,
                        "result": {"log": ["a"]}, "interrupts": []}
    assert start_b["input"] == {"x": 1, "log": ["a"]} and result_b["result"] == {"log": ["b"]}


def test_tasks_mode_result_of_a_failed_task_holds_the_exception(run: Any) -> None:
    def boom(state: State) -> None:
        raise ValueError("boom")

    graph = StateGraph(State).add_node("boom", boom).add_edge(START, "boom").compile()
    seen: list[Any] = []
    with pytest.raises(ValueError, match="boom"):
        if run.mode == "sync":
            seen.extend(graph.stream({"x": 0, "log": []}, stream_mode="tasks"))
        else:
            async def collect() -> None:
                async for chunk in graph.astream({"x": 0, "log": []}, stream_mode="tasks"):
                    seen.append(chunk)
            asyncio.run(collect())

    assert [c["name"] for c in seen] == ["boom", "boom"]
    assert isinstance(seen[1]["error"], ValueError) and seen[1]["result"] == {}


def test_checkpoints_mode_yields_each_checkpoint_with_its_next_tasks(run: Any,
                                                                      config: Any) -> None:
    graph = chain("a", checkpointer=InMemorySaver())
    thread = config["configurable"]["thread_id"]

    first, second, last = run.stream(graph, {"x": 1, "log": []}, config,
                                     stream_mode="checkpoints")

    assert first["parent_config"] is None
    assert first["config"]["configurable"]["checkpoint_ns"] == ""
    assert first["config"]["configurable"]["thread_id"] == thread
    assert first["metadata"] == {"source": "input", "step": -1, "parents": {}}
    assert first["values"] == {"log": []}  # the input is not applied yet
    assert first["next"] == ["__start__"]
    assert [t["name"] for t in first["tasks"]] == ["__start__"]
    assert second["parent_config"] == first["config"]
    assert second["metadata"] == {"source": "loop", "step": 0, "parents": {}}
    assert second["values"] == {"x": 1, "log": []} and second["next"] == ["a"]
    (task,) = second["tasks"]
    assert task == {"id": task["id"], "name": "a", "interrupts": (), "state": None}
    assert last["next"] == [] and last["tasks"] == []
    assert last["values"] == {"x": 1, "log": ["a"]}
    assert last["config"] == run.get_state(graph, config).config


def test_checkpoints_mode_config_carries_the_run_configurable_metadata_only_the_engines(
        run: Any) -> None:
    # As LangGraph: the chunk's config has the caller's configurable values (not the engine's
    # private ones); its metadata is source, step and parents, without what the config adds
    # to the stored checkpoint's metadata.
    graph = chain("a", checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t-ck", "user_id": "u", "run_id": "r"},
              "metadata": {"team": "support"}}

    chunks = run.stream(graph, {"x": 1, "log": []}, config, stream_mode="checkpoints")

    for chunk in chunks:
        assert set(chunk["metadata"]) == {"source", "step", "parents"}
        conf = chunk["config"]["configurable"]
        assert sorted(conf) == ["checkpoint_id", "checkpoint_ns", "run_id", "thread_id",
                                "user_id"]
    assert chunks[1]["parent_config"]["configurable"]["user_id"] == "u"
    stored = run.get_state(graph, {"configurable": {"thread_id": "t-ck"}}).metadata
    assert stored["team"] == "support" and stored["user_id"] == "u"


def test_tasks_mode_start_chunk_carries_the_run_metadata_run_id_and_tags(run: Any) -> None:
    config = {"configurable": {"thread_id": "t-md", "run_id": "r", "user_id": "u"},
              "metadata": {"team": "support"}, "tags": ["mine", "seq:step:1"]}

    start, _result = run.stream(chain("a"), {"x": 1, "log": []}, config, stream_mode="tasks")

    assert start["metadata"] == {"team": "support", "run_id": "r", "tags": ["mine"]}


def test_tasks_mode_start_chunk_has_no_metadata_when_the_run_has_none(run: Any) -> None:
    start, _result = run.stream(chain("a"), {"x": 1, "log": []}, stream_mode="tasks")

    assert "metadata" not in start


def test_checkpoints_mode_shows_the_interrupts_a_task_waits_on_when_resumed(
    run: Any, config: Any,
) -> None:
    graph = a_then_ask()
    run.stream(graph, {"x": 1, "log": []}, config, stream_mode="checkpoints")

    resumed = run.stream(graph, Command(resume="yes"), config, stream_mode="checkpoints")

    waiting, done = resumed
    (task,) = waiting["tasks"]
    assert task["name"] == "ask"
    assert [i["value"] for i in task["interrupts"]] == ["q?"]
    assert done["values"] == {"x": 1, "log": ["a", "ask:yes"]} and done["next"] == []


def test_checkpoints_mode_shows_the_result_of_a_task_that_finished_before_the_pause(
    run: Any, config: Any,
) -> None:
    graph = (StateGraph(State).add_node("ask", ask).add_node("z", logger("z"))
             .add_edge(START, "ask").add_edge(START, "z")
             .compile(checkpointer=InMemorySaver()))
    run.invoke(graph, {"x": 0, "log": []}, config)

    waiting = run.stream(graph, Command(resume="ok"), config, stream_mode="checkpoints")[0]

    asking, finished = waiting["tasks"]
    assert [i["value"] for i in asking["interrupts"]] == ["q?"]
    assert finished == {"id": finished["id"], "name": "z", "result": {"log": ["z"]},
                        "interrupts": (), "state": None}


def test_debug_mode_wraps_checkpoints_and_task_chunks_with_step_and_type(
    run: Any, config: Any,
) -> None:
    graph = chain("a", checkpointer=InMemorySaver())

    chunks = run.stream(graph, {"x": 1, "log": []}, config, stream_mode="debug")

    assert [(c["type"], c["step"]) for c in chunks] == [
        ("checkpoint", -1), ("checkpoint", 0), ("task", 1), ("task_result", 1),
        ("checkpoint", 1)]
    assert all(set(c) == {"step", "timestamp", "type", "payload"} for c in chunks)
    assert chunks[2]["payload"]["name"] == "a"
    assert chunks[3]["payload"]["result"] == {"log": ["a"]}
    assert chunks[4]["payload"]["values"] == {"x": 1, "log": ["a"]}


def test_without_checkpointer_checkpoints_mode_is_empty_and_debug_shows_only_tasks(
    run: Any,
) -> None:
    graph = chain("a")

    assert run.stream(graph, {"x": 1, "log": []}, stream_mode="checkpoints") == []
    debug = run.stream(graph, {"x": 1, "log": []}, stream_mode="debug")
    assert [c["type"] for c in debug] == ["task", "task_result"]


# -- several modes -----------------------------------------------------------------------------


def test_several_modes_yield_mode_and_chunk_pairs_in_langgraph_order(run: Any) -> None:
    def a(state: State) -> dict[str, Any]:
        get_stream_writer()("from a")
        return {"log": ["a"]}

    graph = StateGraph(State).add_node("a", a).add_edge(START, "a").compile()

    chunks = run.stream(graph, {"x": 1, "log": []},
                        stream_mode=["values", "updates", "custom", "tasks"])

    assert [mode for mode, _ in chunks] == [
        "values", "tasks", "custom", "updates", "tasks", "values"]
    assert chunks[0] == ("values", {"x": 1, "log": []})
    assert chunks[2] == ("custom", "from a")
    assert chunks[3] == ("updates", {"a": {"log": ["a"]}})
    assert chunks[5] == ("values", {"x": 1, "log": ["a"]})


def test_several_modes_of_a_parallel_step_show_each_update_before_its_task_result(
    run: Any,
) -> None:
    graph = (StateGraph(State).add_node("a", logger("a")).add_node("b", logger("b"))
             .add_node("c", logger("c")).add_edge(START, "a").add_edge("a", "b")
             .add_edge("a", "c").compile())

    chunks = run.stream(graph, {"x": 0, "log": []}, stream_mode=["updates", "tasks"])

    step2 = chunks[3:]
    assert [(m, c.get("name")) for m, c in step2[:2]] == [("tasks", "b"), ("tasks", "c")]
    for node in ("b", "c"):
        update = step2.index(("updates", {node: {"log": [node]}}))
        result = next(i for i, (m, c) in enumerate(step2) if m == "tasks" and "result" in c
                      and c["name"] == node)
        assert update < result


# -- subgraphs -----------------------------------------------------------------------------------


def test_subgraphs_true_with_one_mode_yields_namespace_and_chunk(run: Any) -> None:
    chunks = run.stream(subgraph_parent(), {"x": 1, "log": []}, stream_mode="updates",
                        subgraphs=True)

    namespaces = [ns for ns, _ in chunks]
    assert [c for _, c in chunks] == [
        {"pre": {"log": ["pre"]}}, {"s1": {"log": ["s1"]}}, {"s2": {"x": 10}},
        {"sub": {"x": 10, "log": ["pre", "s1"]}}]
    assert namespaces[0] == () and namespaces[3] == ()
    (inner,) = namespaces[1]
    assert namespaces[2] == (inner,)
    name, task_id = inner.split(":")
    assert name == "sub" and is_uuid(task_id)


def test_subgraphs_true_with_several_modes_yields_namespace_mode_and_chunk(run: Any) -> None:
    chunks = run.stream(subgraph_parent(), {"x": 1, "log": []},
                        stream_mode=["updates", "custom"], subgraphs=True)

    assert [(len(ns), mode, chunk) for ns, mode, chunk in chunks] == [
        (0, "updates", {"pre": {"log": ["pre"]}}),
        (1, "custom", "sub-custom"),
        (1, "updates", {"s1": {"log": ["s1"]}}),
        (1, "updates", {"s2": {"x": 10}}),
        (0, "updates", {"sub": {"x": 10, "log": ["pre", "s1"]}})]


def test_subgraph_values_are_streamed_under_its_namespace(run: Any) -> None:
    chunks = run.stream(subgraph_parent(), {"x": 1, "log": []}, stream_mode="values",
                        subgraphs=True)

    assert [(len(ns), chunk) for ns, chunk in chunks] == [
        (0, {"x": 1, "log": []}), (0, {"x": 1, "log": ["pre"]}),
        (1, {"x": 1, "log": ["pre"]}), (1, {"x": 1, "log": ["pre", "s1"]}),
        (1, {"x": 10, "log": ["pre", "s1"]}), (0, {"x": 10, "log": ["pre", "pre", "s1"]})]


def test_without_subgraphs_flag_only_the_parent_chunks_are_streamed(run: Any) -> None:
    graph = subgraph_parent()

    assert run.stream(graph, {"x": 1, "log": []}, stream_mode="updates") == [
        {"pre": {"log": ["pre"]}}, {"sub": {"x": 10, "log": ["pre", "s1"]}}]
    assert run.stream(graph, {"x": 1, "log": []}, stream_mode="custom") == []


def test_subgraph_message_is_streamed_once_under_the_subgraph_namespace(
    run: Any, config: Any,
) -> None:
    def chat(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage(content="hi", id="m1")]}

    sub = StateGraph(Chat).add_node("chat", chat).add_edge(START, "chat").compile()
    graph = (StateGraph(Chat).add_node("outer", sub).add_edge(START, "outer")
             .compile(checkpointer=InMemorySaver()))

    chunks = run.stream(graph, {"messages": []}, config, stream_mode="messages",
                        subgraphs=True)

    ((ns, (message, meta)),) = chunks
    assert message.id == "m1" and len(ns) == 1 and ns[0].startswith("outer:")
    assert meta["langgraph_node"] == "chat"
    assert meta["checkpoint_ns"] == ns[0]
    assert meta["langgraph_checkpoint_ns"].startswith(ns[0] + "|chat:")


def test_subgraph_message_without_subgraphs_flag_comes_from_the_parent_node(
    run: Any,
) -> None:
    def chat(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage(content="hi", id="m1")]}

    sub = StateGraph(Chat).add_node("chat", chat).add_edge(START, "chat").compile()
    graph = StateGraph(Chat).add_node("outer", sub).add_edge(START, "outer").compile()

    ((message, meta),) = run.stream(graph, {"messages": []}, stream_mode="messages")

    assert message.id == "m1" and meta["langgraph_node"] == "outer"


# -- interrupts in streams -----------------------------------------------------------------------


def test_interrupt_in_several_modes_shows_updates_values_then_task_result(
    run: Any, config: Any,
) -> None:
    chunks = run.stream(a_then_ask(), {"x": 1, "log": []}, config,
                        stream_mode=["updates", "values", "tasks"])

    tail = chunks[-4:]
    assert [mode for mode, _ in tail] == ["tasks", "updates", "values", "tasks"]
    (pause,) = tail[1][1]["__interrupt__"]
    assert isinstance(pause, Interrupt) and pause.value == "q?"
    assert tail[2][1] == {"x": 1, "log": ["a"], "__interrupt__": (pause,)}
    assert tail[3][1]["interrupts"] == [
        {"value": "q?", "id": pause.id, "response_schema": None}]


def test_resume_on_a_new_stream_starts_with_the_current_values(run: Any, config: Any) -> None:
    graph = a_then_ask()
    run.stream(graph, {"x": 1, "log": []}, config, stream_mode="updates")

    chunks = run.stream(graph, Command(resume="yes"), config, stream_mode=["values", "updates"])

    assert chunks == [("values", {"x": 1, "log": ["a"]}),
                      ("updates", {"ask": {"log": ["ask:yes"]}}),
                      ("values", {"x": 1, "log": ["a", "ask:yes"]})]


def test_parallel_interrupts_each_show_their_own_interrupt_chunk(run: Any, config: Any) -> None:
    def asker(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            return {"log": [interrupt(name + "?")]}

        return node

    graph = (StateGraph(State).add_node("q1", asker("q1")).add_node("q2", asker("q2"))
             .add_node("done", logger("done"))
             .add_edge(START, "q1").add_edge(START, "q2").add_edge(START, "done")
             .compile(checkpointer=InMemorySaver()))

    chunks = run.stream(graph, {"x": 0, "log": []}, config, stream_mode="updates")

    pauses = [c["__interrupt__"] for c in chunks if "__interrupt__" in c]
    assert sorted(p[0].value for p in pauses) == ["q1?", "q2?"]
    assert all(len(p) == 1 for p in pauses)
    assert {"done": {"log": ["done"]}} in chunks


def test_writes_reused_on_resume_are_marked_cached_in_updates(run: Any, config: Any) -> None:
    graph = (StateGraph(State).add_node("ask", ask).add_node("z", logger("z"))
             .add_edge(START, "ask").add_edge(START, "z")
             .compile(checkpointer=InMemorySaver()))
    run.invoke(graph, {"x": 0, "log": []}, config)

    chunks = run.stream(graph, Command(resume="ok"), config, stream_mode="updates")

    assert chunks == [{"z": {"log": ["z"]}, "__metadata__": {"cached": True}},
                      {"ask": {"log": ["ask:ok"]}}]


# -- concurrency inside a step -------------------------------------------------------------------


def test_async_nodes_of_one_step_run_concurrently() -> None:
    async def main() -> dict[str, Any]:
        a_started, b_started = asyncio.Event(), asyncio.Event()

        async def a(state: State) -> dict[str, Any]:
            a_started.set()
            await asyncio.wait_for(b_started.wait(), timeout=10)  # b must run meanwhile
            return {"log": ["a"]}

        async def b(state: State) -> dict[str, Any]:
            b_started.set()
            await asyncio.wait_for(a_started.wait(), timeout=10)
            return {"log": ["b"]}

        graph = (StateGraph(State).add_node("a", a).add_node("b", b)
                 .add_edge(START, "a").add_edge(START, "b").compile())
        return await graph.ainvoke({"x": 0, "log": []})

    assert asyncio.run(main()) == {"x": 0, "log": ["a", "b"]}


def test_sync_nodes_of_one_step_run_in_a_thread_pool(run: Any) -> None:
    barrier = threading.Barrier(2, timeout=10)

    def waiter(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            barrier.wait()  # BrokenBarrierError unless the other node runs at the same time
            return {"log": [name]}

        return node

    graph = (StateGraph(State).add_node("a", waiter("a")).add_node("b", waiter("b"))
             .add_edge(START, "a").add_edge(START, "b").compile())

    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 0, "log": ["a", "b"]}
    assert run.stream(graph, {"x": 0, "log": []}, stream_mode=["updates", "custom"])


# -- leaving a stream early ----------------------------------------------------------------------


def counted_chain(calls: list[str]) -> Any:
    def node(name: str) -> Any:
        def run_node(state: State) -> dict[str, Any]:
            calls.append(name)
            return {"log": [name]}

        return run_node

    return (StateGraph(State).add_node("a", node("a")).add_node("b", node("b"))
            .add_node("c", node("c")).add_edge(START, "a").add_edge("a", "b")
            .add_edge("b", "c").compile(checkpointer=InMemorySaver()))


def first_chunk(run: Any, graph: Any, input: Any, config: Any, **kwargs: Any) -> Any:
    """Read one chunk, then close the stream (as a `break` does)."""
    if run.mode == "sync":
        stream = graph.stream(input, config, **kwargs)
        chunk = next(stream)
        stream.close()
        return chunk

    async def read() -> Any:
        stream = graph.astream(input, config, **kwargs)
        chunk = await stream.__anext__()
        await stream.aclose()
        return chunk

    return asyncio.run(read())


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_leaving_an_updates_stream_after_one_chunk_keeps_that_step_and_resumes(
    run: Any, config: Any, durability: str,
) -> None:
    calls: list[str] = []
    graph = counted_chain(calls)

    chunk = first_chunk(run, graph, {"x": 0, "log": []}, config, stream_mode="updates",
                        durability=durability)

    assert chunk == {"a": {"log": ["a"]}}
    state = run.get_state(graph, config)
    assert (state.values, state.next) == ({"x": 0, "log": ["a"]}, ("b",))
    assert run.invoke(graph, None, config) == {"x": 0, "log": ["a", "b", "c"]}
    assert calls == ["a", "b", "c"]  # no node ran twice


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_leaving_a_values_stream_after_the_input_chunk_keeps_the_input(
    run: Any, config: Any, durability: str,
) -> None:
    calls: list[str] = []
    graph = counted_chain(calls)

    chunk = first_chunk(run, graph, {"x": 0, "log": []}, config, stream_mode="values",
                        durability=durability)

    assert chunk == {"x": 0, "log": []}
    state = run.get_state(graph, config)
    assert (state.values, state.next) == ({"x": 0, "log": []}, ("a",))
    assert run.invoke(graph, None, config) == {"x": 0, "log": ["a", "b", "c"]}
    assert calls == ["a", "b", "c"]


def test_leaving_a_stream_records_no_half_applied_step_in_history(run: Any,
                                                                  config: Any) -> None:
    graph = counted_chain([])

    first_chunk(run, graph, {"x": 0, "log": []}, config, stream_mode="updates")

    history = run.history(graph, config)
    assert [(s.next, s.values) for s in history] == [
        (("b",), {"x": 0, "log": ["a"]}), (("a",), {"x": 0, "log": []}),
        (("__start__",), {"log": []})]


def test_an_exception_in_the_consumer_leaves_the_thread_resumable(config: Any) -> None:
    calls: list[str] = []
    graph = counted_chain(calls)

    with pytest.raises(KeyError):
        for i, _chunk in enumerate(graph.stream({"x": 0, "log": []}, config,
                                                stream_mode="updates")):
            if i == 1:
                raise KeyError("consumer failed")

    state = graph.get_state(config)
    assert (state.values, state.next) == ({"x": 0, "log": ["a", "b"]}, ("c",))
    assert graph.invoke(None, config) == {"x": 0, "log": ["a", "b", "c"]}
    assert calls == ["a", "b", "c"]


def test_leaving_a_parallel_step_early_keeps_the_finished_task_writes(run: Any,
                                                                      config: Any) -> None:
    calls: list[str] = []
    release = threading.Event()

    def fast(state: State) -> dict[str, Any]:
        calls.append("fast")
        return {"log": ["fast"]}

    def slow(state: State) -> dict[str, Any]:
        calls.append("slow")
        release.wait(10)
        return {"log": ["slow"]}

    graph = (StateGraph(State).add_node("fast", fast).add_node("slow", slow)
             .add_edge(START, "fast").add_edge(START, "slow")
             .compile(checkpointer=InMemorySaver()))

    chunk = first_chunk(run, graph, {"x": 0, "log": []}, config, stream_mode="updates")
    release.set()

    assert chunk == {"fast": {"log": ["fast"]}}
    assert run.invoke(graph, None, config) == {"x": 0, "log": ["fast", "slow"]}
    assert calls.count("fast") == 1  # its saved writes were reused


def test_cancelling_an_astream_task_leaves_the_last_checkpoint(config: Any) -> None:
    async def main() -> tuple[Any, Any]:
        entered = asyncio.Event()

        async def slow(state: State) -> dict[str, Any]:
            entered.set()
            await asyncio.sleep(3600)
            return {"log": ["slow"]}

        graph = (StateGraph(State).add_node("a", logger("a")).add_node("slow", slow)
                 .add_edge(START, "a").add_edge("a", "slow")
                 .compile(checkpointer=InMemorySaver()))

        async def consume() -> None:
            async for _ in graph.astream({"x": 0, "log": []}, config, stream_mode="updates"):
                pass

        consumer = asyncio.create_task(consume())
        await entered.wait()
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        state = await graph.aget_state(config)
        history = [s.next async for s in graph.aget_state_history(config)]
        return (state.values, state.next), history

    current, history = asyncio.run(main())

    assert current == ({"x": 0, "log": ["a"]}, ("slow",))
    assert history == [("slow",), ("a",), ("__start__",)]
