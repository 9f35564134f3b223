"""Exceptions raised while serializing or deserializing checkpoint data."""

from __future__ import annotations

__all__ = [
    "STORED_DATA_ERRORS",
    "CorruptCheckpointError",
    "PickleNotAllowedError",
    "SerializationError",
    "UnknownTypeError",
    "refused_checkpoint",
]


class SerializationError(TypeError):
    """A value could not be turned into bytes, or stored bytes could not be turned back.

    Attributes:
        type_name: the short name of the Python type at fault (for example ``"socket"``),
            or the stored registry name when decoding; None when unknown.
        obj_type: the Python type at fault when encoding; None when decoding.
        reason: the cause in a few words, without advice (used to build longer messages).
        hint: what to do about it, as a sentence; None when there is no general advice.
        key: the state key whose value failed, when known (see `dumps_channel`).
        thread_id, checkpoint_ns, checkpoint_id: the stored checkpoint that could not be read,
            when a saver was reading one (see `refused_checkpoint`); None otherwise.
    """

    thread_id: str | None = None
    checkpoint_ns: str | None = None
    checkpoint_id: str | None = None

    def __init__(self, message: str, *, type_name: str | None = None, obj_type: type | None = None,
                 reason: str | None = None, hint: str | None = None, key: str | None = None
                 ) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.obj_type = obj_type
        self.reason = reason if reason is not None else message
        self.hint = hint
        self.key = key


class UnknownTypeError(SerializationError, ValueError):
    """Stored data names a class that is not in the type registry (the allowlist).

    Classes are rebuilt only through the registry: a name found in stored data is never imported
    or looked up in a module. Register the class before loading.

    Attributes:
        stored_name: the registry name found in the stored data.
    """

    def __init__(self, stored_name: str) -> None:
        short = stored_name.rsplit(".", 1)[-1] or stored_name
        message = (
            f"Stored data names the type {stored_name!r}, which is not registered for "
            f"decoding. Classes are only rebuilt from an allowlist, never imported by name: "
            f"call register_type({short}) before loading (or "
            f"register_type(cls, name={stored_name!r}) if the class moved), or create the "
            f"serializer with MsgpackSerializer(allowed=[{short}])."
        )
        super().__init__(
            message,
            type_name=stored_name,
            reason=f"the stored type {stored_name!r} is not registered",
        )
        self.stored_name = stored_name


class PickleNotAllowedError(SerializationError):
    """Stored data is a pickle, and the serializer was not created with pickle_fallback=True."""

    def __init__(self) -> None:
        super().__init__(
            "Refusing to load a 'pickle' payload: this MsgpackSerializer was created without "
            "pickle_fallback=True. Unpickling can run arbitrary code, so it is off unless you "
            "opt in with MsgpackSerializer(pickle_fallback=True) for data you trust.",
            type_name="pickle",
            reason="pickle payloads are not allowed (pickle_fallback is False)",
        )


class CorruptCheckpointError(SerializationError, ValueError):
    """A stored checkpoint's rows cannot be read back: they were changed or damaged outside
    the saver (a hand edit, a partial restore, a failing disk).

    Raised by the SQL savers' reads in place of whatever the damaged bytes made the decoder
    raise (kept as ``__cause__``), so that a caller has one error to catch and a message that
    names the thread, namespace and checkpoint to repair or rewind.
    """


STORED_DATA_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, TypeError, LookupError, AttributeError, RecursionError, OverflowError,
)
"""What decoding damaged rows can raise (msgpack and JSON decode errors are ValueErrors,
bad UTF-8 a UnicodeDecodeError, a field of the wrong type a TypeError or AttributeError, a
missing field a KeyError); anything else (a lost connection) is not about the stored data."""


def refused_checkpoint(exc: BaseException, thread_id: str, checkpoint_ns: str,
                       checkpoint_id: str) -> SerializationError:
    """The error to raise when reading a stored checkpoint failed with `exc`.

    A SerializationError (an unregistered type, a refused pickle, a broken delta chain) keeps
    its type, so existing handlers still match, and gains the checkpoint's location in its
    attributes and message; anything else becomes a CorruptCheckpointError.
    """
    where = (f"thread {thread_id!r}, namespace {checkpoint_ns!r}, "
             f"checkpoint {checkpoint_id!r}")
    if isinstance(exc, SerializationError):
        if exc.thread_id is None:
            exc.args = (f"{exc} (stored in {where})", *exc.args[1:])
        error: SerializationError = exc
    else:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        error = CorruptCheckpointError(
            f"The stored rows of {where} cannot be read ({detail}). They were changed or "
            "damaged outside the saver: restore them from a backup, or continue the thread "
            "from an earlier checkpoint (get_state_history lists them).",
            reason=f"damaged stored rows ({detail})")
    error.thread_id, error.checkpoint_ns, error.checkpoint_id = (
        thread_id, checkpoint_ns, checkpoint_id)
    return error
