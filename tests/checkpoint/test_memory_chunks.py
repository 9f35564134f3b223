"""InMemorySaver packs a long list a slice at a time (checkpoint/_memory_chunks.py): the bytes are
those of the serializer's dumps_typed, and no ormsgpack buffer of the way grows past 64 KiB."""

from __future__ import annotations

import datetime
import enum
import operator
import uuid
from typing import Annotated, Any, TypedDict

import ormsgpack
import pytest

from hitlgraph.checkpoint._memory_chunks import LONG_LIST, dumps_value
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.serde import MsgpackSerializer
from hitlgraph.checkpoint.serde._errors import SerializationError
from hitlgraph.graph import END, START, StateGraph


class Colour(enum.Enum):
    RED = "red"


def _mixed(n: int) -> list[Any]:
    kinds: list[Any] = [
        "text", 7, 2**70, -1.5, None, True, b"raw", {"a": [1, (2, 3)]}, (4, "five"),
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        uuid.UUID(int=5), Colour.RED, {1: "int key"}, ["nested", {"deep": None}], "x" * 5000,
    ]
    return [kinds[i % len(kinds)] for i in range(n)]


@pytest.mark.parametrize("value", [
    [f"{k:08d}".ljust(200, "m") for k in range(2000)],
    _mixed(LONG_LIST),
    _mixed(700),
    ["y" * 70_000, *(["z"] * 300)],  # an item over the piece size
    list(range(LONG_LIST - 1)),  # short: packed whole
    [],
])
def test_pieces_give_the_serializers_bytes(value: list[Any]) -> None:
    serde = MsgpackSerializer()
    assert dumps_value(serde, value) == serde.dumps_typed(value)
    assert serde.loads_typed(dumps_value(serde, value)) == serde.loads_typed(
        serde.dumps_typed(value))


def test_a_value_that_cannot_be_packed_fails_as_the_serializer_says() -> None:
    serde = MsgpackSerializer()
    value: list[Any] = ["ok"] * 300 + [object()]
    with pytest.raises(SerializationError) as whole:
        serde.dumps_typed(value)
    with pytest.raises(SerializationError) as pieces:
        dumps_value(serde, value)
    assert str(pieces.value) == str(whole.value)
    # nothing left behind: the next value packs as before
    assert dumps_value(serde, ["a"] * 300) == serde.dumps_typed(["a"] * 300)


def test_another_serializer_is_called_as_it_is() -> None:
    class Tagged(MsgpackSerializer):
        def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
            return "tagged", b"x"

    assert dumps_value(Tagged(), ["a"] * 500) == ("tagged", b"x")


def test_no_ormsgpack_buffer_grows_past_64_kib(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    packb = ormsgpack.packb

    def counted(*args: Any, **kwargs: Any) -> bytes:
        out = packb(*args, **kwargs)
        sizes.append(len(out))
        return out

    monkeypatch.setattr(ormsgpack, "packb", counted)
    value = [f"{k:08d}".ljust(200, "m") for k in range(2000)]  # 400 KiB packed
    assert len(dumps_value(MsgpackSerializer(), value)[1]) > 400_000
    assert sizes and max(sizes) <= 64 * 1024


def test_a_growing_list_reads_back_from_the_saver() -> None:
    """A list that passes LONG_LIST and 64 KiB while a thread runs: every checkpoint's value."""
    class State(TypedDict):
        items: Annotated[list[str], operator.add]

    def step(state: State) -> dict[str, list[str]]:
        return {"items": [f"{len(state['items']):08d}".ljust(200, "m")]}

    builder = StateGraph(State)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: "step" if len(s["items"]) < 400 else END,
                                  ["step", END])
    graph = builder.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}, "recursion_limit": 500}
    graph.invoke({"items": []}, config)
    want = [f"{k:08d}".ljust(200, "m") for k in range(400)]
    history = list(graph.get_state_history(config))
    assert [s.values["items"] for s in history] == [want[:n] for n in range(400, -1, -1)] + [[]]
    assert graph.get_state(config).values["items"] == want
