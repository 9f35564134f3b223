"""Overwrite: a write that replaces a reducer key's value instead of going through its reducer.

As in LangGraph, three spellings are recognised: the `Overwrite(value)` object, the dict
`{"__overwrite__": value}`, and `{"type": "__overwrite__", "value": value}` (what an
Overwrite becomes once sent as JSON, e.g. through the server's API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from hitlgraph.checkpoint.serde._registry import DEFAULT_REGISTRY

__all__ = ["OVERWRITE", "NOT_OVERWRITE", "Overwrite", "overwritten"]

OVERWRITE = "__overwrite__"
NOT_OVERWRITE: Any = object()
"""What `overwritten` returns for an ordinary write."""


@dataclass(slots=True)
class Overwrite:
    """Write `value` to a reducer key as it is, bypassing the reducer.

    A key can take one Overwrite per step; the other writes to it in that step are dropped.
    E.g. `return {"messages": Overwrite([summary])}` replaces the whole list.
    """

    value: Any
    """The key's new value."""
    type: Literal["__overwrite__"] = "__overwrite__"
    """Tells an Overwrite apart once it has been turned into a plain dict (JSON)."""


# (a node's Overwrite is saved with the task's writes before it is applied)
DEFAULT_REGISTRY.register(Overwrite, "hitlgraph.types.Overwrite")


def overwritten(value: Any) -> Any:
    """The value an Overwrite write carries, or NOT_OVERWRITE for an ordinary write."""
    kind = type(value)
    if kind is Overwrite:
        return value.value
    if kind is dict:
        if len(value) == 1 and OVERWRITE in value:
            return value[OVERWRITE]
        if value.get("type") == OVERWRITE and "value" in value:
            return value["value"]
    return NOT_OVERWRITE
