"""The options the commands share (--db, --json, --no-input) and the help's epilog: only
click, so that `hitlgraph --help` and the command listing load nothing else."""

from __future__ import annotations

import shlex
from typing import Any

import click

from hitlgraph.cli._errors import exit_codes_help

__all__ = [
    "DEFAULT_DB",
    "DEMO_SPEC",
    "EPILOG",
    "db_flag",
    "db_option",
    "json_option",
    "no_input_option",
]

DEMO_SPEC = "hitlgraph.cli.demo:graph"

DEFAULT_DB = "hitlgraph.sqlite"

EPILOG = f"""\b
Checkpoints go to a SQLite file: --db PATH, or $HITLGRAPH_DB,
else ./{DEFAULT_DB} in the current folder.

\b
Exit codes:
{exit_codes_help()}
"""


def db_option(f: Any) -> Any:
    return click.option(
        "--db", "db", default=DEFAULT_DB, show_default=True, envvar="HITLGRAPH_DB",
        metavar="PATH", help="SQLite file of the checkpoints (env HITLGRAPH_DB).",
    )(f)


def json_option(f: Any) -> Any:
    return click.option(
        "--json", "as_json", is_flag=True,
        help="Print the result as JSON on stdout (anything for people goes to stderr).",
    )(f)


def no_input_option(f: Any) -> Any:
    return click.option(
        "--no-input", is_flag=True,
        help="Never ask: stop at the first pause, print what it waits for, exit 3.",
    )(f)


def db_flag(db: str) -> str:
    """The --db part of a command to copy: empty for the default file."""
    return "" if db == DEFAULT_DB else f" --db {shlex.quote(db)}"
