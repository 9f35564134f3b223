"""load_json reads the saver's JSON copy of metadata as json.loads does, errors included."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from hitlgraph.checkpoint.sqlite._json_text import load_json

TEXTS: list[Any] = [
    '{"source":"loop","step":500,"parents":{}}', '{"a": [1, 2.5, "x", null, true]}', "[1,2]",
    '"text"', "12", "1.5e3", '{"a":1e400}', '{"a":NaN}', " {}", "{} ", "{}x", '{"a":1}{"b":2}',
    "", "nul", "{", "\ufeff{}", b'{"a":1}', '{"\\u00e9":"\\ud83d\\ude00"}',
]


def _outcome(load: Any, text: Any) -> tuple[str, Any]:
    try:
        return "value", load(text)
    except Exception as exc:  # the same type and message as json.loads
        return type(exc).__name__, str(exc)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("text", TEXTS)
def test_load_json_reads_and_refuses_as_json_loads_does(text: Any) -> None:
    assert _same(_outcome(load_json, text), _outcome(json.loads, text))


def test_a_refusal_is_the_json_decode_error_of_json_loads() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        load_json('{"step": 1,}')
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads('{"step": 1,}')
    assert (caught.value.msg, caught.value.pos) == (expected.value.msg, expected.value.pos)
