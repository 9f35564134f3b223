"""The type registry: the allowlist of classes that stored data may name.

An entry binds a class to a stable registry name and to an encode/decode pair. Decoding looks a
stored name up in the registry and nowhere else: no module is imported and no attribute is
looked up by a name found in stored data.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hitlgraph._control import Command, Interrupt, Send
from hitlgraph._policy import Expire, ReviewPolicy
from hitlgraph.checkpoint.serde._codec import NATIVE_TYPES
from hitlgraph.checkpoint.serde._own import load_own

__all__ = [
    "DEFAULT_REGISTRY",
    "TypeEntry",
    "TypeRegistry",
    "default_type_name",
    "register_type",
    "structured_codec",
]

T = TypeVar("T")
Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True, slots=True)
class TypeEntry:
    """One registered class.

    Attributes:
        cls: the class.
        name: the name stored in the data.
        encode: turns an instance into serializable state.
        decode: rebuilds an instance from that state.
    """

    cls: type
    name: str
    encode: Encoder
    decode: Decoder


def default_type_name(cls: type) -> str:
    """The registry name a class gets when none is given: ``module.QualifiedName``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _pydantic_base() -> type | None:
    # Only a model class that exists can be encoded, and it can only exist once pydantic has
    # been imported: looking in sys.modules keeps pydantic optional and costs no import.
    module = sys.modules.get("pydantic")
    base = getattr(module, "BaseModel", None) if module is not None else None
    return base if isinstance(base, type) else None


def _enum_codec(cls: type[enum.Enum]) -> tuple[Encoder, Decoder]:
    def encode(obj: Any) -> Any:
        return obj.value

    def decode(state: Any) -> Any:
        return cls(state)

    return encode, decode


def _dataclass_codec(cls: type) -> tuple[Encoder, Decoder]:
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    init_names = frozenset(f.name for f in fields if f.init)
    later = tuple(f.name for f in fields if not f.init)
    missing = object()

    def encode(obj: Any) -> Any:
        state: dict[str, Any] = {}
        for name in names:
            value = getattr(obj, name, missing)
            if value is not missing:
                state[name] = value
        return state

    def decode(state: Any) -> Any:
        obj = cls(**{k: v for k, v in state.items() if k in init_names})
        for name in later:
            if name in state:
                object.__setattr__(obj, name, state[name])
        return obj

    return encode, decode


def _namedtuple_codec(cls: type) -> tuple[Encoder, Decoder]:
    fields: tuple[str, ...] = tuple(getattr(cls, "_fields", ()))

    def encode(obj: Any) -> Any:
        return dict(zip(fields, obj, strict=True))

    def decode(state: Any) -> Any:
        return cls(**{k: state[k] for k in fields if k in state})

    return encode, decode


def _pydantic_codec(cls: Any) -> tuple[Encoder, Decoder]:
    def encode(obj: Any) -> Any:
        values = dict(obj.__dict__)
        extra = obj.__pydantic_extra__
        if extra:
            values.update(extra)
        return [values, list(obj.model_fields_set)]

    def decode(state: Any) -> Any:
        values, fields_set = state
        # No validation: the values were valid when stored and keep their exact types.
        return cls.model_construct(_fields_set=set(fields_set), **values)

    return encode, decode


def structured_codec(cls: type) -> tuple[Encoder, Decoder] | None:
    """The automatic encode/decode pair of an Enum, dataclass, NamedTuple or pydantic model.

    Returns:
        None when ``cls`` is none of those kinds.
    """
    if issubclass(cls, enum.Enum):
        return _enum_codec(cls)
    if dataclasses.is_dataclass(cls):
        return _dataclass_codec(cls)
    if issubclass(cls, tuple) and hasattr(cls, "_fields") and hasattr(cls, "_make"):
        return _namedtuple_codec(cls)
    base = _pydantic_base()
    if base is not None and issubclass(cls, base):
        return _pydantic_codec(cls)
    return None


class TypeRegistry:
    """Classes by registry name and names by class, optionally backed by a parent registry.

    Lookups try this registry first, then the parent. Registering a name again rebinds it to
    the new class (last one wins, as when a module is reloaded); the old class keeps encoding
    under that name.
    """

    __slots__ = ("_by_cls", "_by_name", "_load_own", "_lock", "_parent")

    def __init__(self, parent: TypeRegistry | None = None, *, load_own: bool = False) -> None:
        """Create an empty registry.

        Args:
            parent: consulted when this registry has no entry.
            load_own: on a name it lacks, import the hitlgraph module that registers that
                name (`_own.load_own`); the process-wide registry does.
        """
        self._by_cls: dict[type, TypeEntry] = {}
        self._by_name: dict[str, TypeEntry] = {}
        self._parent = parent
        self._load_own = load_own
        self._lock = threading.Lock()

    def register(self, cls: type, name: str | None = None, *, encode: Encoder | None = None,
                 decode: Decoder | None = None) -> TypeEntry:
        """Add `cls` to the allowlist; see `register_type`.

        Returns:
            the new entry.
        """
        if not isinstance(cls, type):
            raise TypeError(f"register_type() needs a class, got {cls!r}")
        if cls in NATIVE_TYPES:
            raise ValueError(
                f"{cls.__qualname__} is serialized natively and cannot be registered"
            )
        if (encode is None) != (decode is None):
            raise TypeError("register_type() needs both encode= and decode=, or neither")
        if name is None:
            name = default_type_name(cls)
        elif not isinstance(name, str) or not name:
            raise ValueError(f"register_type() needs a non-empty str name, got {name!r}")
        if encode is None or decode is None:
            codec = structured_codec(cls)
            if codec is None:
                raise TypeError(
                    f"register_type({cls.__qualname__}) needs encode= and decode=: only "
                    "dataclasses, pydantic models, Enums and NamedTuples are encoded "
                    "automatically"
                )
            encode, decode = codec
        entry = TypeEntry(cls, name, encode, decode)
        with self._lock:
            self._by_cls[cls] = entry
            self._by_name[name] = entry
        return entry

    def for_class(self, cls: type) -> TypeEntry | None:
        """The entry of exactly `cls` (subclasses are separate entries), or None."""
        entry = self._by_cls.get(cls)
        if entry is None and self._parent is not None:
            return self._parent.for_class(cls)
        return entry

    def for_name(self, name: str) -> TypeEntry | None:
        """The entry registered under `name`, or None."""
        entry = self._by_name.get(name)
        if entry is not None:
            return entry
        if self._parent is not None:
            return self._parent.for_name(name)
        if self._load_own and load_own(name):
            return self._by_name.get(name)
        return None


DEFAULT_REGISTRY = TypeRegistry(load_own=True)
"""The process-wide registry every serializer falls back to; it knows hitlgraph's own values,
those its modules register included (imported on the first lookup of one of their names)."""
for _cls in (Interrupt, Send, Command):
    DEFAULT_REGISTRY.register(_cls)
DEFAULT_REGISTRY.register(ReviewPolicy, "hitlgraph.review.ReviewPolicy")
DEFAULT_REGISTRY.register(Expire, "hitlgraph.review.Expire")


def register_type(
    cls: type[T],
    name: str | None = None,
    *,
    encode: Callable[[T], Any] | None = None,
    decode: Callable[[Any], T] | None = None,
) -> type[T]:
    """Allow `cls` in stored data, for every serializer of this process.

    Dataclasses, pydantic models, Enums and NamedTuples need no encode/decode: their fields
    (or value) are stored. Any other class needs both. Can be used as a plain decorator.

    Args:
        cls: the class to allow.
        name: the stable name written into the data; defaults to ``module.QualifiedName``.
            Give one if the class may move or be renamed, and keep it forever.
        encode: turns an instance into serializable state (plain data or other supported
            values).
        decode: rebuilds an instance from what `encode` returned.

    Returns:
        `cls`, unchanged.

    Raises:
        TypeError: `cls` is not a class, or needs encode/decode and got only one or none.
        ValueError: `cls` is a type the serializer handles natively, or `name` is empty.

    Example:
        A plain class, under a name that survives moving it::

            register_type(
                Money,
                "billing.Money",
                encode=lambda m: [m.cents, m.currency],
                decode=lambda state: Money(*state),
            )
    """
    DEFAULT_REGISTRY.register(cls, name, encode=encode, decode=decode)
    return cls
