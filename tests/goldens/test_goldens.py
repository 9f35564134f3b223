"""Checkpoints written by this version of the serializer must stay readable: each stored blob in
serde_v1.json decodes to the value it was made from. A failing test here means a format change:
add a new golden file for the new format instead of editing this one."""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.checkpoint.serde import MsgpackSerializer
from hitlgraph.messages import AIMessage, HumanMessage, ToolMessage
from hitlgraph.types import Command, Interrupt, Send

GOLDENS = json.loads((Path(__file__).parent / "serde_v1.json").read_text())

EXPECTED: dict[str, Any] = {
    "primitives": {"s": "x", "i": 7, "f": 1.5, "b": True, "n": None, "l": [1, "a"]},
    "bytes": b"\x00\x01raw",
    "datetime_utc": datetime.datetime(2026, 11, 25, 12, 0, 0, 123456,
                                      tzinfo=datetime.timezone.utc),
    "date": datetime.date(2026, 11, 25),
    "timedelta": datetime.timedelta(days=2, seconds=5),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": decimal.Decimal("12.50"),
    "set": {1, 2, 3},
    "tuple": (1, (2, "x")),
    "interrupt": Interrupt(value={"q": "ok?"}, id="0" * 32),
    "send": Send("node", {"i": 1}),
    "command": Command(resume="yes"),
    "messages": [
        HumanMessage("hi", id="h1"),
        AIMessage("hello", id="a1", tool_calls=[{"name": "t", "args": {"x": 1}, "id": "c1"}]),
        ToolMessage("done", tool_call_id="c1", id="t1"),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_blob_of_format_v1_still_decodes(name: str) -> None:
    stored = GOLDENS[name]
    value = MsgpackSerializer().loads_typed((stored["tag"], base64.b64decode(stored["data"])))

    assert value == EXPECTED[name]
    assert type(value) is type(EXPECTED[name])


def test_every_golden_has_an_expected_value() -> None:
    assert sorted(GOLDENS) == sorted(EXPECTED)
