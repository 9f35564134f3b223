"""Msgpack extension codes and the codecs of the built-in (non-registry) types.

Each encoder takes ``pack`` (the serializer's own packer, for nested values) and the value, and
returns an `ormsgpack.Ext`. Each decoder takes ``unpack`` and the extension's payload bytes.
Payload layouts (every list below is itself msgpack, so nested values keep their types):

=========  ====================  =====================================================
code       type                  payload
=========  ====================  =====================================================
1          tuple                 list of items
2          set                   list of items
3          frozenset             list of items
4          datetime              [y, mo, d, h, mi, s, us, tz, fold]
5          date                  [y, mo, d]
6          time                  [h, mi, s, us, tz, fold]
7          timedelta             [days, seconds, microseconds]
8          UUID                  the 16 raw bytes
9          Decimal               its str(), UTF-8
10         int beyond 64 bits    two's complement, big-endian bytes
11         complex               [real, imag]
12         dict with keys msgpack cannot keep exactly: flat [k1, v1, k2, v2, ...]
13         registered class      [registry name, state]
=========  ====================  =====================================================

``tz`` is nil (naive), an int (fixed UTC offset in microseconds), ``[offset, name]`` (a named
fixed offset) or a str (an IANA key, rebuilt as `zoneinfo.ZoneInfo`).
"""

from __future__ import annotations

import datetime as _dt
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from ormsgpack import Ext

from hitlgraph.checkpoint.serde._errors import SerializationError

__all__ = [
    "BUILTIN_DECODERS",
    "BUILTIN_ENCODERS",
    "EXT_OBJECT",
    "NATIVE_TYPES",
    "KeyedDict",
    "Pack",
    "Unpack",
    "encode_builtin_subclass",
    "is_no_fallback",
    "prepare_keys",
]

Pack = Callable[[Any], bytes]
Unpack = Callable[[bytes], Any]

EXT_TUPLE: Final = 1
EXT_SET: Final = 2
EXT_FROZENSET: Final = 3
EXT_DATETIME: Final = 4
EXT_DATE: Final = 5
EXT_TIME: Final = 6
EXT_TIMEDELTA: Final = 7
EXT_UUID: Final = 8
EXT_DECIMAL: Final = 9
EXT_BIGINT: Final = 10
EXT_COMPLEX: Final = 11
EXT_DICT: Final = 12
EXT_OBJECT: Final = 13

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**64 - 1


class KeyedDict:
    """Marks a dict whose keys msgpack cannot keep exactly (tuples, datetimes, enums, ...)."""

    __slots__ = ("items",)

    def __init__(self, items: dict[Any, Any]) -> None:
        self.items = items


# --- helpers ------------------------------------------------------------------------------


def _td_micros(delta: _dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _encode_tz(
    tz: _dt.tzinfo | None, offset: Callable[[], _dt.timedelta | None]
) -> int | str | list[Any] | None:
    if tz is None:
        return None
    if type(tz) is _dt.timezone:
        off = tz.utcoffset(None)
        micros = _td_micros(off)
        name = tz.tzname(None)
        if name == _dt.timezone(off).tzname(None):
            return micros
        return [micros, name]
    # zoneinfo is imported on first use (it reads sysconfig): a process that has not imported
    # it holds no ZoneInfo.
    zoneinfo = sys.modules.get("zoneinfo")
    if zoneinfo is not None and isinstance(tz, zoneinfo.ZoneInfo):
        key = getattr(tz, "key", None)
        if isinstance(key, str):
            return key
    # Any other tzinfo (pytz, dateutil, ZoneInfo.from_file ...): keep the fixed offset in force.
    current = offset()
    if current is None:
        name = type(tz).__qualname__
        raise SerializationError(
            f"Cannot serialize a time zone of type {name!r} that has no fixed UTC offset; "
            "use datetime.timezone or zoneinfo.ZoneInfo.",
            type_name=name,
            obj_type=type(tz),
            reason=f"the time zone {name!r} has no fixed UTC offset",
        )
    return _td_micros(current)


def _decode_tz(raw: Any) -> _dt.tzinfo | None:
    if raw is None:
        return None
    if type(raw) is int:
        return _dt.timezone(_dt.timedelta(microseconds=raw))
    if type(raw) is str:
        from zoneinfo import ZoneInfo

        return ZoneInfo(raw)
    if type(raw) is list and len(raw) == 2:
        return _dt.timezone(_dt.timedelta(microseconds=raw[0]), raw[1])
    raise ValueError(f"bad time zone {raw!r}")


# --- encoders -----------------------------------------------------------------------------


def _enc_tuple(pack: Pack, obj: Any) -> Ext:
    return Ext(EXT_TUPLE, pack(list(obj)))


def _enc_set(pack: Pack, obj: Any) -> Ext:
    return Ext(EXT_SET, pack(list(obj)))


def _enc_frozenset(pack: Pack, obj: Any) -> Ext:
    return Ext(EXT_FROZENSET, pack(list(obj)))


def _enc_datetime(pack: Pack, obj: Any) -> Ext:
    v: _dt.datetime = obj
    tz = _encode_tz(v.tzinfo, v.utcoffset)
    return Ext(
        EXT_DATETIME,
        pack([v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tz, v.fold]),
    )


def _enc_date(pack: Pack, obj: Any) -> Ext:
    v: _dt.date = obj
    return Ext(EXT_DATE, pack([v.year, v.month, v.day]))


def _enc_time(pack: Pack, obj: Any) -> Ext:
    v: _dt.time = obj
    tz = _encode_tz(v.tzinfo, v.utcoffset)
    return Ext(EXT_TIME, pack([v.hour, v.minute, v.second, v.microsecond, tz, v.fold]))


def _enc_timedelta(pack: Pack, obj: Any) -> Ext:
    v: _dt.timedelta = obj
    return Ext(EXT_TIMEDELTA, pack([v.days, v.seconds, v.microseconds]))


def _enc_uuid(pack: Pack, obj: Any) -> Ext:
    v: uuid.UUID = obj
    return Ext(EXT_UUID, v.bytes)


def _enc_decimal(pack: Pack, obj: Any) -> Ext:
    return Ext(EXT_DECIMAL, str(obj).encode())


def _enc_int(pack: Pack, obj: Any) -> Ext:
    v: int = obj
    return Ext(EXT_BIGINT, v.to_bytes(v.bit_length() // 8 + 1, "big", signed=True))


def _enc_complex(pack: Pack, obj: Any) -> Ext:
    v: complex = obj
    return Ext(EXT_COMPLEX, pack([v.real, v.imag]))


def _enc_keyed_dict(pack: Pack, obj: Any) -> Ext:
    flat: list[Any] = []
    for k, v in obj.items.items():
        flat.append(k)
        flat.append(v)
    return Ext(EXT_DICT, pack(flat))


BUILTIN_ENCODERS: Final[dict[type, Callable[[Pack, Any], Ext]]] = {
    tuple: _enc_tuple,
    set: _enc_set,
    frozenset: _enc_frozenset,
    _dt.datetime: _enc_datetime,
    _dt.date: _enc_date,
    _dt.time: _enc_time,
    _dt.timedelta: _enc_timedelta,
    uuid.UUID: _enc_uuid,
    Decimal: _enc_decimal,
    int: _enc_int,  # only reached for ints beyond 64 bits
    complex: _enc_complex,
    KeyedDict: _enc_keyed_dict,
}
"""Encoders by exact type: the default hook's first look-up."""

NATIVE_TYPES: Final[frozenset[type]] = frozenset(
    {dict, list, str, int, float, bool, type(None), bytes, bytearray, memoryview}
    | set(BUILTIN_ENCODERS)
)
"""Types the serializer handles itself; they cannot be registered."""


def _as_dict(obj: Any) -> Any:
    plain = dict(obj)
    for k in plain:
        if type(k) is not str:
            return KeyedDict(plain)
    return plain


# Subclasses of built-in types that are not registered are stored as their base type.
# Order matters: datetime before date, bool cannot be subclassed, tuple covers non-NamedTuples.
_SUBCLASS_FALLBACKS: Final[tuple[tuple[type, Callable[[Pack, Any], Any]], ...]] = (
    (str, lambda pack, obj: str.__str__(obj)),
    (int, lambda pack, obj: int.__int__(obj)),
    (float, lambda pack, obj: float.__float__(obj)),
    (bytes, lambda pack, obj: bytes(obj)),
    (dict, lambda pack, obj: _as_dict(obj)),
    (list, lambda pack, obj: list(obj)),
    (tuple, _enc_tuple),
    (frozenset, _enc_frozenset),
    (set, _enc_set),
    (_dt.datetime, _enc_datetime),
    (_dt.date, _enc_date),
    (_dt.time, _enc_time),
    (_dt.timedelta, _enc_timedelta),
    (uuid.UUID, _enc_uuid),
    (Decimal, _enc_decimal),
    (complex, _enc_complex),
)

_NO_FALLBACK: Final = object()


def encode_builtin_subclass(pack: Pack, obj: Any) -> Any:
    """Encode an unregistered subclass of a built-in type as that type.

    Returns:
        the value to hand back to msgpack, or the module's ``_NO_FALLBACK`` sentinel when
        ``obj`` is no such subclass.
    """
    for base, enc in _SUBCLASS_FALLBACKS:
        if isinstance(obj, base):
            return enc(pack, obj)
    return _NO_FALLBACK


def is_no_fallback(value: Any) -> bool:
    """Whether `encode_builtin_subclass` found nothing to do."""
    return value is _NO_FALLBACK


def _simple_key(key: Any) -> bool:
    t = type(key)
    if t is str or t is float or t is bool or t is bytes or key is None:
        return True
    if t is int:
        return bool(_INT_MIN <= key <= _INT_MAX)
    return False


def prepare_keys(obj: Any) -> Any:
    """Copy plain dicts and lists, wrapping dicts with non-primitive keys in `KeyedDict`.

    Only used after the fast path failed on a dict key: str, int, float, bool, None and bytes
    keys then go through msgpack natively (OPT_NON_STR_KEYS), every other key keeps its exact
    type through the default hook.
    """
    t = type(obj)
    if t is dict:
        for k in obj:
            if not _simple_key(k):
                return KeyedDict(obj)
        return {k: prepare_keys(v) for k, v in obj.items()}
    if t is list:
        return [prepare_keys(v) for v in obj]
    return obj


# --- decoders -----------------------------------------------------------------------------


def _dec_tuple(unpack: Unpack, data: bytes) -> Any:
    return tuple(unpack(data))


def _dec_set(unpack: Unpack, data: bytes) -> Any:
    return set(unpack(data))


def _dec_frozenset(unpack: Unpack, data: bytes) -> Any:
    return frozenset(unpack(data))


def _dec_datetime(unpack: Unpack, data: bytes) -> Any:
    y, mo, d, h, mi, s, us, tz, fold = unpack(data)
    return _dt.datetime(y, mo, d, h, mi, s, us, tzinfo=_decode_tz(tz), fold=fold)


def _dec_date(unpack: Unpack, data: bytes) -> Any:
    y, mo, d = unpack(data)
    return _dt.date(y, mo, d)


def _dec_time(unpack: Unpack, data: bytes) -> Any:
    h, mi, s, us, tz, fold = unpack(data)
    return _dt.time(h, mi, s, us, tzinfo=_decode_tz(tz), fold=fold)


def _dec_timedelta(unpack: Unpack, data: bytes) -> Any:
    days, seconds, micros = unpack(data)
    return _dt.timedelta(days=days, seconds=seconds, microseconds=micros)


def _dec_uuid(unpack: Unpack, data: bytes) -> Any:
    return uuid.UUID(bytes=bytes(data))


def _dec_decimal(unpack: Unpack, data: bytes) -> Any:
    return Decimal(bytes(data).decode())


def _dec_int(unpack: Unpack, data: bytes) -> Any:
    return int.from_bytes(data, "big", signed=True)


def _dec_complex(unpack: Unpack, data: bytes) -> Any:
    real, imag = unpack(data)
    return complex(real, imag)


def _dec_dict(unpack: Unpack, data: bytes) -> Any:
    flat = unpack(data)
    it = iter(flat)
    return dict(zip(it, it, strict=True))


BUILTIN_DECODERS: Final[dict[int, Callable[[Unpack, bytes], Any]]] = {
    EXT_TUPLE: _dec_tuple,
    EXT_SET: _dec_set,
    EXT_FROZENSET: _dec_frozenset,
    EXT_DATETIME: _dec_datetime,
    EXT_DATE: _dec_date,
    EXT_TIME: _dec_time,
    EXT_TIMEDELTA: _dec_timedelta,
    EXT_UUID: _dec_uuid,
    EXT_DECIMAL: _dec_decimal,
    EXT_BIGINT: _dec_int,
    EXT_COMPLEX: _dec_complex,
    EXT_DICT: _dec_dict,
}
"""Decoders by extension code (EXT_OBJECT is decoded by the serializer, via its registry)."""
