"""State schemas (TypedDict, dataclass, pydantic model) turned into channel specs and coercers."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin, get_type_hints, is_typeddict

from hitlgraph.channels.base import MISSING, BaseChannel
from hitlgraph.channels.binop import BinaryOperatorAggregate, empty_value
from hitlgraph.channels.delta import DeltaChannel
from hitlgraph.channels.last_value import LastValue
from hitlgraph.managed.base import ManagedValueSpec, is_managed_value

Reducer = Callable[[Any, Any], Any]
_NO_DEFAULT: Any = object()


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One state key: its reducer (None: last value wins) and how to make its first value,
    or a channel object that does both (the engine's plain keys skip channel objects: the
    step cost of the common case stays a dict write)."""

    key: str
    reducer: Reducer | None
    initial: Callable[[], Any] | None
    channel: BaseChannel[Any, Any, Any] | None = None
    """The prototype of the key's channel (each run makes its own from it), for a key whose
    annotation names a channel other than LastValue and BinaryOperatorAggregate."""


def _is_pydantic(schema: Any) -> bool:
    return isinstance(schema, type) and hasattr(schema, "model_fields") and hasattr(
        schema, "model_validate"
    )


def _is_typeddict(schema: Any) -> bool:
    # typing_extensions' check also knows typing_extensions.TypedDict (LangGraph's docs use
    # it). It is looked up, not imported: a schema made with it means it is loaded, and
    # importing it would cost more than the rest of this module.
    if not isinstance(schema, type):
        return False
    extensions = sys.modules.get("typing_extensions")
    return is_typeddict(schema) or (extensions is not None and extensions.is_typeddict(schema))


def is_schema(obj: Any) -> bool:
    """Whether `obj` is a class hitlgraph can use as a state schema."""
    return _is_typeddict(obj) or (dataclasses.is_dataclass(obj) and isinstance(obj, type)) or (
        _is_pydantic(obj)
    )


def _hints(schema: type) -> dict[str, Any]:
    module = sys.modules.get(schema.__module__)
    try:
        return get_type_hints(schema, globalns=vars(module) if module else None,
                              include_extras=True)
    except (NameError, TypeError):
        return dict(getattr(schema, "__annotations__", {}))


def _reducer_of(annotation: Any) -> Reducer | None:
    if get_origin(annotation) is not Annotated:
        return None
    for meta in reversed(annotation.__metadata__):
        if callable(meta) and not isinstance(meta, type):
            return meta  # type: ignore[no-any-return]
    return None


def _channel_of(annotation: Any) -> BaseChannel[Any, Any, Any] | None:
    """The channel an annotation names, as LangGraph reads it: the first channel instance in
    `Annotated[...]`'s metadata, or a channel class there, made for the annotated type."""
    if get_origin(annotation) is not Annotated:
        return None
    for meta in annotation.__metadata__:
        if isinstance(meta, DeltaChannel) and meta.inferred:
            return meta.for_type(get_args(annotation)[0])
        if isinstance(meta, BaseChannel):
            return meta.copy()  # (a copy: the same instance may annotate several keys)
        if isinstance(meta, type) and issubclass(meta, BaseChannel):
            return meta(get_args(annotation)[0])
    return None


def managed_of(annotation: Any) -> ManagedValueSpec | None:
    """The ManagedValue class an annotation names, as LangGraph finds it: the last metadata
    of an `Annotated[...]`, looked for through NotRequired[...] and the like."""
    for _ in range(8):  # (a bound: annotations nest a few levels at most)
        meta = getattr(annotation, "__metadata__", ())
        if meta:
            last = get_origin(meta[-1]) or meta[-1]
            if is_managed_value(last):
                return last
        args = get_args(annotation) if get_origin(annotation) is not None else ()
        if not args:
            return None
        annotation = args[0]
    return None


def _spec_of(key: str, annotation: Any) -> ChannelSpec:
    """A state key's spec: a LastValue or BinaryOperatorAggregate named in the annotation
    becomes the plain form the engine writes directly; other channels are kept as objects."""
    channel = _channel_of(annotation)
    if channel is None:
        reducer = _reducer_of(annotation)
        return ChannelSpec(key, reducer, _initial_of(annotation) if reducer else None)
    if type(channel) is LastValue:
        return ChannelSpec(key, None, None)
    if type(channel) is BinaryOperatorAggregate:
        typ = channel.typ
        has_empty = empty_value(typ) is not MISSING
        return ChannelSpec(key, channel.operator, (lambda: empty_value(typ)) if has_empty else None)
    channel.key = key
    return ChannelSpec(key, None, None, channel)


def _initial_of(annotation: Any) -> Callable[[], Any] | None:
    """The empty value a reducer key starts from, when its type can make one (list -> [],
    Sequence -> [] as in LangGraph); made anew for each run."""
    typ = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
    empty = empty_value(typ)
    return None if empty is MISSING else type(empty)


def _fields_of(schema: Any) -> dict[str, Any]:
    """The annotated fields of a state schema (none for None), checked for reserved names."""
    if schema is None:
        return {}
    if not is_schema(schema):
        raise TypeError(
            f"State schema must be a TypedDict, a dataclass or a pydantic model, got {schema!r}."
        )
    hints = _hints(schema)
    for key in hints:
        if key.startswith("__") and key.endswith("__"):
            raise ValueError(f"State key '{key}' is reserved: names like '__x__' are hitlgraph's.")
        if key in _RESERVED_KEYS or key.startswith("__pregel_"):
            raise ValueError(f"Channel name '{key}' is reserved (a config or checkpoint key, "
                             "as in LangGraph): rename the state key.")
    return hints


_RESERVED_KEYS = frozenset({"configurable", "checkpoint_id", "checkpoint_ns", "checkpoint_map",
                            "langsmith:hidden", "|", ":"})
"""State keys LangGraph refuses besides '__x__' names (its reserved config and
checkpoint keys and namespace separators)."""


def channel_specs(schema: Any) -> dict[str, ChannelSpec]:
    """The state keys of `schema`, each with its reducer (managed values are not keys)."""
    return {key: _spec_of(key, annotation) for key, annotation in _fields_of(schema).items()
            if managed_of(annotation) is None}


def managed_specs(schema: Any) -> dict[str, ManagedValueSpec]:
    """The managed values `schema` names (RemainingSteps...), by key."""
    found = ((key, managed_of(annotation)) for key, annotation in _fields_of(schema).items())
    return {key: managed for key, managed in found if managed is not None}


def keys_of(schema: Any) -> tuple[str, ...]:
    """The state keys a schema names, in declaration order (managed values left out)."""
    return tuple(channel_specs(schema))


def read_keys(schema: Any) -> tuple[str, ...]:
    """The keys a node of input `schema` reads, in declaration order: its state keys and
    its managed values."""
    fields = _fields_of(schema)
    return tuple(fields)


def coercer(
    schema: Any, keys: tuple[str, ...], *, full: bool
) -> Callable[[dict[str, Any]], Any]:
    """A function turning channel values into what a node expects: a dict, or a schema instance.

    `full` says the keys are all the state's keys. Dicts list keys in schema order.
    """
    keyset = frozenset(keys)
    del full
    if _is_pydantic(schema):
        def to_model(values: dict[str, Any]) -> Any:
            return schema.model_validate({k: v for k, v in values.items() if k in keyset})
        return to_model
    if dataclasses.is_dataclass(schema) and isinstance(schema, type):
        def to_dataclass(values: dict[str, Any]) -> Any:
            return schema(**{k: v for k, v in values.items() if k in keyset})
        return to_dataclass
    def to_dict(values: dict[str, Any]) -> Any:
        return {k: values[k] for k in keys if k in values}
    return to_dict


def update_pairs(schema: Any, value: Any) -> list[tuple[str, Any]] | None:
    """The (key, value) writes in a node's returned object of a schema class, or None."""
    if _is_pydantic(type(value)):
        fields_set = getattr(value, "model_fields_set", None)
        names = fields_set if fields_set is not None else type(value).model_fields
        return [(k, getattr(value, k)) for k in type(value).model_fields if k in names]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    return None
