"""Graph values (states, interrupts, messages, snapshots) as plain JSON data.

One walk over a value, shared by the command line (`--json`, display) and the server
(responses); each says in a subclass how messages, interrupts, dataclasses and exceptions look.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["Jsonable", "is_message"]


def is_message(value: Any) -> bool:
    """Whether `value` looks like a chat message (hitlgraph's or langchain-core's), by its
    shape: no import of either message module."""
    return (
        hasattr(value, "content") and isinstance(getattr(value, "type", None), str)
        and not isinstance(value, (type, Mapping))
    )


class Jsonable:
    """Callable: `value` as data json.dumps takes. Dicts, lists, tuples and sets (sorted) become
    JSON containers, dataclasses and pydantic models dicts, enums their values, dates ISO
    text, UUIDs text, bytes {"base64": ...}, non-finite floats and anything unknown repr()."""

    def __call__(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if value == value and abs(value) != float("inf") else repr(value)
        if isinstance(value, Mapping):
            return {str(k): self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
            return [self(v) for v in items]
        if type(value).__name__ == "Interrupt" and hasattr(value, "id") and hasattr(value, "value"):
            return self.interrupt(value)
        if is_message(value):
            return self.message(value)
        if isinstance(value, BaseException):
            return self.exception(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.dataclass(value)
        dump = getattr(value, "model_dump", None)
        if callable(dump) and not isinstance(value, type):
            return self(dump())
        if isinstance(value, enum.Enum):
            return self(value.value)
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, (bytes, bytearray)):
            return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
        return repr(value)

    def interrupt(self, value: Any) -> Any:
        """An Interrupt: {"id", "value"}."""
        return {"id": value.id, "value": self(value.value)}

    def message(self, value: Any) -> Any:
        """A chat message: {"type", "content"} and those of name, id, tool_call_id, status and
        tool_calls that are set."""
        out: dict[str, Any] = {"type": value.type, "content": self(value.content)}
        for key in ("name", "id", "tool_call_id", "status"):
            item = getattr(value, key, None)
            if item not in (None, ""):
                out[key] = self(item)
        calls = getattr(value, "tool_calls", None)
        if calls:
            out["tool_calls"] = self(list(calls))
        return out

    def exception(self, value: BaseException) -> Any:
        """An exception: its repr()."""
        return repr(value)

    def dataclass(self, value: Any) -> Any:
        """A dataclass instance: its public fields that differ from their defaults."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if f.name.startswith("_"):
                continue
            item = getattr(value, f.name)
            default = (f.default if f.default is not dataclasses.MISSING
                       else f.default_factory() if f.default_factory is not dataclasses.MISSING
                       else dataclasses.MISSING)
            if default is dataclasses.MISSING or item != default:
                out[f.name] = self(item)
        return out
