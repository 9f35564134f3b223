"""What the command line imports before it does anything: `import hitlgraph.cli` and
`hitlgraph --help` load neither the server nor the optional backends, and `--help` loads no
command module (the commands are found in _app.COMMANDS and imported when used)."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from hitlgraph.cli._app import COMMANDS, cli

_NEVER = ("hitlgraph.server", "uvicorn", "fastapi", "starlette", "psycopg", "psycopg_pool",
          "httpx", "langchain_core")
_NOT_FOR_HELP = ("rich.console", "hitlgraph.checkpoint.sqlite", "hitlgraph.cli._run_cmds",
                 "hitlgraph.cli._render", "hitlgraph.cli._serve")


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    return set(json.loads(out.stdout.splitlines()[-1]))


def _under(loaded: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if m in packages or m.startswith(tuple(p + "." for p in
                                                                          packages)))


def test_importing_the_cli_loads_no_server_and_no_optional_backend() -> None:
    assert _under(_loaded_after("import hitlgraph.cli"), _NEVER) == []


def test_help_loads_no_command_module_rich_or_saver() -> None:
    loaded = _loaded_after("from hitlgraph.cli import main\n"
                           "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert _under(loaded, _NEVER + _NOT_FOR_HELP) == []
    assert "click" in loaded


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_command_loads_under_its_name(name: str) -> None:
    command = COMMANDS[name].load()
    assert isinstance(command, click.Command)
    assert command.name == name


def test_help_lists_every_command_with_its_summary() -> None:
    shown = cli.get_help(click.Context(cli, info_name="hitlgraph"))
    for name, found in COMMANDS.items():
        assert f"  {name}" in shown and found.summary in shown


def test_an_unknown_command_is_a_usage_error_naming_it() -> None:
    result = CliRunner().invoke(cli, ["rnu"])
    assert result.exit_code == 2 and "No such command 'rnu'" in result.output
