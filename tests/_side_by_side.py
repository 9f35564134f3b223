"""Side by side with LangGraph: a program written against `langgraph.*` runs in a subprocess as
it is and again with the import prefix replaced by `hitlgraph`; the tests compare the two
printed outputs, with ids and timestamps masked.

LangGraph comes with the `compat` extra (a test-only dependency); without it these tests skip,
and fail under CI=true."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest

from _services import in_ci

_MASKS = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}[.\d]*(\+00:00)?"), "<time>"),
)


def run_masked(source: str) -> str:
    """What `source` prints (it must succeed), ids and timestamps masked."""
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for pattern, mask in _MASKS:
        out = pattern.sub(mask, out)
    return out


def on_both(source: str) -> tuple[str, str]:
    """(LangGraph's output, hitlgraph's output) of a program written against `langgraph.*`."""
    return run_masked(source), run_masked(source.replace("langgraph", "hitlgraph"))


def require_langgraph(module: str) -> None:
    """Skip the calling test module without LangGraph's `module` (fail it under CI=true)."""
    try:
        importlib.import_module(module)
    except ImportError:
        why = "LangGraph is not installed: pip install -e '.[compat]'"
        if in_ci():
            pytest.fail(f"CI=true: {why}", pytrace=False)
        pytest.skip(why)
