"""ToolNode and tools_condition: running the last AIMessage's tool calls, errors as messages."""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated, Any

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage, HumanMessage, ToolMessage
from hitlgraph.prebuilt import (
    InjectedState,
    InjectedStore,
    ScriptedChatModel,
    ToolNode,
    ToolRuntime,
    tool,
    tools_condition,
)


def calls_message(*calls: tuple[str, dict[str, Any]]) -> AIMessage:
    return AIMessage("", id="ai", tool_calls=[
        {"name": name, "args": args, "id": f"c{i}"} for i, (name, args) in enumerate(calls, 1)
    ])


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def shout(text: str) -> str:
    return text.upper()


def boom(reason: str) -> str:
    raise RuntimeError(f"kaput: {reason}")


def test_runs_each_call_and_returns_tool_messages_in_call_order() -> None:
    node = ToolNode([add, shout])

    out = node({"messages": [calls_message(("shout", {"text": "hi"}), ("add", {"a": 1, "b": 2}))]})

    assert out == {"messages": [
        ToolMessage("HI", tool_call_id="c1", name="shout", id=out["messages"][0].id),
        ToolMessage("3", tool_call_id="c2", name="add", id=out["messages"][1].id),
    ]}


def test_list_input_gives_a_list_of_messages() -> None:
    out = ToolNode([add])([HumanMessage("q"), calls_message(("add", {"a": 2, "b": 2}))])

    assert [m.content for m in out] == ["4"]


def test_sync_tools_run_in_parallel() -> None:
    # Each call waits until the other has started: run one after the other, they would fail.
    barrier = threading.Barrier(2, timeout=30)

    def meet(who: str) -> str:
        barrier.wait()
        return f"{who} met"

    out = ToolNode([meet])([calls_message(("meet", {"who": "a"}), ("meet", {"who": "b"}))])

    assert [(m.content, m.status) for m in out] == [("a met", "success"), ("b met", "success")]


def test_async_tools_run_concurrently() -> None:
    started: list[str] = []
    both = asyncio.Event()

    async def meet(who: str) -> str:
        started.append(who)
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=30)
        return f"{who} met"

    out = ToolNode([meet])([calls_message(("meet", {"who": "a"}), ("meet", {"who": "b"}))])

    assert [m.content for m in out] == ["a met", "b met"]


def test_sync_and_async_tools_mix_in_one_message() -> None:
    async def later(x: int) -> int:
        return x * 10

    out = ToolNode([add, later])([calls_message(("later", {"x": 2}), ("add", {"a": 1, "b": 1}))])

    assert [m.content for m in out] == ["20", "2"]


def test_ainvoke_runs_the_calls_from_async_code() -> None:
    out = asyncio.run(ToolNode([add]).ainvoke([calls_message(("add", {"a": 1, "b": 2}))]))

    assert [m.content for m in out] == ["3"]


def test_by_default_a_raising_tool_fails_the_node() -> None:
    # (as in LangGraph: only a call whose arguments do not fit goes back to the model)
    with pytest.raises(RuntimeError, match="kaput: disk"):
        ToolNode([boom, add])([calls_message(("boom", {"reason": "disk"}),
                                             ("add", {"a": 1, "b": 2}))])


def test_with_handle_tool_errors_a_raising_tool_becomes_an_error_message() -> None:
    out = ToolNode([boom, add], handle_tool_errors=True)([
        calls_message(("boom", {"reason": "disk"}), ("add", {"a": 1, "b": 2}))])

    assert out[0].status == "error"
    assert out[0].tool_call_id == "c1"
    assert out[0].content == "Error: RuntimeError('kaput: disk')\n Please fix your mistakes."
    assert (out[1].content, out[1].status) == ("3", "success")


def test_bad_arguments_become_an_error_message_naming_the_arguments() -> None:
    (out,) = ToolNode([add])([calls_message(("add", {"a": 1}))])

    assert out.status == "error"
    assert out.content == ("Error invoking tool 'add' with kwargs {'a': 1} with error:\n"
                           " b: Field required\n Please fix the error and try again.")


def test_unknown_tool_becomes_an_error_message_naming_the_tools() -> None:
    (out,) = ToolNode([add, shout])([calls_message(("delete", {}))])

    assert out.status == "error"
    assert out.content == "Error: there is no tool named 'delete'. Call one of: 'add', 'shout'."


def test_handle_tool_errors_false_lets_the_error_propagate() -> None:
    with pytest.raises(RuntimeError, match="kaput: x"):
        ToolNode([boom], handle_tool_errors=False)([calls_message(("boom", {"reason": "x"}))])


def test_handle_tool_errors_text_or_function_makes_the_content() -> None:
    message = [calls_message(("boom", {"reason": "x"}))]

    (fixed,) = ToolNode([boom], handle_tool_errors="Try later.")(message)
    (made,) = ToolNode([boom], handle_tool_errors=lambda e: f"got {e}")(message)

    assert (fixed.content, fixed.status) == ("Try later.", "error")
    assert made.content == "got kaput: x"


def test_handle_tool_errors_exception_classes_catch_only_those() -> None:
    message = [calls_message(("boom", {"reason": "x"}))]

    (caught,) = ToolNode([boom], handle_tool_errors=(RuntimeError,))(message)

    assert caught.status == "error"
    with pytest.raises(RuntimeError, match="kaput"):
        ToolNode([boom], handle_tool_errors=KeyError)(message)


def test_results_that_are_not_text_are_sent_as_json() -> None:
    def lookup(key: str) -> dict[str, Any]:
        return {"key": key, "hits": [1, 2]}

    (out,) = ToolNode([lookup])([calls_message(("lookup", {"key": "k"}))])

    assert out.content == '{"key": "k", "hits": [1, 2]}'


def test_tool_may_return_its_own_tool_message() -> None:
    def rich(q: str) -> ToolMessage:
        return ToolMessage(f"found {q}", tool_call_id="", artifact={"raw": q})

    (out,) = ToolNode([rich])([calls_message(("rich", {"q": "x"}))])

    assert (out.content, out.tool_call_id, out.artifact) == ("found x", "c1", {"raw": "x"})


def test_at_tool_objects_run_with_their_name() -> None:
    @tool("plus")
    def add_numbers(a: int, b: int) -> int:
        return a + b

    (out,) = ToolNode([add_numbers])([calls_message(("plus", {"a": 2, "b": 5}))])

    assert (out.content, out.name) == ("7", "plus")


def test_last_message_must_be_an_ai_message() -> None:
    with pytest.raises(ValueError, match=r"must be an AIMessage; it is a 'human' message"):
        ToolNode([add])([HumanMessage("hi")])


def test_state_without_the_messages_key_raises_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"found no 'messages' key in its input \(keys: \['x'\]\)"):
        ToolNode([add])({"x": 1})


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(ValueError, match="Two tools are named 'add'"):
        ToolNode([add, tool("add")(shout)])


def test_tools_condition_routes_to_tools_only_when_calls_are_asked() -> None:
    asked = calls_message(("add", {"a": 1, "b": 2}))

    assert tools_condition({"messages": [HumanMessage("q"), asked]}) == "tools"
    assert tools_condition([asked]) == "tools"
    assert tools_condition({"messages": [AIMessage("done")]}) == END
    assert tools_condition([HumanMessage("q")]) == END


def test_tools_condition_with_no_messages_raises() -> None:
    with pytest.raises(ValueError, match="found no messages"):
        tools_condition({"messages": []})


def agent_graph(model: ScriptedChatModel, tools: list[Any]) -> Any:
    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node(ToolNode(tools, handle_tool_errors=True))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver())


def test_agent_loop_runs_tools_and_returns_to_the_model(run: Any, config: Any) -> None:
    model = ScriptedChatModel(responses=[
        {"tool_calls": [{"name": "add", "args": {"a": 20, "b": 22}, "id": "c1"},
                        {"name": "boom", "args": {"reason": "no disk"}, "id": "c2"}]},
        "The sum is 42; the other tool failed.",
    ])

    result = run.invoke(agent_graph(model, [add, boom]), {"messages": [("user", "go")]}, config)

    assert [m.type for m in result["messages"]] == ["human", "ai", "tool", "tool", "ai"]
    assert [(m.content[:14], m.status) for m in result["messages"][2:4]] == [
        ("42", "success"), ("Error: Runtime", "error")]
    assert model.calls[1][-1].tool_call_id == "c2"
    assert result["messages"][-1].content == "The sum is 42; the other tool failed."


def test_injected_arguments_are_hidden_from_the_model_and_filled_in() -> None:
    @tool
    def note(text: str, topic: Annotated[str, InjectedState("topic")],
             state: Annotated[dict[str, Any], InjectedState], runtime: ToolRuntime) -> str:
        """Take a note."""
        return f"{text} {topic} {sorted(state)} {runtime.tool_call_id}"

    assert list(note.args_schema["properties"]) == ["text"]
    ask = calls_message(("note", {"text": "hi", "topic": "forged"}))
    out = ToolNode([note])({"messages": [ask], "topic": "cats"})
    assert out["messages"][0].content == "hi cats ['messages', 'topic'] c1"


def test_an_injected_key_the_state_lacks_names_it() -> None:
    def note(text: str, topic: Annotated[str, InjectedState("topic")]) -> str:
        return text

    with pytest.raises(KeyError, match="Tool 'note' takes state key 'topic'"):
        ToolNode([note])({"messages": [calls_message(("note", {"text": "hi"}))]})


def test_an_injected_store_without_one_says_to_compile_with_a_store() -> None:
    def keep(text: str, store: Annotated[Any, InjectedStore()]) -> str:
        return text

    with pytest.raises(ValueError, match=r"compile\(store=InMemoryStore\(\)\)"):
        ToolNode([keep])({"messages": [calls_message(("keep", {"text": "hi"}))]})
