"""The command that installs one of hitlgraph's extras, for error messages about a missing one."""

from __future__ import annotations

import shlex
from pathlib import Path

__all__ = ["install_command", "missing_extra"]

_ROOT = Path(__file__).resolve().parents[2]


def install_command(extra: str) -> str:
    """A pip command that installs `extra` into the running environment.

    From a source checkout (an editable install, as the README has it) the command names the
    checkout's folder, so it works from any current folder; otherwise it names the repository.
    """
    if (_ROOT / "pyproject.toml").is_file():
        return f"pip install -e {shlex.quote(f'{_ROOT}[{extra}]')}"
    return f"pip install -e '.[{extra}]' (in the hitlgraph repository)"


def missing_extra(what: str, needs: str, extra: str, cause: ImportError) -> ImportError:
    """The error a module raises when `needs` (what the `extra` extra installs) is missing."""
    return ImportError(f"{what} needs {needs}, which the `{extra}` extra installs: "
                       f"{install_command(extra)} ({cause})")
