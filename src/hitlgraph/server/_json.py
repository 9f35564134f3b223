"""Graph values (states, interrupts, messages, snapshots) as plain JSON data for responses."""

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

__all__ = ["dumps", "interrupt_json", "to_jsonable"]


def interrupt_json(value: Any) -> dict[str, Any]:
    """An Interrupt as the LangGraph server shows it: {"value", "id"} (+ "response_schema")."""
    out: dict[str, Any] = {"value": to_jsonable(value.value), "id": value.id}
    schema = getattr(value, "response_schema", None)
    if schema is not None:
        out["response_schema"] = to_jsonable(schema)
    return out


def _message(value: Any) -> dict[str, Any]:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        data = dump()
        if isinstance(data, dict):
            return {str(k): to_jsonable(v) for k, v in data.items()}
    out: dict[str, Any] = {"type": value.type, "content": to_jsonable(value.content)}
    for key in ("name", "id", "tool_call_id", "status", "tool_calls", "additional_kwargs",
                "response_metadata"):
        item = getattr(value, key, None)
        if item is not None:
            out[key] = to_jsonable(item)
    return out


def to_jsonable(value: Any) -> Any:
    """`value` as data json.dumps takes: messages become their dicts, Interrupts {value, id},
    dataclasses and pydantic models dicts, tuples lists, anything else unknown its repr()."""
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
        return interrupt_json(value)
    if is_message(value):
        return _message(value)
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.name.startswith("_")}
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


def dumps(value: Any) -> str:
    """`value` as compact JSON text (through to_jsonable)."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
