"""ScriptedChatModel: scripted answers in order, streamed as word pieces that add up."""

from __future__ import annotations

import asyncio
import functools
import operator
from typing import Any

import pytest

from hitlgraph.messages import AIMessage, AIMessageChunk, HumanMessage
from hitlgraph.prebuilt import ScriptedChatModel, ScriptExhaustedError


def test_invoke_returns_the_answers_in_order_and_records_the_input() -> None:
    first = AIMessage("one", id="a1")
    model = ScriptedChatModel(responses=[first, "two"])
    history = [HumanMessage("hi")]

    answers = [model.invoke(history), model.invoke(history)]

    assert answers[0] is first
    assert (type(answers[1]), answers[1].content) == (AIMessage, "two")
    assert model.calls == [history, history]
    assert model.remaining == 0


def test_string_and_dict_answers_get_fixed_ids_and_tool_call_ids() -> None:
    model = ScriptedChatModel(responses=[
        {"content": "Looking.", "tool_calls": [{"name": "search", "args": {"q": "x"}}]},
    ])

    answer = model.responses[0]

    assert answer.id and answer.content == "Looking."
    assert answer.tool_calls[0]["name"] == "search"
    assert answer.tool_calls[0]["id"] and answer.tool_calls[0]["id"].startswith("call_")
    assert model.invoke([]) is answer


def test_dict_answer_with_unknown_keys_is_refused() -> None:
    with pytest.raises(ValueError, match=r"Scripted response 0 has unknown keys \['text'\]"):
        ScriptedChatModel(responses=[{"text": "hi"}])


def test_asking_past_the_end_of_the_script_raises() -> None:
    model = ScriptedChatModel(responses=["only"])
    model.invoke([])

    with pytest.raises(ScriptExhaustedError, match="its script has 1 and all were used"):
        model.invoke([])


def test_stream_yields_word_pieces_that_add_up_to_the_answer() -> None:
    answer = AIMessage("Sunny and  warm today.", id="m1", response_metadata={"model": "s"})
    model = ScriptedChatModel(responses=[answer])

    chunks = list(model.stream([HumanMessage("weather?")]))

    assert [c.content for c in chunks] == ["Sunny", " and", "  warm", " today."]
    assert all(isinstance(c, AIMessageChunk) and c.id == "m1" for c in chunks)
    assert functools.reduce(operator.add, chunks).to_message() == answer


def test_stream_puts_tool_calls_in_the_last_piece() -> None:
    answer = AIMessage("Let me check.", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c"}])
    chunks = list(ScriptedChatModel(responses=[answer]).stream([]))

    assert [c.tool_calls for c in chunks] == [[], [], [{"name": "f", "args": {"x": 1}, "id": "c"}]]
    assert functools.reduce(operator.add, chunks).to_message() == answer


def test_stream_of_an_empty_answer_with_tool_calls_is_one_piece() -> None:
    answer = AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "c"}])

    chunks = list(ScriptedChatModel(responses=[answer]).stream([]))

    assert len(chunks) == 1
    assert chunks[0].to_message() == answer


def test_async_invoke_and_stream() -> None:
    model = ScriptedChatModel(responses=["a b", "c"])

    async def both() -> tuple[list[Any], Any]:
        pieces = [c.content async for c in model.astream([])]
        return pieces, await model.ainvoke([])

    pieces, last = asyncio.run(both())

    assert pieces == ["a", " b"]
    assert last.content == "c"


def test_bind_tools_returns_the_same_model() -> None:
    model = ScriptedChatModel(responses=[])

    assert model.bind_tools([len]) is model
    assert model.bound_tools == [len]


def test_scripted_model_streams_its_tokens_in_messages_mode_inside_a_node() -> None:
    from hitlgraph.checkpoint.memory import InMemorySaver
    from hitlgraph.graph import START, MessagesState, StateGraph

    model = ScriptedChatModel(responses=["Hello there, how are you?"])

    def chat(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = (StateGraph(MessagesState).add_node("chat", chat).add_edge(START, "chat")
             .compile(checkpointer=InMemorySaver()))
    chunks = list(graph.stream({"messages": [("user", "hi")]},
                               {"configurable": {"thread_id": "1"}}, stream_mode="messages"))

    assert "".join(c.content for c, _ in chunks) == "Hello there, how are you?"
    assert len(chunks) == 5  # token by token, and the whole message is not repeated
    assert all(meta["langgraph_node"] == "chat" for _, meta in chunks)
    assert graph.get_state({"configurable": {"thread_id": "1"}}).values["messages"][-1].content \
        == "Hello there, how are you?"
