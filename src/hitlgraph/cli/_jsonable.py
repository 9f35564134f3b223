"""Graph values (states, interrupts, messages) as plain JSON data, for `--json` and for display."""

from __future__ import annotations

import json
from typing import Any

from hitlgraph._jsonable import Jsonable, is_message

__all__ = ["dumps", "is_message", "parse_answer", "parse_json", "to_jsonable", "JSONInputError"]


to_jsonable = Jsonable()
"""`value` as data json.dumps takes: messages become {type, content, ...}, Interrupts
{id, value}, dataclasses and pydantic models dicts, sets and tuples lists, anything else
unknown its repr()."""


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


def parse_answer(text: str, what: str) -> Any:
    """An answer as a person gives it: JSON, or else plain text, taken as a string (`yes`,
    `Ada Lovelace`). Text starting with { [ or " is meant as JSON, so it must parse:
    JSONInputError otherwise, as for empty text."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if text and text[0] not in '{["':
            return text
    return parse_json(text, what)
