"""The `hitlgraph` command line: run graphs in the terminal, answer their interrupts, and look at
their threads. Needs the `cli` extra: ``pip install 'hitlgraph[cli]'``.

Commands: run, resume, threads, state, history, graph, demo (see ``hitlgraph --help``). Exit
codes are `ExitCode`'s values.
"""

try:
    import click  # noqa: F401
    import rich  # noqa: F401
except ImportError as _missing:
    raise ImportError(
        "The hitlgraph command line needs click and rich, which are not installed "
        f"({_missing}). Install them with: pip install 'hitlgraph[cli]'"
    ) from _missing

from hitlgraph.cli._app import cli, main
from hitlgraph.cli._errors import CliError, ExitCode

__all__ = ["CliError", "ExitCode", "cli", "main"]
