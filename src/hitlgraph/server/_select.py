"""What a listing answers of each item, as LangGraph's server reads `select` and `extract`.

`select` names the fields to keep; a name the item does not have is refused (422), naming
what is allowed. `extract` (thread search) maps aliases to paths into a thread's values,
metadata, config or interrupts (`values.messages[-1].content`), answered under "extracted";
a path that leads nowhere gives null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi import HTTPException

__all__ = ["RUN_FIELDS", "THREAD_FIELDS", "check_extract", "check_select", "extracted"]

THREAD_FIELDS: Final = ("thread_id", "created_at", "updated_at", "state_updated_at", "metadata",
                        "config", "status", "values", "interrupts")
"""A thread's fields that `select` may name (its `error` is not one, as on LangGraph's)."""
RUN_FIELDS: Final = ("run_id", "thread_id", "assistant_id", "created_at", "updated_at",
                     "status", "metadata", "kwargs", "multitask_strategy",
                     "langsmith_session_name")
"""A run's fields that `select` may name."""

MAX_EXTRACT: Final = 10
"""Paths one search may extract (LangGraph's bound)."""
_EXTRACTABLE: Final = ("values", "metadata", "config", "interrupts")
_ALIAS = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_STEP = re.compile(r"\.|\[")


def check_select(select: Sequence[str] | None, allowed: Sequence[str]) -> None:
    """Refuse (422) a select naming a field outside `allowed`."""
    unknown = [name for name in select or () if name not in allowed]
    if unknown:
        raise HTTPException(422, f"Invalid select columns: {unknown}. Pick from "
                            f"{list(allowed)}.")


def check_extract(extract: Mapping[str, str] | None) -> None:
    """Refuse (422) more than MAX_EXTRACT paths, an alias that is not an identifier or that
    is a thread field's name, and a path that does not start at an extractable column."""
    if not extract:
        return
    if len(extract) > MAX_EXTRACT:
        raise HTTPException(422, f"Maximum of {MAX_EXTRACT} extract paths allowed, got "
                            f"{len(extract)}.")
    taken = sorted(set(extract) & set(THREAD_FIELDS))
    if taken:
        raise HTTPException(422, f"Extract keys cannot use reserved field names: {taken}.")
    for alias, path in extract.items():
        if not _ALIAS.match(alias):
            raise HTTPException(422, f"Extract key {alias!r} must be a valid identifier "
                                "(letters, digits, underscores).")
        if _STEP.split(path)[0] not in _EXTRACTABLE:
            raise HTTPException(422, f"Extract path {path!r} must start with one of: "
                                f"{', '.join(_EXTRACTABLE)}.")


def extracted(item: Mapping[str, Any], extract: Mapping[str, str]) -> dict[str, Any]:
    """alias -> the value at its path in `item` (None where the path leads nowhere)."""
    return {alias: _at(item, path) for alias, path in extract.items()}


def _at(item: Mapping[str, Any], path: str) -> Any:
    root, *steps = _STEP.split(path)
    current = item.get(root)
    for step in steps:  # as many as the path has: bounded by the request
        if current is None or step.startswith("_"):
            return None
        if step.endswith("]"):
            current = _index(current, step[:-1])
        elif step:
            current = current.get(step) if isinstance(current, dict) else None
    return current


def _index(current: Any, index: str) -> Any:
    try:
        position = int(index)
    except ValueError:
        return None
    if not isinstance(current, list) or not -len(current) <= position < len(current):
        return None
    return current[position]
