"""Graph values (states, interrupts, messages, snapshots) as plain JSON data for responses."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hitlgraph._jsonable import Jsonable

__all__ = ["dumps", "interrupt_json", "to_jsonable"]


class _ServerJsonable(Jsonable):
    """The LangGraph server's shapes: messages as their whole dicts, interrupts in values and
    stream chunks as every field of the Interrupt (response_schema null when unset),
    exceptions as {"error", "message"}, every public dataclass field."""

    def interrupt(self, value: Any) -> Any:
        return {"value": self(value.value), "id": value.id,
                "response_schema": self(getattr(value, "response_schema", None))}

    def message(self, value: Any) -> Any:
        dump = getattr(value, "model_dump", None)
        if callable(dump):
            data = dump()
            if isinstance(data, dict):
                return {str(k): self(v) for k, v in data.items()}
        out: dict[str, Any] = {"type": value.type, "content": self(value.content)}
        for key in ("name", "id", "tool_call_id", "status", "tool_calls", "additional_kwargs",
                    "response_metadata"):
            item = getattr(value, key, None)
            if item is not None:
                out[key] = self(item)
        return out

    def exception(self, value: BaseException) -> Any:
        return {"error": type(value).__name__, "message": str(value)}

    def dataclass(self, value: Any) -> Any:
        return {f.name: self(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.name.startswith("_")}


to_jsonable = _ServerJsonable()
"""`value` as data json.dumps takes: messages become their dicts, Interrupts {value, id},
dataclasses and pydantic models dicts, tuples lists, anything else unknown its repr()."""


def interrupt_json(value: Any) -> Any:
    """An Interrupt as the LangGraph server shows it in thread states and Thread.interrupts:
    {"id", "value"}, and "response_schema" only when the interrupt has one."""
    out: dict[str, Any] = {"id": value.id, "value": to_jsonable(value.value)}
    schema = getattr(value, "response_schema", None)
    if schema is not None:
        out["response_schema"] = to_jsonable(schema)
    return out


def dumps(value: Any) -> str:
    """`value` as compact JSON text (through to_jsonable)."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
