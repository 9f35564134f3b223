"""What the command line imports before it does anything: `import hitlgraph.cli` and
`hitlgraph --help` load neither the server nor the optional backends, and `--help` loads no
command module (the commands are found in _app.COMMANDS and imported when used)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from _fresh_process import ONE_QUESTION
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


_GRAPH = ONE_QUESTION + "graph = builder.compile()\n"

_NOT_FOR_THE_PROMPT = ("rich.table", "rich._emoji_codes", "difflib", "hitlgraph.server",
                       "hashlib", "_hashlib")
"""Loaded only when a command needs them (hashlib: OpenSSL, for a decision row's hash)."""


def test_the_first_prompt_of_run_loads_no_table_emoji_codes_or_fuzzy_matcher(
        tmp_path: Path) -> None:
    # The process stops where it would read the answer: what is loaded then is what the
    # first prompt waited for.
    (tmp_path / "asks.py").write_text(_GRAPH, encoding="utf-8")
    db = tmp_path / "db.sqlite"
    loaded = _loaded_after(
        "from hitlgraph.cli import _prompt, main\n"
        "def _read(self, prompt):\n"
        "    print(json.dumps(sorted(sys.modules)))\n"
        "    raise SystemExit(0)\n"
        "_prompt.Prompter.read = _read\n"
        f"main(['run', {str(tmp_path / 'asks.py') + ':graph'!r}, '--db', {str(db)!r},"
        " '--input', '{}'])")
    assert "rich.panel" in loaded and "hitlgraph.pregel.compiled" in loaded
    assert _under(loaded, _NOT_FOR_THE_PROMPT) == []


def test_emoji_codes_in_shown_values_stay_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    # The price of not loading Rich's emoji table, and what a reader of stored values wants.
    from hitlgraph.cli._render import View

    View().say("said :thumbs_up: twice")
    View().final(":smile:", {"answer": ":ok:"})
    out = capsys.readouterr().out
    assert "said :thumbs_up: twice" in out and "Finished · thread :smile:" in out
    assert "\N{THUMBS UP SIGN}" not in out


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
