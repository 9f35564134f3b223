"""Fixtures of the CLI tests: a working folder with the test graphs (flows.py) and a fresh
checkpoint file, a CliRunner invoker, and a pseudo-terminal spawner (pexpect)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("click", reason="the CLI tests need the cli extra: pip install -e '.[cli]'")
pytest.importorskip("rich", reason="the CLI tests need the cli extra: pip install -e '.[cli]'")



from _cli_invoke import Invoke

HERE = Path(__file__).resolve().parent


def plain_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: no colors, a wide screen, no editor."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("EDITOR", "VISUAL", "HITLGRAPH_DB", "FORCE_COLOR")}
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="200", LINES="50", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's current folder, holding flows.py; the CLI's default db goes here too."""
    shutil.copy(HERE / "flows.py", tmp_path / "flows.py")
    monkeypatch.chdir(tmp_path)
    for key, value in plain_env().items():
        monkeypatch.setenv(key, value)
    for key in ("EDITOR", "VISUAL", "HITLGRAPH_DB"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


@pytest.fixture
def hitlgraph(workdir: Path) -> Invoke:
    return Invoke()


@pytest.fixture
def spawn(workdir: Path) -> Iterator[Callable[..., Any]]:
    """Starts `python -m hitlgraph.cli ARGS...` in a pseudo-terminal (pexpect.spawn), in the
    work folder or `cwd`; keyword arguments are environment variables."""
    pexpect = pytest.importorskip("pexpect")
    children: list[Any] = []

    def start(*args: str, cwd: Path | None = None, **env: str) -> Any:
        child = pexpect.spawn(
            sys.executable, ["-m", "hitlgraph.cli", *args], cwd=str(cwd or workdir),
            env=plain_env(**env), encoding="utf-8", timeout=30, dimensions=(50, 200),
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.isalive():
            child.terminate(force=True)


@pytest.fixture
def env() -> dict[str, str]:
    """The environment for CLI subprocesses (see plain_env)."""
    return plain_env()
