"""Graph values (states, interrupts, messages) as plain JSON data, for `--json` and for display."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import uuid
from collections.abc import Mapping
from typing import Any

from hitlgraph.pregel._stream import is_message

__all__ = ["dumps", "is_message", "parse_json", "to_jsonable", "JSONInputError"]


def _message(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": value.type, "content": to_jsonable(value.content)}
    for key in ("name", "id", "tool_call_id", "status"):
        item = getattr(value, key, None)
        if item not in (None, ""):
            out[key] = to_jsonable(item)
    calls = getattr(value, "tool_calls", None)
    if calls:
        out["tool_calls"] = to_jsonable(list(calls))
    return out


def _dataclass(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        if f.name.startswith("_"):
            continue
        item = getattr(value, f.name)
        default = (f.default if f.default is not dataclasses.MISSING
                   else f.default_factory() if f.default_factory is not dataclasses.MISSING
                   else dataclasses.MISSING)
        if default is dataclasses.MISSING or item != default:
            out[f.name] = to_jsonable(item)
    return out


def to_jsonable(value: Any) -> Any:
    """`value` as data json.dumps takes: messages become {type, content, ...}, Interrupts
    {id, value}, dataclasses and pydantic models dicts, sets and tuples lists, anything else
    unknown its repr()."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else repr(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v) for v in items]
    if type(value).__name__ == "Interrupt" and hasattr(value, "id") and hasattr(value, "value"):
        return {"id": value.id, "value": to_jsonable(value.value)}
    if is_message(value):
        return _message(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return to_jsonable(dump())
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return repr(value)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """`value` as JSON text (through to_jsonable)."""
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False)


class JSONInputError(ValueError):
    """Text that should be JSON is not; the message shows where it went wrong."""


def parse_json(text: str, what: str) -> Any:
    """Parse `text` as JSON, or raise JSONInputError naming `what`, the problem and its place:

        --input is not valid JSON: Expecting ',' delimiter (line 1, column 9):
          {"a": 1 "b": 2}
                  ^
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines() or [""]
        line = lines[min(exc.lineno, len(lines)) - 1]
        shown, col = line, exc.colno
        if len(line) > 70:  # keep the caret near the problem on long lines
            start = max(0, col - 35)
            shown, col = line[start:start + 70], col - start
        raise JSONInputError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}):\n"
            f"  {shown}\n  {' ' * (col - 1)}^"
        ) from None
