"""Reading the JSON copy of a checkpoint's metadata, which the saver itself wrote.

json.loads goes through two Python-level methods and a whitespace match before the C scanner
that does the work: for the short object a checkpoint's metadata is, those are two thirds of
its cost, paid for every row of a page. The text this saver writes starts with the object and
ends with it, so the scanner is called directly; any other text (leading or trailing space,
bytes, damage) goes to json.loads, which reads it or raises exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["load_json"]

_scan: Callable[[str, int], tuple[Any, int]] = (
    json.JSONDecoder().scan_once)  # type: ignore[attr-defined]  # (set in __init__, untyped)
"""json's C scanner with json.loads' defaults: (value, where it ends); StopIteration if none."""


def load_json(text: Any) -> Any:
    """json.loads(text), with its result and its errors; quicker for text without padding."""
    if type(text) is str:
        try:
            value, end = _scan(text, 0)
        except StopIteration:
            return json.loads(text)
        if end == len(text):
            return value
    return json.loads(text)
