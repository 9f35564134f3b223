"""Every "install X" hint in an error message is a command that works from the repository."""

from __future__ import annotations

import importlib.metadata
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hitlgraph._install import install_command

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = importlib.metadata.metadata("hitlgraph").get_all("Provides-Extra") or []


@pytest.mark.parametrize("extra", ["cli", "server", "postgres", "langchain"])
def test_install_command_names_this_checkout_and_a_declared_extra(extra: str) -> None:
    words = shlex.split(install_command(extra))
    assert words[:3] == ["pip", "install", "-e"]
    folder, _, rest = words[3].partition("[")
    assert Path(folder) == ROOT and rest == f"{extra}]"
    assert extra in EXTRAS


def test_server_extra_brings_the_command_line() -> None:
    # `hitlgraph serve` is a command of the CLI: installing the server alone must be enough.
    server = [r.split(";")[0] for r in importlib.metadata.requires("hitlgraph") or []
              if r.endswith("extra == 'server'")]
    assert {"click", "rich", "fastapi"} <= {r.split("<")[0].split(">")[0] for r in server}


def _import_error(blocked: str, module: str) -> str:
    code = (f"import sys; sys.modules[{blocked!r}] = None\n"
            f"try:\n    import {module}\nexcept ImportError as e:\n    print(e)\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize(("blocked", "module", "extra"), [
    ("click", "hitlgraph.cli", "cli"),
    ("fastapi", "hitlgraph.server", "server"),
    ("psycopg", "hitlgraph.checkpoint.postgres", "postgres"),
    ("psycopg", "hitlgraph.store.postgres", "postgres"),
])
def test_missing_extra_error_gives_the_working_command(blocked: str, module: str,
                                                       extra: str) -> None:
    assert install_command(extra) in _import_error(blocked, module)
