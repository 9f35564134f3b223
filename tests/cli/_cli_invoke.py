"""Invoke: runs `hitlgraph ARGS...` in-process through click's CliRunner. The `hitlgraph`
fixture (tests/cli/conftest.py) gives one; tests import the class from here for their
annotations (not from conftest: several test folders have one)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from hitlgraph.cli import cli


class Invoke:
    """Runs `hitlgraph ARGS...` in-process (CliRunner) in the work folder."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    def json(self, *args: str, code: int = 0) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == code, (result.stdout, result.stderr)
        return json.loads(result.stdout)
