"""`MsgpackSerializer`: the default checkpoint serializer, built on ormsgpack."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, Final, TypeVar

import ormsgpack
from ormsgpack import Ext, MsgpackDecodeError, MsgpackEncodeError

from hitlgraph.checkpoint.serde._codec import (
    BUILTIN_DECODERS,
    BUILTIN_ENCODERS,
    EXT_OBJECT,
    encode_builtin_subclass,
    is_no_fallback,
    prepare_keys,
)
from hitlgraph.checkpoint.serde._errors import (
    PickleNotAllowedError,
    SerializationError,
    UnknownTypeError,
)
from hitlgraph.checkpoint.serde._registry import (
    DEFAULT_REGISTRY,
    TypeEntry,
    TypeRegistry,
    default_type_name,
    structured_codec,
)

__all__ = ["MsgpackSerializer", "register_hint"]

T = TypeVar("T")

_PASSTHROUGH: Final = (
    ormsgpack.OPT_PASSTHROUGH_TUPLE
    | ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_DATETIME
    | ormsgpack.OPT_PASSTHROUGH_UUID
    | ormsgpack.OPT_PASSTHROUGH_ENUM
    | ormsgpack.OPT_PASSTHROUGH_SUBCLASS
    | ormsgpack.OPT_PASSTHROUGH_BIG_INT
)
# Fast path: str keys only, so any other key fails fast instead of being silently stringified
# (ormsgpack's OPT_NON_STR_KEYS turns datetime, UUID and Enum keys into str or their value).
_FAST_OPTIONS: Final = _PASSTHROUGH
# Slow path, after prepare_keys() wrapped every dict whose keys msgpack cannot keep exactly.
_KEYED_OPTIONS: Final = _PASSTHROUGH | ormsgpack.OPT_NON_STR_KEYS
_UNPACK_OPTIONS: Final = ormsgpack.OPT_NON_STR_KEYS

_NULL: Final = ("null", b"")

# ormsgpack replaces an exception raised in `default` or `ext_hook` by its own generic one
# and drops the original; the hooks park it here (per thread) so it can be raised instead.
_pending = threading.local()


def _park(exc: BaseException) -> None:
    _pending.error = exc


def _take_parked() -> BaseException | None:
    exc: BaseException | None = getattr(_pending, "error", None)
    if exc is not None:
        _pending.error = None
    return exc


def _reraise_parked() -> None:
    """Raise the exception a hook parked again, if there is one, keeping its own cause but not
    ormsgpack's wrapper."""
    exc = _take_parked()
    if exc is not None:
        exc.__suppress_context__ = True
        raise exc


def register_hint(cls: type | None, type_name: str) -> str:
    """The `register_type(...)` call that would make values of `cls` serializable."""
    if cls is not None and structured_codec(cls) is not None:
        return f"register_type({type_name})"
    return f"register_type({type_name}, encode=..., decode=...)"


def _cannot(obj: Any, message: str, reason: str, hint: str | None = None
            ) -> SerializationError:
    """The error of a value that cannot be serialized; `message` follows "Cannot serialize
    value of type 'T'"."""
    short = type(obj).__qualname__
    return SerializationError(f"Cannot serialize value of type {short!r}{message}",
                              type_name=short, obj_type=type(obj), reason=reason, hint=hint)


def _unserializable(obj: Any) -> SerializationError:
    cls = type(obj)
    reason = (f"msgpack has no encoding for {default_type_name(cls)} and no encoder is "
              "registered for it")
    hint = f"Register it with {register_hint(cls, cls.__name__)} or store plain data."
    return _cannot(obj, f": {reason}. {hint}", reason, hint)


def _too_deep(obj: Any, cause: BaseException) -> SerializationError:
    reason = "it is nested too deeply or contains a reference cycle"
    return _cannot(obj, f": {reason} ({cause}).", reason)


class MsgpackSerializer:
    """Serializes checkpoint values with msgpack, keeping Python types exactly.

    Plain JSON-like data is packed by ormsgpack alone. Tuples, sets, frozensets, dates and
    times (time zones kept), timedeltas, UUIDs, Decimals, complex numbers, big ints, dicts with
    non-str keys, and registered classes (dataclasses, pydantic models, Enums, NamedTuples and
    classes with custom encode/decode) go through msgpack extension types and come back as the
    same types.

    Encoding an instance of a dataclass, pydantic model, Enum or NamedTuple registers its class
    in this serializer's registry, so this serializer can read it back. Another process must
    register the class (`register_type`, or ``allowed=``) before it reads the data.

    Args:
        allowed: extra classes this serializer may rebuild (registered under their default
            name), on top of the process-wide registry.
        pickle_fallback: pickle values that msgpack cannot encode (tag "pickle"), and accept
            such payloads when loading. Off by default: unpickling runs arbitrary code.

    Example:
        >>> serde = MsgpackSerializer()
        >>> serde.loads_typed(serde.dumps_typed({"point": (1, 2)}))
        {'point': (1, 2)}
    """

    __slots__ = ("_default", "_ext_hook", "_pickle_fallback", "_registry")

    def __init__(self, *, allowed: Iterable[type] = (), pickle_fallback: bool = False) -> None:
        self._registry = TypeRegistry(parent=DEFAULT_REGISTRY)
        self._pickle_fallback = bool(pickle_fallback)
        # Bound once: creating bound methods on every packb call would cost time.
        self._default: Callable[[Any], Any] = self._default_hook
        self._ext_hook: Callable[[int, bytes], Any] = self._ext_hook_impl
        for cls in allowed:
            self._registry.register(cls)

    @property
    def pickle_fallback(self) -> bool:
        """Whether values msgpack cannot encode are pickled, and pickles are loaded."""
        return self._pickle_fallback

    def register_type(
        self,
        cls: type[T],
        name: str | None = None,
        *,
        encode: Callable[[T], Any] | None = None,
        decode: Callable[[Any], T] | None = None,
    ) -> type[T]:
        """Allow `cls` for this serializer only; arguments as for the module's `register_type`.

        Returns:
            `cls`, unchanged.
        """
        self._registry.register(cls, name, encode=encode, decode=decode)
        return cls

    # --- public API -------------------------------------------------------------------------

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialize `obj`.

        Returns:
            (tag, data): tag "msgpack" in general, "null" for None, "bytes" / "bytearray" for
            raw bytes, "pickle" for a pickled fallback.

        Raises:
            SerializationError: `obj` holds a value that cannot be serialized (and pickle
                fallback is off).
        """
        if obj is None:
            return _NULL
        t = type(obj)
        if t is bytes:
            return "bytes", obj
        if t is bytearray:
            return "bytearray", bytes(obj)
        try:
            return "msgpack", ormsgpack.packb(obj, default=self._default, option=_FAST_OPTIONS)
        except MsgpackEncodeError as exc:
            failure = exc
        try:
            return "msgpack", self._recover(obj, failure)
        except SerializationError:
            if not self._pickle_fallback:
                raise
            return "pickle", self._pickle(obj)
        except RecursionError as exc:
            if self._pickle_fallback:
                return "pickle", self._pickle(obj)
            raise _too_deep(obj, exc) from None

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Rebuild a value from what `dumps_typed` returned.

        Raises:
            UnknownTypeError: the data names a class that is not registered.
            PickleNotAllowedError: a "pickle" payload, without pickle_fallback=True.
            SerializationError: the data is corrupt or its tag unknown.
        """
        tag, payload = data
        if tag == "msgpack":
            return self._unpack(payload)
        if tag == "null":
            return None
        if tag == "bytes":
            return bytes(payload)
        if tag == "bytearray":
            return bytearray(payload)
        if tag == "pickle":
            if not self._pickle_fallback:
                raise PickleNotAllowedError()
            import pickle  # loaded only for a caller who opted in

            return pickle.loads(payload)  # explicit opt-in, see pickle_fallback
        raise SerializationError(
            f"Unknown serialization tag {tag!r}; this serializer reads 'msgpack', 'null', "
            "'bytes', 'bytearray' and (with pickle_fallback=True) 'pickle'.",
            type_name=tag,
        )

    def dumps(self, obj: Any) -> bytes:
        """Serialize `obj` to msgpack bytes (no tag, no pickle fallback).

        Raises:
            SerializationError: `obj` holds a value that cannot be serialized.
        """
        try:
            return self._pack(obj)
        except RecursionError as exc:
            raise _too_deep(obj, exc) from None

    def loads(self, data: bytes) -> Any:
        """Rebuild a value from what `dumps` returned.

        Raises:
            UnknownTypeError: the data names a class that is not registered.
            SerializationError: the data is corrupt.
        """
        return self._unpack(data)

    # --- encoding ---------------------------------------------------------------------------

    def _pack(self, obj: Any) -> bytes:
        try:
            return ormsgpack.packb(obj, default=self._default, option=_FAST_OPTIONS)
        except MsgpackEncodeError as exc:
            return self._recover(obj, exc)

    def _recover(self, obj: Any, exc: MsgpackEncodeError) -> bytes:
        """Handle a failed fast-path packb: re-raise the hook's error or retry with keyed dicts."""
        _reraise_parked()
        # ormsgpack itself refused: a dict key other than str (or a cycle / deep nesting).
        try:
            prepared = prepare_keys(obj)
        except RecursionError as deep:
            raise _too_deep(obj, deep) from exc
        try:
            return ormsgpack.packb(prepared, default=self._default, option=_KEYED_OPTIONS)
        except MsgpackEncodeError as again:
            _reraise_parked()
            raise _cannot(obj, f": {again}", str(again)) from again

    def _default_hook(self, obj: Any) -> Any:
        try:
            return self._encode(obj)
        except BaseException as exc:
            _park(exc)
            raise

    def _encode(self, obj: Any) -> Any:
        cls = type(obj)
        builtin = BUILTIN_ENCODERS.get(cls)
        if builtin is not None:
            return builtin(self._pack, obj)
        entry = self._registry.for_class(cls)
        if entry is None and structured_codec(cls) is not None:
            # The class exists in this program, so it is the user's own: allow it here.
            entry = self._registry.register(cls)
        if entry is not None:
            return Ext(EXT_OBJECT, self._pack([entry.name, self._encode_state(entry, obj)]))
        fallback = encode_builtin_subclass(self._pack, obj)
        if is_no_fallback(fallback):
            raise _unserializable(obj)
        return fallback

    @staticmethod
    def _encode_state(entry: TypeEntry, obj: Any) -> Any:
        try:
            return entry.encode(obj)
        except SerializationError:
            raise
        except Exception as exc:
            raise _cannot(obj, f": its encoder (registered as {entry.name!r}) failed: {exc!r}",
                          f"its encoder failed: {exc!r}") from exc

    def _pickle(self, obj: Any) -> bytes:
        import pickle  # loaded only for a caller who opted in

        try:
            return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise _cannot(obj, f", not even with pickle: {exc}",
                          f"not even pickle can serialize it ({exc})") from exc

    # --- decoding ---------------------------------------------------------------------------

    def _unpack(self, data: bytes) -> Any:
        try:
            return ormsgpack.unpackb(data, ext_hook=self._ext_hook, option=_UNPACK_OPTIONS)
        except MsgpackDecodeError as exc:
            _reraise_parked()
            raise SerializationError(f"Stored data is not valid msgpack: {exc}") from exc

    def _ext_hook_impl(self, code: int, data: bytes) -> Any:
        try:
            return self._decode_ext(code, data)
        except BaseException as exc:
            _park(exc)
            raise

    def _decode_ext(self, code: int, data: bytes) -> Any:
        if code == EXT_OBJECT:
            return self._decode_object(data)
        decoder = BUILTIN_DECODERS.get(code)
        if decoder is None:
            raise SerializationError(
                f"Stored data holds msgpack extension code {code}, which this serializer "
                "does not know (was it written by another serializer?)."
            )
        try:
            return decoder(self._unpack, data)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(
                f"Stored data for msgpack extension code {code} is malformed: {exc!r}"
            ) from exc

    def _decode_object(self, data: bytes) -> Any:
        item = self._unpack(data)
        if type(item) is not list or len(item) != 2 or type(item[0]) is not str:
            raise SerializationError("Stored data for a registered class is malformed.")
        name, state = item
        entry = self._registry.for_name(name)
        if entry is None:
            raise UnknownTypeError(name)
        try:
            return entry.decode(state)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(
                f"Could not rebuild {name!r} from stored data: {exc!r}. Did the class change "
                "since the data was written?",
                type_name=name,
            ) from exc
