"""Tests of hitlgraph.checkpoint.serde: exact round trips, the type allowlist, errors."""

from __future__ import annotations

import builtins
import collections
import dataclasses
import datetime as dt
import enum
import fractions
import importlib
import sys
import uuid
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import ormsgpack
import pytest

from hitlgraph.checkpoint.serde import (
    MsgpackSerializer,
    PickleNotAllowedError,
    SerializationError,
    SerializerProtocol,
    UnknownTypeError,
    dumps_channel,
    register_type,
)
from hitlgraph.types import Command, Interrupt, Send

EXT_OBJECT = 13  # extension code of registered classes (see _codec.py)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Point:
    x: int
    y: int
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Stamped:
    value: Any
    at: dt.datetime
    derived: int = dataclasses.field(init=False, default=0)


class Pair(NamedTuple):
    left: Any
    right: Any


class Opaque:
    """A class nobody registered, with no way to serialize it."""


class Money:
    """A plain class: needs custom encode/decode."""

    def __init__(self, cents: int, currency: str) -> None:
        self.cents = cents
        self.currency = currency

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Money)
            and (self.cents, self.currency) == (other.cents, other.currency)
        )

    def __hash__(self) -> int:
        return hash((self.cents, self.currency))


def roundtrip(value: Any, serde: MsgpackSerializer | None = None) -> Any:
    serde = serde or MsgpackSerializer()
    return serde.loads_typed(serde.dumps_typed(value))


def assert_same(result: Any, expected: Any) -> None:
    """Equal, and of exactly the same types all the way down (for containers)."""
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(expected, dict):
        for (rk, rv), (ek, ev) in zip(result.items(), expected.items(), strict=True):
            assert_same(rk, ek)
            assert_same(rv, ev)
    elif isinstance(expected, (list, tuple)):
        for r, e in zip(result, expected, strict=True):
            assert_same(r, e)


def object_payload(name: str, state: Any) -> bytes:
    """Hand-made msgpack bytes naming class `name` (what a tampered database might hold)."""
    return ormsgpack.packb(ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb([name, state])))


# --- round trips of built-in types -------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"x": 1, "log": ["a", "b"]},
        [1, 2.5, "three", True, False, None, {"nested": {"deep": [[]]}}],
        "",
        0,
        -(2**63),
        2**64 - 1,
        3.25,
        float("inf"),
        True,
        {},
        [],
    ],
)
def test_plain_json_like_values_round_trip(value: Any) -> None:
    assert_same(roundtrip(value), value)


def test_plain_values_never_call_the_default_hook() -> None:
    serde = MsgpackSerializer()

    def fail(obj: Any) -> Any:
        raise AssertionError(f"default hook called for {obj!r}")

    serde._default = fail
    value = {"x": 1, "log": ["a", "b"], "n": None, "f": 1.5, "ok": True}
    assert serde.dumps_typed(value)[0] == "msgpack"
    assert serde.loads_typed(serde.dumps_typed(value)) == value


def test_none_and_bytes_use_their_own_tags() -> None:
    serde = MsgpackSerializer()
    assert serde.dumps_typed(None) == ("null", b"")
    assert serde.dumps_typed(b"\x00raw") == ("bytes", b"\x00raw")
    assert serde.loads_typed(("null", b"")) is None
    assert_same(roundtrip(b"\x00raw"), b"\x00raw")


def test_bytearray_round_trips_at_top_level_and_as_bytes_when_nested() -> None:
    assert_same(roundtrip(bytearray(b"ab")), bytearray(b"ab"))
    assert_same(roundtrip({"b": b"xy"}), {"b": b"xy"})
    # msgpack packs nested bytearrays natively, as bin: documented to come back as bytes.
    assert roundtrip([bytearray(b"cd")]) == [b"cd"]


def test_tuples_stay_tuples_even_when_nested() -> None:
    value = {"t": (1, (2, [3, (4, ())]), "x"), "l": [(1,), [(2, 3)]], "e": ()}
    assert_same(roundtrip(value), value)


def test_sets_and_frozensets_round_trip() -> None:
    value = [{1, 2, 3}, frozenset({"a", (1, 2)}), {frozenset({1}), frozenset()}, set()]
    result = roundtrip(value)
    assert result == value
    assert [type(v) for v in result] == [set, frozenset, set, set]
    assert all(type(v) is frozenset for v in result[2])
    assert (1, 2) in result[1]


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 1, 2, 3, 4, 5, 678901),
        dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        dt.datetime(2024, 1, 2, tzinfo=dt.timezone(-dt.timedelta(hours=3), "BRT")),
        dt.datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("Europe/Paris")),
        dt.datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=1),
    ],
    ids=["naive", "utc", "fixed-offset", "named-offset", "zoneinfo", "zoneinfo-fold"],
)
def test_datetimes_keep_their_time_zone(value: dt.datetime) -> None:
    result = roundtrip(value)
    assert_same(result, value)
    assert result.tzinfo == value.tzinfo
    assert result.tzname() == value.tzname()
    assert result.utcoffset() == value.utcoffset()
    assert result.fold == value.fold


def test_zoneinfo_is_rebuilt_by_key() -> None:
    result = roundtrip(dt.datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert isinstance(result.tzinfo, ZoneInfo)
    assert result.tzinfo.key == "Asia/Tokyo"


def test_other_tzinfo_is_kept_as_its_fixed_offset() -> None:
    class Plus2(dt.tzinfo):
        def utcoffset(self, d: dt.datetime | None) -> dt.timedelta:
            return dt.timedelta(hours=2)

        def dst(self, d: dt.datetime | None) -> dt.timedelta:
            return dt.timedelta(0)

    value = dt.datetime(2024, 1, 1, 12, tzinfo=Plus2())
    result = roundtrip(value)
    assert result == value
    assert result.utcoffset() == dt.timedelta(hours=2)


@pytest.mark.parametrize(
    "value",
    [
        dt.date(1999, 12, 31),
        dt.time(23, 59, 59, 999999),
        dt.time(8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
        dt.time(8, 0, tzinfo=ZoneInfo("Europe/Paris")),
        dt.timedelta(days=-3, seconds=5, microseconds=7),
        dt.timedelta(0),
    ],
)
def test_dates_times_and_timedeltas_round_trip(value: Any) -> None:
    result = roundtrip(value)
    assert_same(result, value)
    if isinstance(value, dt.time):
        assert result.tzinfo == value.tzinfo


@pytest.mark.parametrize(
    "value",
    [
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        uuid.uuid4(),
        Decimal("1.10"),
        Decimal("-0"),
        Decimal("1E+3"),
        Decimal("Infinity"),
        complex(1.5, -2),
        2**64,
        -(2**63) - 1,
        10**40,
        -(10**40),
    ],
)
def test_uuid_decimal_complex_and_big_ints_round_trip(value: Any) -> None:
    result = roundtrip(value)
    assert_same(result, value)
    if isinstance(value, Decimal):
        assert str(result) == str(value)


def test_decimal_nan_round_trips() -> None:
    result = roundtrip(Decimal("NaN"))
    assert type(result) is Decimal
    assert result.is_nan()


def test_dicts_with_non_str_keys_round_trip_exactly() -> None:
    value = {
        1: "int",
        2.5: "float",
        None: "none",
        b"k": "bytes",
        (1, "a"): "tuple",
        ((1, 2), (3,)): "nested tuple",
        frozenset({1, 2}): "frozenset",
        dt.date(2020, 1, 1): "date",
        dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc): "datetime",
        uuid.UUID(int=7): "uuid",
        Color.RED: "enum",
        10**30: "big int",
        "s": {3: {(4,): [5]}},
    }
    assert_same(roundtrip(value), value)


def test_bool_keys_round_trip() -> None:
    assert_same(roundtrip({True: "yes", False: "no"}), {True: "yes", False: "no"})


def test_int_keyed_dict_inside_a_tuple_round_trips() -> None:
    value = ({1: "a"}, [{2: (3, {4: 5})}])
    assert_same(roundtrip(value), value)


# --- registered classes ------------------------------------------------------------------


def test_enum_round_trips_as_its_member() -> None:
    value = {"color": Color.BLUE, "levels": [Level.HIGH, Level.LOW]}
    result = roundtrip(value)
    assert result["color"] is Color.BLUE
    assert result["levels"][0] is Level.HIGH
    assert result["levels"][1] is Level.LOW


def test_dataclass_nested_in_dict_in_list_round_trips() -> None:
    value = [{"p": Point(1, 2, ("a", "b")), "more": [Point(3, 4)]}, Point(5, 6)]
    result = roundtrip(value)
    assert result == value
    assert type(result[0]["p"]) is Point
    assert type(result[0]["p"].tags) is tuple


def test_frozen_dataclass_with_init_false_field_round_trips() -> None:
    value = Stamped({"k": (1,)}, dt.datetime(2024, 5, 6, tzinfo=dt.timezone.utc))
    object.__setattr__(value, "derived", 42)
    result = roundtrip(value)
    assert result == value
    assert result.derived == 42
    assert type(result.value["k"]) is tuple


def test_namedtuple_round_trips_as_itself() -> None:
    value = {"pair": Pair(left=(1, 2), right=Pair("a", None))}
    result = roundtrip(value)
    assert result == value
    assert type(result["pair"]) is Pair
    assert type(result["pair"].right) is Pair
    assert type(result["pair"].left) is tuple


def test_pydantic_model_round_trips_with_nested_models() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Address(pydantic.BaseModel):
        city: str
        coords: tuple[float, float] = (0.0, 0.0)

    class Person(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")
        name: str
        address: Address | None = None
        nickname: str = pydantic.Field(default="", alias="nick")
        color: Color = Color.RED

    value = Person(name="Ada", address=Address(city="London", coords=(51.5, -0.1)), nick="A")
    value_with_extra = Person(name="Bob", extra_field=(1, 2))
    for person in (value, value_with_extra):
        result = roundtrip({"people": [person]})["people"][0]
        assert result == person
        assert type(result) is Person
        assert result.model_fields_set == person.model_fields_set
    assert type(roundtrip(value).address) is Address
    assert type(roundtrip(value).address.coords) is tuple
    assert roundtrip(value_with_extra).model_extra == {"extra_field": (1, 2)}


def test_hitlgraph_types_round_trip() -> None:
    value = [
        Interrupt(value={"question": "ok?"}, id="abc"),
        Send("node", {"arg": (1, 2)}),
        Command(update={"x": 1}, resume={"abc": "yes"}, goto=[Send("a", 1), "b"]),
        Command(graph=Command.PARENT, goto="end"),
    ]
    result = roundtrip(value)
    assert result == value
    assert [type(v) for v in result] == [Interrupt, Send, Command, Command]
    assert type(result[1].arg["arg"]) is tuple


def test_hitlgraph_types_are_preregistered_for_a_fresh_serializer() -> None:
    data = object_payload("hitlgraph.types.Interrupt", {"value": "q", "id": "i1"})
    assert MsgpackSerializer().loads(data) == Interrupt("q", "i1")
    written = MsgpackSerializer().dumps_typed(Send("n", 1))
    assert MsgpackSerializer().loads_typed(written) == Send("n", 1)


def test_encoding_registers_the_class_only_in_that_serializer() -> None:
    @dataclasses.dataclass
    class Local:
        v: int

    writer = MsgpackSerializer()
    data = writer.dumps_typed(Local(1))
    assert writer.loads_typed(data) == Local(1)
    with pytest.raises(UnknownTypeError):
        MsgpackSerializer().loads_typed(data)
    assert MsgpackSerializer(allowed=[Local]).loads_typed(data) == Local(1)


def test_module_level_register_type_allows_the_class_everywhere() -> None:
    @dataclasses.dataclass
    class Shared:
        v: tuple[int, ...]

    assert register_type(Shared, "tests.serde.Shared") is Shared
    data = MsgpackSerializer().dumps_typed(Shared((1,)))
    assert MsgpackSerializer().loads_typed(data) == Shared((1,))
    assert b"tests.serde.Shared" in data[1]


def test_registry_custom_name_with_encode_and_decode() -> None:
    writer = MsgpackSerializer()
    writer.register_type(
        Money, "billing.Money", encode=lambda m: [m.cents, m.currency], decode=lambda s: Money(*s)
    )
    value = {"price": Money(1999, "EUR"), "set": {Money(1, "USD")}}
    data = writer.dumps_typed(value)
    assert b"billing.Money" in data[1]
    assert b"test_serde" not in data[1]
    assert writer.loads_typed(data) == value

    # A reader without the registration refuses the data, naming the stored type.
    with pytest.raises(UnknownTypeError, match=r"billing\.Money"):
        MsgpackSerializer().loads_typed(data)


def test_stable_name_lets_a_renamed_class_read_old_data() -> None:
    @dataclasses.dataclass
    class OldName:
        amount: int

    @dataclasses.dataclass
    class NewName:
        amount: int

    old = MsgpackSerializer()
    old.register_type(OldName, "shop.Order")
    data = old.dumps_typed(OldName(5))
    new = MsgpackSerializer()
    new.register_type(NewName, "shop.Order")
    assert new.loads_typed(data) == NewName(5)


def test_register_type_needs_encode_and_decode_for_plain_classes() -> None:
    serde = MsgpackSerializer()
    with pytest.raises(TypeError, match="needs encode= and decode="):
        serde.register_type(Money)
    with pytest.raises(TypeError, match="both encode= and decode="):
        serde.register_type(Money, encode=lambda m: m.cents)


def test_register_type_rejects_natively_handled_types() -> None:
    with pytest.raises(ValueError, match="natively"):
        MsgpackSerializer().register_type(tuple, encode=list, decode=tuple)


def test_unregistered_builtin_subclasses_are_stored_as_the_builtin_type() -> None:
    class Tag(str):
        pass

    value = {
        "tag": Tag("x"),
        "ordered": collections.OrderedDict([("a", 1), ("b", 2)]),
        "counts": collections.Counter({(1, 2): 3}),
    }
    result = roundtrip(value)
    assert_same(result["tag"], "x")
    assert_same(result["ordered"], {"a": 1, "b": 2})
    assert_same(result["counts"], {(1, 2): 3})


def test_registered_str_subclass_round_trips_as_itself() -> None:
    class Tag(str):
        pass

    serde = MsgpackSerializer()
    serde.register_type(Tag, "tests.Tag", encode=str, decode=Tag)
    assert_same(roundtrip({"tag": Tag("x")}, serde), {"tag": Tag("x")})


# --- security: the allowlist, no imports, no pickle --------------------------------------


@pytest.mark.parametrize(
    "stored_name", ["os.system", "hitlgraph_fake_module_xyz.Evil", "subprocess.Popen"]
)
def test_unknown_class_name_is_refused_without_import(
    stored_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    serde = MsgpackSerializer()
    serde.loads(serde.dumps(Interrupt("warm up")))  # let lazy registry defaults load first
    modules_before = set(sys.modules)
    imported: list[str] = []
    real_import = builtins.__import__

    def spy_import(name: str, *args: Any, **kwargs: Any) -> Any:
        imported.append(name)
        return real_import(name, *args, **kwargs)

    def spy_import_module(name: str, package: str | None = None) -> Any:
        imported.append(name)
        raise AssertionError("import_module called")

    monkeypatch.setattr(importlib, "import_module", spy_import_module)
    monkeypatch.setattr(builtins, "__import__", spy_import)
    imported.clear()  # monkeypatch itself may import while patching

    data = object_payload(stored_name, ["ls"])
    error: UnknownTypeError | None = None
    try:
        serde.loads_typed(("msgpack", data))
    except UnknownTypeError as exc:
        error = exc
    finally:
        monkeypatch.undo()

    assert error is not None
    assert imported == []
    assert set(sys.modules) == modules_before
    assert "hitlgraph_fake_module_xyz" not in sys.modules
    message = str(error)
    assert repr(stored_name) in message
    assert "register_type(" in message
    assert "MsgpackSerializer(allowed=[" in message
    assert error.stored_name == stored_name
    assert error.type_name == stored_name


def test_unknown_type_error_is_both_a_serialization_and_a_value_error() -> None:
    with pytest.raises(UnknownTypeError) as info:
        MsgpackSerializer().loads(object_payload("nowhere.Thing", {}))
    assert isinstance(info.value, SerializationError)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, ValueError)


def test_unknown_class_nested_deep_inside_data_is_refused() -> None:
    inner = ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb(["evil.Thing", None]))
    data = ormsgpack.packb({"a": [1, {"b": inner}]})
    with pytest.raises(UnknownTypeError, match=r"evil\.Thing"):
        MsgpackSerializer().loads(data)


def test_pickle_payload_is_refused_without_opt_in() -> None:
    trap = b"cos\nsystem\n(S'echo pwned'\ntR."  # would run a shell command if unpickled
    with pytest.raises(PickleNotAllowedError, match="pickle_fallback=True"):
        MsgpackSerializer().loads_typed(("pickle", trap))


def test_unserializable_value_is_not_pickled_without_opt_in() -> None:
    with pytest.raises(SerializationError):
        MsgpackSerializer().dumps_typed(fractions.Fraction(1, 3))


def test_pickle_fallback_pickles_what_msgpack_cannot_encode() -> None:
    serde = MsgpackSerializer(pickle_fallback=True)
    assert serde.pickle_fallback is True
    value = {"ratio": fractions.Fraction(1, 3)}
    tag, data = serde.dumps_typed(value)
    assert tag == "pickle"
    assert serde.loads_typed((tag, data)) == value
    assert serde.dumps_typed({"plain": (1, 2)})[0] == "msgpack"


# --- errors ------------------------------------------------------------------------------


def test_unserializable_value_error_names_the_type() -> None:
    with pytest.raises(SerializationError) as info:
        MsgpackSerializer().dumps_typed({"items": [1, (2, Opaque())]})
    error = info.value
    assert isinstance(error, TypeError)
    assert error.type_name == "Opaque"
    assert error.obj_type is Opaque
    assert "Cannot serialize value of type 'Opaque'" in str(error)
    assert "register_type(Opaque, encode=..., decode=...)" in str(error)


def test_failing_custom_encoder_is_reported_as_serialization_error() -> None:
    def broken(m: Money) -> Any:
        raise RuntimeError("boom")

    serde = MsgpackSerializer()
    serde.register_type(Money, "tests.BrokenMoney", encode=broken, decode=lambda s: s)
    with pytest.raises(SerializationError, match="boom") as info:
        serde.dumps_typed([Money(1, "EUR")])
    assert isinstance(info.value.__cause__, RuntimeError)


def test_dumps_channel_names_the_state_key_and_the_type() -> None:
    serde = MsgpackSerializer()
    assert dumps_channel(serde, "notes", ["fine"]) == serde.dumps_typed(["fine"])
    with pytest.raises(SerializationError) as info:
        dumps_channel(serde, "notes", [Opaque()])
    error = info.value
    message = str(error)
    assert message.startswith(
        "State key 'notes' holds a value of type 'Opaque' (inside a 'list') that cannot be "
        "serialized: "
    )
    assert "Register it with register_type(Opaque" in message
    assert message.endswith("or store plain data.")
    assert error.key == "notes"
    assert error.type_name == "Opaque"
    assert isinstance(error.__cause__, SerializationError)


def test_dumps_channel_wraps_a_foreign_serializers_type_error() -> None:
    class Strict:
        def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
            raise TypeError("nope")

        def loads_typed(self, data: tuple[str, bytes]) -> Any:
            return None

    serde: SerializerProtocol = Strict()
    with pytest.raises(SerializationError, match="State key 'k' holds a value of type 'Opaque'"):
        dumps_channel(serde, "k", Opaque())


def test_reference_cycle_raises_serialization_error() -> None:
    @dataclasses.dataclass
    class Node:
        child: Any = None

    node = Node()
    node.child = node
    with pytest.raises(SerializationError, match="reference cycle"):
        MsgpackSerializer().dumps_typed(node)
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="reference cycle"):
        MsgpackSerializer().dumps_typed({"loop": loop})


def test_corrupt_data_and_unknown_tags_raise_serialization_error() -> None:
    serde = MsgpackSerializer()
    with pytest.raises(SerializationError, match="not valid msgpack"):
        serde.loads_typed(("msgpack", b"\xc1"))
    with pytest.raises(SerializationError, match="Unknown serialization tag 'yaml'"):
        serde.loads_typed(("yaml", b""))
    with pytest.raises(SerializationError, match="extension code 99"):
        serde.loads(ormsgpack.packb(ormsgpack.Ext(99, b"")))
    with pytest.raises(SerializationError, match="malformed"):
        serde.loads(ormsgpack.packb(ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb("x"))))


def test_class_that_changed_since_writing_gives_a_clear_error() -> None:
    data = ormsgpack.packb(
        ormsgpack.Ext(EXT_OBJECT, ormsgpack.packb([f"{__name__}.Color", "green"]))
    )
    serde = MsgpackSerializer(allowed=[Color])
    with pytest.raises(SerializationError, match="Could not rebuild"):
        serde.loads(data)


# --- API odds and ends --------------------------------------------------------------------


def test_serializer_satisfies_the_protocol() -> None:
    assert isinstance(MsgpackSerializer(), SerializerProtocol)


def test_dumps_and_loads_work_without_tags() -> None:
    serde = MsgpackSerializer()
    value = {"t": (1, 2), "p": Point(1, 2), "none": None, "b": b"x"}
    data = serde.dumps(value)
    assert isinstance(data, bytes)
    assert_same(serde.loads(data), value)
    assert serde.loads(serde.dumps(None)) is None


def test_loads_accepts_memoryview_payloads() -> None:
    serde = MsgpackSerializer()
    tag, data = serde.dumps_typed({"t": (1,)})
    assert serde.loads_typed((tag, memoryview(data))) == {"t": (1,)}  # type: ignore[arg-type]
    assert serde.loads_typed(("bytes", memoryview(b"ab"))) == b"ab"  # type: ignore[arg-type]
