"""Serialization of checkpoint data: values to ``(tag, bytes)`` and back.

`MsgpackSerializer` is the default. It packs plain data (dict, list, str, int, float, bool,
None) with ormsgpack alone, and keeps every other supported type exact through msgpack
extension types: tuples (nested too), sets, frozensets, bytes, datetimes (naive or aware; UTC,
fixed offsets and `zoneinfo.ZoneInfo` zones are kept), dates, times, timedeltas, UUIDs,
Decimals, complex numbers, ints beyond 64 bits, dicts with non-str keys, and registered
classes.

The type registry is an allowlist. Stored data names a class only by its registry name, and
a class is rebuilt only through the registry: no module is ever imported, and no attribute is
ever looked up, by a name found in stored data. Data naming an unknown class raises
`UnknownTypeError`.

Rules for classes:

- Dataclasses, pydantic v2 models, Enums and NamedTuples are stored as their fields (an Enum
  as its value). Encoding one registers its class in that serializer's registry: the class is
  part of the running program, so the same serializer can read the value back.
- A process that reads data it did not write (a restart, another worker) must register those
  classes first: `register_type(MyClass)` (process-wide) or
  ``MsgpackSerializer(allowed=[MyClass])``. Encoding one instance also registers it, but do
  not rely on that for reading.
- The registry name defaults to ``module.QualifiedName``. Give an explicit, stable
  ``name=`` to classes that may move, or that live in ``__main__``.
- Any other class needs ``register_type(cls, encode=..., decode=...)``.
- hitlgraph's `Interrupt`, `Send` and `Command` are registered already; other hitlgraph
  modules call `register_type` for their own types (messages, tool review answers, approvals,
  `Overwrite`), and data naming one of those imports its module on first read, so a process
  that only opened a saver reads them too (`_own.py` keeps the fixed table).
- Unregistered subclasses of built-in types (a str or dict subclass, ...) are stored as the
  built-in type. A `bytearray` comes back as a bytearray at the top level and as bytes when
  nested (msgpack packs it natively).

A value that cannot be serialized raises `SerializationError` (a TypeError) naming its type;
`dumps_channel` adds the state key. Pickle is never used unless the serializer is created with
``pickle_fallback=True``, and a stored "pickle" payload is refused otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from hitlgraph._lazy import lazy_names
from hitlgraph.checkpoint.serde._errors import (
    CorruptCheckpointError,
    PickleNotAllowedError,
    SerializationError,
    UnknownTypeError,
)

if TYPE_CHECKING:
    from hitlgraph.checkpoint.serde._msgpack import MsgpackSerializer
    from hitlgraph.checkpoint.serde._registry import register_type

_WHERE = {
    "MsgpackSerializer": "hitlgraph.checkpoint.serde._msgpack",
    "register_type": "hitlgraph.checkpoint.serde._registry",
}
"""Names imported on first use (PEP 562): code that only catches these errors (the command
line's --help) need not load ormsgpack and the type registry."""

__all__ = [
    "CorruptCheckpointError",
    "MsgpackSerializer",
    "PickleNotAllowedError",
    "SerializationError",
    "SerializerProtocol",
    "UnknownTypeError",
    "dumps_channel",
    "register_type",
]


@runtime_checkable
class SerializerProtocol(Protocol):
    """What a checkpoint saver needs from a serializer."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialize `obj` to a (type tag, bytes) pair."""
        ...

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Rebuild a value from a (type tag, bytes) pair made by `dumps_typed`."""
        ...


def dumps_channel(serde: SerializerProtocol, key: str, value: Any) -> tuple[str, bytes]:
    """Serialize the value of state key `key`, naming the key if that fails.

    Args:
        serde: the saver's serializer.
        key: the state key (channel) the value belongs to.
        value: the value to serialize.

    Returns:
        `serde.dumps_typed(value)`.

    Raises:
        SerializationError: the value cannot be serialized; the message names the key and the
            offending type, and the original error is kept as ``__cause__``.
    """
    try:
        return serde.dumps_typed(value)
    except TypeError as exc:
        outer = type(value)
        if isinstance(exc, SerializationError):
            type_name = exc.type_name or outer.__qualname__
            obj_type = exc.obj_type
            reason, hint = exc.reason, exc.hint
        else:
            from hitlgraph.checkpoint.serde._msgpack import register_hint

            type_name, obj_type, reason = outer.__qualname__, outer, str(exc)
            hint = f"Register it with {register_hint(outer, outer.__name__)} or store plain data."
        where = ""
        if obj_type is not None and obj_type is not outer:
            where = f" (inside a {outer.__qualname__!r})"
        raise SerializationError(
            f"State key {key!r} holds a value of type {type_name!r}{where} that cannot be "
            f"serialized: {reason}. {hint or 'Store plain data instead.'}",
            type_name=type_name,
            obj_type=obj_type,
            reason=reason,
            hint=hint,
            key=key,
        ) from exc


__getattr__, __dir__ = lazy_names("hitlgraph.checkpoint.serde", _WHERE, globals())
