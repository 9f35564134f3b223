"""Search filters, checked in Python: every store uses this as the final word, so a filter
selects the same items on every backend (SQL stores narrow the rows first; see _sql_ops).

The semantics are LangGraph's in-memory store's: {"key": value} is equality of the item's
top-level key (True == 1, as in Python; a nested dict matches key by key, a list item by
item); {"key": {"$op": value, ...}} applies each operator. Where LangGraph raises on a
comparison that cannot be made (a missing key under $gt), the item simply does not match.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["OPERATORS", "check_filter", "matches"]

OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")


def check_filter(filter: Mapping[str, Any] | None) -> None:
    """Raise ValueError for an operator this module does not know, before anything is read."""
    for key, wanted in (filter or {}).items():
        if _is_operators(wanted):
            unknown = [op for op in wanted if op not in OPERATORS]
            if unknown:
                raise ValueError(f"Unsupported filter operator '{unknown[0]}' on key '{key}'; "
                                 f"use one of {', '.join(OPERATORS)}.")


def matches(value: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    """Whether an item whose value is `value` passes `filter`."""
    return all(_match(value.get(key), wanted) for key, wanted in (filter or {}).items())


def _is_operators(wanted: Any) -> bool:
    return isinstance(wanted, dict) and any(str(k).startswith("$") for k in wanted)


def _match(actual: Any, wanted: Any) -> bool:
    if _is_operators(wanted):
        return all(_apply(actual, op, operand) for op, operand in wanted.items())
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            _match(actual.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, (list, tuple)):
        return (isinstance(actual, (list, tuple)) and len(actual) == len(wanted)
                and all(_match(a, w) for a, w in zip(actual, wanted, strict=True)))
    return bool(actual == wanted)


def _apply(actual: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return bool(actual == operand)
    if op == "$ne":
        return bool(actual != operand)
    left: Any = _comparable(actual)
    right: Any = _comparable(operand)
    if left is None or right is None or type(left) is not type(right):
        return False
    if op == "$gt":
        return bool(left > right)
    if op == "$gte":
        return bool(left >= right)
    if op == "$lt":
        return bool(left < right)
    return bool(left <= right)  # $lte: check_filter let no other operator through


def _comparable(value: Any) -> float | str | None:
    """Numbers (and numeric strings, as LangGraph compares with float()) as floats, other
    strings as themselves; None for what cannot be ordered."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return None
