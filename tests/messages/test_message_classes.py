"""The message classes: ids, types, immutability, streamed chunks, and exact storage."""

from __future__ import annotations

import dataclasses
import functools
import operator
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from hitlgraph.checkpoint.serde import MsgpackSerializer
from hitlgraph.checkpoint.serde._registry import DEFAULT_REGISTRY
from hitlgraph.messages import (
    REMOVE_ALL_MESSAGES,
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
    message_chunk_to_message,
)

SRC = Path(__file__).resolve().parents[2] / "src"


def test_message_without_id_gets_a_uuid() -> None:
    first, second = HumanMessage("hi"), HumanMessage("hi")

    assert first.id is not None and uuid.UUID(first.id)
    assert first.id != second.id


def test_message_keeps_the_id_it_is_given() -> None:
    assert HumanMessage("hi", id="m1").id == "m1"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (HumanMessage("a"), "human"),
        (AIMessage("a"), "ai"),
        (ToolMessage("a", tool_call_id="c1"), "tool"),
        (SystemMessage("a"), "system"),
        (RemoveMessage(id="x"), "remove"),
        (AIMessageChunk("a"), "AIMessageChunk"),
    ],
)
def test_each_class_has_its_langchain_type_name(message: object, kind: str) -> None:
    assert message.type == kind  # type: ignore[attr-defined]


def test_messages_have_name_and_provider_dicts() -> None:
    message = AIMessage("a", name="bot", additional_kwargs={"k": 1},
                        response_metadata={"model": "m"})

    assert (message.name, message.additional_kwargs, message.response_metadata) == (
        "bot", {"k": 1}, {"model": "m"})
    assert HumanMessage("a").additional_kwargs == {} == HumanMessage("a").response_metadata


def test_messages_are_frozen_and_replace_keeps_the_id() -> None:
    message = HumanMessage("draft", id="m1")

    with pytest.raises(dataclasses.FrozenInstanceError):
        message.content = "changed"  # type: ignore[misc]
    changed = dataclasses.replace(message, content="final")

    assert (changed.id, changed.content, message.content) == ("m1", "final", "draft")


def test_equal_messages_compare_equal_and_other_classes_do_not() -> None:
    assert HumanMessage("a", id="1") == HumanMessage("a", id="1")
    assert HumanMessage("a", id="1") != SystemMessage("a", id="1")


def test_ai_message_tool_calls_are_name_args_id_dicts() -> None:
    message = AIMessage("", tool_calls=[{"name": "search", "args": {"q": "x"}, "id": "c1",
                                         "type": "tool_call"}])

    assert message.tool_calls == [{"name": "search", "args": {"q": "x"}, "id": "c1"}]


def test_ai_message_rejects_a_tool_call_without_name() -> None:
    with pytest.raises(TypeError, match="needs a str 'name' and a dict 'args'"):
        AIMessage("", tool_calls=[{"args": {}}])  # type: ignore[typeddict-item]


def test_tool_message_status_is_success_or_error() -> None:
    assert ToolMessage("ok", tool_call_id="c1").status == "success"
    assert ToolMessage("bad", tool_call_id="c1", status="error").status == "error"
    with pytest.raises(ValueError, match="'success' or 'error', got 'failed'"):
        ToolMessage("x", tool_call_id="c1", status="failed")  # type: ignore[arg-type]


def test_remove_message_needs_an_id_and_no_content() -> None:
    with pytest.raises(TypeError, match="needs the id of the message to remove"):
        RemoveMessage()
    with pytest.raises(ValueError, match="takes no content"):
        RemoveMessage("text", id="x")
    assert RemoveMessage(id=REMOVE_ALL_MESSAGES).id == "__remove_all__"


def test_text_joins_the_text_pieces_of_list_content() -> None:
    message = HumanMessage(["Hello, ", {"type": "text", "text": "world"},
                            {"type": "image", "url": "x"}])

    assert message.text == "Hello, world"
    assert HumanMessage("plain").text == "plain"


def test_repr_shows_content_id_and_only_the_fields_that_are_set() -> None:
    assert repr(HumanMessage("hi", id="1")) == "HumanMessage(content='hi', id='1')"
    assert repr(ToolMessage("r", tool_call_id="c", id="2")) == (
        "ToolMessage(content='r', id='2', tool_call_id='c')")


def test_pretty_repr_shows_title_content_and_tool_calls() -> None:
    message = AIMessage("Let me look.", tool_calls=[{"name": "search", "args": {"q": "x"},
                                                     "id": "c1"}])

    text = message.pretty_repr()

    assert " AI " in text.splitlines()[0]
    assert "Let me look." in text
    assert 'search({"q": "x"})  [id: c1]' in text


def test_chunks_add_up_content_and_keep_the_first_id() -> None:
    total = AIMessageChunk("Hel", id="m1") + AIMessageChunk("lo", id="m1") + AIMessageChunk(
        "!", id="m1", tool_calls=[{"name": "f", "args": {}, "id": "c1"}])

    assert isinstance(total, AIMessageChunk)
    assert (total.content, total.id) == ("Hello!", "m1")
    assert total.tool_calls == [{"name": "f", "args": {}, "id": "c1"}]
    assert message_chunk_to_message(total) == AIMessage(
        "Hello!", id="m1", tool_calls=[{"name": "f", "args": {}, "id": "c1"}])


def test_streamed_tool_call_pieces_join_by_index_into_a_tool_call() -> None:
    pieces = [
        AIMessageChunk("", id="m", tool_call_chunks=[
            {"name": "search", "args": '{"q": ', "id": "c1", "index": 0}]),
        AIMessageChunk("", id="m", tool_call_chunks=[
            {"name": None, "args": '"cats"}', "id": None, "index": 0}]),
    ]

    total = functools.reduce(operator.add, pieces)

    assert total.tool_calls == [{"name": "search", "args": {"q": "cats"}, "id": "c1"}]
    assert pieces[0].tool_calls == []
    assert pieces[0].invalid_tool_calls[0]["error"].startswith("arguments are not valid JSON")


def test_chunk_metadata_merges_and_usage_adds_up() -> None:
    total = AIMessageChunk("a", response_metadata={"model": "m"},
                           usage_metadata={"input_tokens": 3, "output_tokens": 1}) + \
        AIMessageChunk("b", response_metadata={"finish_reason": "stop"},
                       usage_metadata={"input_tokens": 0, "output_tokens": 2})

    assert total.response_metadata == {"model": "m", "finish_reason": "stop"}
    assert total.usage_metadata == {"input_tokens": 3, "output_tokens": 3}


ALL_KINDS = [
    HumanMessage("hi", name="ann", additional_kwargs={"x": (1, 2)}),
    AIMessage("", tool_calls=[{"name": "f", "args": {"n": 1, "when": (2024, 1)}, "id": "c1"}],
              usage_metadata={"total_tokens": 3}, response_metadata={"model": "m"}),
    AIMessageChunk("pi", tool_call_chunks=[{"name": "f", "args": "{}", "id": "c", "index": 0}]),
    ToolMessage(["block", {"type": "text", "text": "t"}], tool_call_id="c1", status="error",
                artifact={"rows": [1, 2]}),
    SystemMessage("be brief"),
    RemoveMessage(id="m9"),
]


@pytest.mark.parametrize("message", ALL_KINDS, ids=lambda m: type(m).__name__)
def test_serializer_round_trips_every_message_class_exactly(message: object) -> None:
    serde = MsgpackSerializer()

    back = serde.loads_typed(serde.dumps_typed([message]))

    assert back == [message]
    assert type(back[0]) is type(message)


@pytest.mark.parametrize("message", ALL_KINDS, ids=lambda m: type(m).__name__)
def test_message_classes_are_registered_under_stable_names(message: object) -> None:
    entry = DEFAULT_REGISTRY.for_name(f"hitlgraph.messages.{type(message).__name__}")

    assert entry is not None and entry.cls is type(message)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC),
                                                               os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def test_importing_hitlgraph_loads_no_langchain_core() -> None:
    proc = _python(
        "import sys, hitlgraph, hitlgraph.messages, hitlgraph.prebuilt, hitlgraph.graph\n"
        "assert 'langchain_core' not in sys.modules, 'langchain_core was imported'\n"
        "print('ok')"
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_another_process_reads_stored_messages_after_import_hitlgraph() -> None:
    blob = MsgpackSerializer().dumps_typed(ALL_KINDS)

    proc = _python(
        "import hitlgraph\n"
        "from hitlgraph.checkpoint.serde import MsgpackSerializer\n"
        f"values = MsgpackSerializer().loads_typed(({blob[0]!r}, {blob[1]!r}))\n"
        "print([type(v).__name__ for v in values])"
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str([type(m).__name__ for m in ALL_KINDS])
