"""The `hitlgraph` command group. Each command lives in its own module, imported only when the
command runs (or its own --help is asked for): `hitlgraph --help` lists them from the table
below and loads no saver, graph engine extra, Rich or server code, so it starts as fast as
Python and click allow."""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import click

from hitlgraph import __version__
from hitlgraph.cli._errors import CliError, ExitCode, tampered_is_exit_6
from hitlgraph.cli._options import EPILOG

__all__ = ["COMMANDS", "Command", "cli", "main"]


class Command(NamedTuple):
    """A command of the group, found without importing it. (A NamedTuple, not a frozen
    dataclass: a fifth of the cost at import, where `hitlgraph --help` waits for it.)

    Attributes:
        where: "module:attribute" of the click command.
        summary: its line in `hitlgraph --help`.
    """

    where: str
    summary: str

    def load(self) -> click.Command:
        module, _, attribute = self.where.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.where} is a {type(command).__name__}, not a click command")
        return command


_HERE = "hitlgraph.cli."

COMMANDS: dict[str, Command] = {
    "audit": Command(_HERE + "_audit:audit", "Read and check the log of who decided what."),
    "claim": Command(_HERE + "_assign_cmd:claim",
                     "Take a paused thread's interrupt to answer it."),
    "demo": Command(_HERE + "_demo_cmd:demo", "Review an assistant's tool calls (a demo)."),
    "expire": Command(_HERE + "_expire_cmd:expire",
                      "Apply the review policies whose time came."),
    "graph": Command(_HERE + "_read_cmds:graph_cmd", "Print a graph as Mermaid text."),
    "history": Command(_HERE + "_read_cmds:history", "List a thread's checkpoints."),
    "reassign": Command(_HERE + "_assign_cmd:reassign", "Give an interrupt to someone."),
    "release": Command(_HERE + "_assign_cmd:release", "Let go of an interrupt you hold."),
    "resume": Command(_HERE + "_run_cmds:resume", "Answer a paused thread and run it on."),
    "run": Command(_HERE + "_run_cmds:run",
                   "Run a graph, answering its questions in the terminal."),
    "serve": Command(_HERE + "_serve:serve",
                     "Serve graphs over the LangGraph server HTTP API."),
    "state": Command(_HERE + "_read_cmds:state", "Show a thread's latest state."),
    "threads": Command(_HERE + "_read_cmds:threads", "List threads and what each waits for."),
}
"""Every command, by name, in the order `hitlgraph --help` lists them."""


class _Group(click.Group):
    """Commands from COMMANDS, each imported when it is used. Ctrl-C anywhere in a command
    (importing a slow module, say) exits with code 130; stored rows that cannot be read back,
    wherever a command reads them, exit with 6."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = COMMANDS.get(cmd_name)
        return found.load() if found is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, found.summary) for name, found in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with tampered_is_exit_6():
                return super().invoke(ctx)
        except KeyboardInterrupt:
            raise CliError("Stopped (Ctrl-C).", ExitCode.INTERRUPTED) from None


@click.group(cls=_Group, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hitlgraph")
@click.option("--traceback", is_flag=True, help="On an error in the graph, print its traceback.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Run hitlgraph graphs in the terminal, answer their questions, and look at their threads.

    MODULE:GRAPH names a graph: a module on the import path (the current folder is on it) or a
    .py file, and the variable holding a compiled graph, a StateGraph builder or an
    @entrypoint, e.g. my_app.agent:graph or ./agent.py:builder; or a factory, a function
    without arguments whose return annotation names one of those types
    (def build_graph() -> StateGraph[State]), which is called. THREAD is a thread id or the
    start of one.
    """
    ctx.obj = {"traceback": traceback}


def main(argv: list[str] | None = None) -> None:
    """The `hitlgraph` console script."""
    cli.main(args=argv, prog_name="hitlgraph")
