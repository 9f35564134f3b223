"""The classes a graph's state can hold, found in its schemas, allowed for decoding when the
graph is compiled: a new process that only compiles the graph loads a paused thread whose
state holds them (nested ones too), without register_type calls by hand.

Only classes named in the schemas' annotations are allowed (dataclasses, pydantic models,
Enums, NamedTuples, and those in their fields); nothing is ever imported by a name read from
stored data.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import Any, get_args

from hitlgraph.checkpoint.serde._registry import DEFAULT_REGISTRY
from hitlgraph.graph._schema import _hints, _is_pydantic, _is_typeddict

__all__ = ["register_schema_types", "schema_classes"]

_MAX_CLASSES = 2_000
"""At most this many classes are looked at (a bound on the walk, whatever the schemas)."""


def _fields(cls: type) -> list[Any]:
    """The annotations of a class's fields."""
    if _is_pydantic(cls):
        return [f.annotation for f in cls.model_fields.values()]  # type: ignore[attr-defined]
    return list(_hints(cls).values())


def _kind(cls: type) -> str | None:
    """What kind of stored value `cls` is: "value" (allowed for decoding), "fields" (a
    TypedDict: only its fields' classes matter), or None (nothing to allow)."""
    if issubclass(cls, enum.Enum):
        return "value"
    if dataclasses.is_dataclass(cls) or _is_pydantic(cls) or (
            issubclass(cls, tuple) and hasattr(cls, "_fields")):
        return "value"
    if _is_typeddict(cls):
        return "fields"
    return None


def schema_classes(schemas: Iterable[Any]) -> list[type]:
    """The dataclasses, pydantic models, Enums and NamedTuples named in `schemas` (the schemas
    themselves, their fields, and the fields of those, through list[...], dict[...],
    Optional, Annotated and unions)."""
    found: list[type] = []
    seen: set[int] = set()
    stack = list(schemas)
    while stack and len(seen) < _MAX_CLASSES:
        item = stack.pop()
        if not isinstance(item, type):
            stack.extend(a for a in get_args(item) if not isinstance(a, (str, int, bool)))
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        kind = _kind(item)
        if kind is None:
            stack.extend(get_args(item))
            continue
        if kind == "value":
            found.append(item)
        if not issubclass(item, enum.Enum):
            stack.extend(_fields(item))
    return found


def register_schema_types(schemas: Iterable[Any]) -> None:
    """Allow the classes of `schemas` for decoding (those registered already keep their
    entry, and so their stored name)."""
    for cls in schema_classes(schemas):
        if DEFAULT_REGISTRY.for_class(cls) is None:
            DEFAULT_REGISTRY.register(cls)
