"""The `hitlgraph` command line: run graphs in the terminal, answer their interrupts, and look at
their threads. Needs the `cli` extra: ``pip install -e '.[cli]'`` from the repository.

Commands: run, resume, threads, state, history, graph, demo (see ``hitlgraph --help``). Exit
codes are `ExitCode`'s values.
"""

import importlib.util

from hitlgraph._install import install_command

try:
    import click  # noqa: F401

    # Rich is looked for, not imported: `hitlgraph --help` never draws with it.
    if importlib.util.find_spec("rich") is None:
        raise ImportError("No module named 'rich'")
except ImportError as _missing:
    raise ImportError(
        "The hitlgraph command line needs click and rich, which are not installed "
        f"({_missing}). Install them with: {install_command('cli')}"
    ) from _missing

from hitlgraph.cli._app import cli, main
from hitlgraph.cli._errors import CliError, ExitCode

__all__ = ["CliError", "ExitCode", "cli", "main"]
