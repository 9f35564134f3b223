"""add_messages: append, replace by id, remove, remove all, and message-like values."""

from __future__ import annotations

from typing import Any

import pytest

from hitlgraph.graph.message import REMOVE_ALL_MESSAGES, add_messages
from hitlgraph.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)


def contents(messages: list[Any]) -> list[Any]:
    return [m.content for m in messages]


def test_new_messages_are_appended_in_order() -> None:
    merged = add_messages([HumanMessage("a", id="1")],
                          [AIMessage("b", id="2"), HumanMessage("c", id="3")])

    assert contents(merged) == ["a", "b", "c"]
    assert [m.id for m in merged] == ["1", "2", "3"]


def test_single_message_on_either_side_is_accepted() -> None:
    assert contents(add_messages(HumanMessage("a"), AIMessage("b"))) == ["a", "b"]


def test_message_with_existing_id_replaces_it_in_place() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("draft", id="2"), HumanMessage("c", id="3")]

    merged = add_messages(left, AIMessage("final", id="2"))

    assert contents(merged) == ["a", "final", "c"]
    assert contents(left) == ["a", "draft", "c"]


def test_later_message_with_the_same_id_in_one_update_wins() -> None:
    merged = add_messages([], [HumanMessage("x", id="1"), HumanMessage("y", id="1")])

    assert contents(merged) == ["y"]


def test_remove_message_removes_the_message_with_its_id() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]

    assert contents(add_messages(left, RemoveMessage(id="1"))) == ["b"]


def test_remove_message_can_remove_a_message_added_in_the_same_update() -> None:
    merged = add_messages([HumanMessage("a", id="1")],
                          [AIMessage("b", id="2"), RemoveMessage(id="2")])

    assert contents(merged) == ["a"]


def test_message_removed_and_added_again_goes_to_the_end() -> None:
    merged = add_messages([HumanMessage("a", id="1"), AIMessage("b", id="2")],
                          [RemoveMessage(id="1"), HumanMessage("a2", id="1")])

    assert contents(merged) == ["b", "a2"]


def test_removing_a_missing_id_raises_naming_the_id() -> None:
    with pytest.raises(ValueError, match=r"Cannot remove message 'nope': no message with that "
                                         r"id is in the list \(ids '1'\)"):
        add_messages([HumanMessage("a", id="1")], RemoveMessage(id="nope"))


def test_removing_from_an_empty_list_says_it_is_empty() -> None:
    with pytest.raises(ValueError, match=r"'gone'.*\(it is empty\)"):
        add_messages([], [RemoveMessage(id="gone")])


def test_remove_all_clears_the_list_and_keeps_what_follows_it() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]

    merged = add_messages(left, [HumanMessage("dropped"), RemoveMessage(id=REMOVE_ALL_MESSAGES),
                                 SystemMessage("summary", id="s")])

    assert contents(merged) == ["summary"]


def test_remove_all_alone_gives_an_empty_list() -> None:
    assert add_messages([HumanMessage("a")], [RemoveMessage(id=REMOVE_ALL_MESSAGES)]) == []


def test_plain_string_becomes_a_human_message_with_an_id() -> None:
    (message,) = add_messages([], "hello")

    assert isinstance(message, HumanMessage)
    assert message.content == "hello" and message.id


@pytest.mark.parametrize(
    ("value", "cls"),
    [
        (("user", "u"), HumanMessage),
        (("human", "u"), HumanMessage),
        (("assistant", "a"), AIMessage),
        (("ai", "a"), AIMessage),
        (("system", "s"), SystemMessage),
        (("developer", "s"), SystemMessage),
        ({"role": "user", "content": "u"}, HumanMessage),
        ({"type": "ai", "content": "a"}, AIMessage),
        ({"role": "system", "content": "s"}, SystemMessage),
        ({"role": "tool", "content": "r", "tool_call_id": "c1"}, ToolMessage),
    ],
)
def test_tuples_and_dicts_become_messages_by_role(value: Any, cls: type) -> None:
    (message,) = add_messages([], [value])

    assert type(message) is cls
    assert message.id


def test_dict_keeps_id_name_and_tool_fields() -> None:
    ai, tool = add_messages([], [
        {"role": "assistant", "content": "", "id": "a1", "name": "bot",
         "tool_calls": [{"name": "f", "args": {"x": 1}, "id": "c1"}]},
        {"role": "tool", "content": "done", "tool_call_id": "c1", "status": "error"},
    ])

    assert (ai.id, ai.name, ai.tool_calls) == ("a1", "bot",
                                               [{"name": "f", "args": {"x": 1}, "id": "c1"}])
    assert (tool.tool_call_id, tool.status) == ("c1", "error")


def test_openai_style_tool_calls_in_a_dict_are_parsed() -> None:
    (ai,) = add_messages([], {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function",
         "function": {"name": "search", "arguments": '{"q": "cats"}'}},
        {"id": "c2", "type": "function", "function": {"name": "bad", "arguments": "{oops"}},
    ]})

    assert ai.tool_calls == [{"name": "search", "args": {"q": "cats"}, "id": "c1"}]
    assert ai.invalid_tool_calls[0]["id"] == "c2"


def test_unknown_role_raises_naming_the_roles() -> None:
    with pytest.raises(ValueError, match=r"Unknown message role 'robot'; use one of 'human', "
                                         r"'user', 'ai'"):
        add_messages([], [("robot", "beep")])


def test_tool_dict_without_tool_call_id_raises() -> None:
    with pytest.raises(ValueError, match="needs a 'tool_call_id'"):
        add_messages([], {"role": "tool", "content": "r"})


def test_tool_tuple_raises_pointing_to_a_dict() -> None:
    with pytest.raises(ValueError, match=r"cannot make a ToolMessage; pass a dict"):
        add_messages([], [("tool", "r")])


def test_a_value_that_is_no_message_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"Cannot turn 42 into a message"):
        add_messages([], [42])


def test_dict_remove_message_removes_by_id() -> None:
    merged = add_messages([HumanMessage("a", id="1")], {"type": "remove", "id": "1"})

    assert merged == []


def test_streamed_chunks_are_stored_as_whole_ai_messages() -> None:
    (message,) = add_messages([], AIMessageChunk("hi", id="m1"))

    assert type(message) is AIMessage
    assert message == AIMessage("hi", id="m1")


def test_inputs_are_not_changed() -> None:
    left = [HumanMessage("a", id="1")]
    right = [RemoveMessage(id="1")]

    add_messages(left, right)

    assert left == [HumanMessage("a", id="1")] and right == [RemoveMessage(id="1")]
