"""What the commands share: their options, the checkpoint file, JSON arguments, and finding a
thread in the file."""

from __future__ import annotations

import shlex
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._errors import CliError, ExitCode, exit_codes_help
from hitlgraph.cli._jsonable import JSONInputError, parse_json
from hitlgraph.cli._load import Target
from hitlgraph.cli._session import snapshot_of
from hitlgraph.cli._threads import ThreadSummary

__all__ = [
    "DEFAULT_DB",
    "EPILOG",
    "db_flag",
    "db_option",
    "exists",
    "json_option",
    "no_input_option",
    "not_found",
    "open_saver",
    "read_json",
    "read_through",
]

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


def read_json(text: str, what: str) -> Any:
    """A JSON argument; "@PATH" reads the JSON from a file."""
    source = what
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{what} names the file '{path}', which cannot be read: "
                           f"{exc.strerror or exc}.", ExitCode.NOT_FOUND) from None
        source = f"{what} (file {path})"
    try:
        return parse_json(text, source)
    except JSONInputError as exc:
        raise CliError(f"{exc}\nQuote the JSON for the shell, e.g. {what} "
                       "'{\"topic\": \"tests\"}'.", ExitCode.USAGE) from None


@contextmanager
def open_saver(db: str, *, create: bool) -> Iterator[SqliteSaver]:
    """The SqliteSaver of `db`; unless `create`, the file must exist already."""
    path = Path(db)
    if not create and db != ":memory:" and not path.exists():
        raise CliError(
            f"No checkpoint database at '{db}' ({path.resolve()}): nothing has run with it yet. "
            f"Pass the --db your runs used (or set HITLGRAPH_DB), or start a run with "
            "`hitlgraph run` or `hitlgraph demo`.",
            ExitCode.NOT_FOUND,
        )
    manager = SqliteSaver.from_conn_string(db)
    try:
        saver = manager.__enter__()
    except sqlite3.DatabaseError as exc:
        raise CliError(f"Cannot use '{db}' as a checkpoint database: {exc}. Pass another --db.",
                       ExitCode.USAGE) from None
    try:
        yield saver
    finally:
        manager.__exit__(None, None, None)


def not_found(thread_id: str, db: str) -> CliError:
    return CliError(
        f"No thread '{thread_id}' in {db}. `hitlgraph threads{db_flag(db)}` lists the threads.",
        ExitCode.NOT_FOUND,
    )


def exists(saver: SqliteSaver, thread_id: str) -> bool:
    return saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}) \
        is not None


def read_through(target: Target, thread_id: str) -> ThreadSummary:
    """The thread as the graph's get_state() shows it."""
    try:
        return snapshot_of(target.runnable, thread_id)
    except Exception as exc:
        raise CliError(
            f"Reading thread {thread_id} through '{target.spec}' failed: {type(exc).__name__}: "
            f"{exc}. Is it the graph the thread was run with? Leave out --graph to read the "
            "checkpoint as it is.", ExitCode.GRAPH_ERROR) from exc
