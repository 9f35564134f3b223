"""list()'s metadata filters in SQLite's SQL: conditions on the JSON copy of metadata that
select a superset of the matching rows (the exact check is done in Python)."""

from __future__ import annotations

import re
from typing import Any, Final

from hitlgraph.checkpoint._rows import json_text_ok

__all__ = ["INT64", "filter_clause"]

INT64: Final = (-(2**63), 2**63 - 1)
"""The ints SQLite's JSON functions hold as numbers."""

_SAFE_FILTER_KEY: Final = re.compile(r"[ !#-\[\]-~]+")
"""Printable ASCII without '"' and '\\': such a key is stored verbatim in the JSON copy and can
be named by a quoted JSON path; other keys are matched in Python only."""


def filter_clause(key: Any, value: Any) -> tuple[str, tuple[Any, ...]] | None:
    """An SQL condition selecting (a superset of) rows whose metadata[key] == value, or None
    when only the exact Python check can decide. The key becomes a bound JSON path."""
    if not isinstance(key, str) or _SAFE_FILTER_KEY.fullmatch(key) is None:
        return None
    path = '$."' + key + '"'
    if value is None:
        return "json_extract(metadata_json, ?) IS NULL", (path,)
    if isinstance(value, str):
        if not json_text_ok(value):  # SQLite's JSON functions cut text at NUL
            return None
        return (
            "(json_type(metadata_json, ?) = 'text' AND json_extract(metadata_json, ?) = ?)",
            (path, path, value),
        )
    if isinstance(value, (bool, int, float)):
        number: int | float
        if isinstance(value, float):
            # Beyond int64 a float may equal an int the JSON copy could not hold as a number.
            if value != value or abs(value) >= 2.0**63:
                return None
            number = value
        else:
            number = int(value)
            if not INT64[0] <= number <= INT64[1]:
                return None
        return (
            "(json_type(metadata_json, ?) IN ('integer', 'real', 'true', 'false') "
            "AND json_extract(metadata_json, ?) = ?)",
            (path, path, number),
        )
    return None
