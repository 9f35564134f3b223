"""Code short enough to read at once: no module of src/hitlgraph over 600 lines, no function of
the engine (src/hitlgraph/pregel) over 80."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hitlgraph"
MODULE_LINES = 600
ENGINE_FUNCTION_LINES = 80


def test_no_module_is_longer_than_600_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MODULE_LINES}
    assert not long, f"split these modules by concern (lines): {long}"


def test_no_engine_function_is_longer_than_80_lines() -> None:
    long: dict[str, int] = {}
    for path in sorted((PACKAGE / "pregel").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > ENGINE_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = size
    assert not long, f"split these functions into their phases (lines): {long}"
