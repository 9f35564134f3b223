"""The JSON copy of metadata as jsonb holds it, and list()'s metadata filters as jsonb
containment tests on it (selecting a superset of the matching rows; the exact check is done
in Python)."""

from __future__ import annotations

import json
import math
from typing import Any

from hitlgraph.checkpoint import _rows
from hitlgraph.checkpoint._rows import json_text_ok
from hitlgraph.checkpoint.base import CheckpointMetadata

__all__ = ["filter_clause", "metadata_json"]


def _json_number(value: int | float) -> int | float:
    """A number for the JSON copy: an integral float as the int it equals, so that jsonb's
    exact decimal comparison agrees with Python's (2.0**70 == 2**70, but the float's shortest
    decimal, 1.1805916207174113e+21, is not the int's). jsonb holds ints of any size."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return int(value) if isinstance(value, int) else float(value)


def metadata_json(metadata: CheckpointMetadata | dict[str, Any]) -> str:
    """The JSON text copy of metadata that list() filters on, as jsonb holds it: text with a
    NUL or not valid UTF-8 becomes a marker object (and such keys are left out)."""
    return _rows.metadata_json(metadata, text_ok=json_text_ok, number=_json_number)


def filter_clause(key: Any, value: Any) -> tuple[str, tuple[Any, ...]] | None:
    """A jsonb containment test selecting (a superset of) the rows whose metadata[key] ==
    value, or None when only the exact Python check can decide. Key and value travel as one
    bound JSON document."""
    if not isinstance(key, str) or not json_text_ok(key):
        return None
    candidates: list[Any]
    if isinstance(value, bool):
        candidates = [value, int(value)]  # True == 1 == 1.0 in Python
    elif isinstance(value, str):
        if not json_text_ok(value):
            return None
        candidates = [value]
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        number = _json_number(value)
        candidates = [number]
        if number in (0, 1):
            candidates.append(bool(number))
    else:
        return None  # None also matches a missing key; lists and dicts compare loosely
    docs = [json.dumps({key: c}, ensure_ascii=True, allow_nan=False) for c in candidates]
    if len(docs) == 1:
        return "c.metadata_json @> %s::jsonb", (docs[0],)
    return "c.metadata_json @> ANY(%s::jsonb[])", (docs,)
