"""What the commands that read or run threads share: the checkpoint file, JSON arguments, and
finding a thread (and its graph) in the file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._errors import CliError, ExitCode, is_unreadable_store
from hitlgraph.cli._jsonable import JSONInputError, parse_answer, parse_json
from hitlgraph.cli._load import Loaded, Target, load_object
from hitlgraph.cli._options import DEMO_SPEC, db_flag
from hitlgraph.cli._session import snapshot_of
from hitlgraph.cli._threads import ThreadSummary, recorded_graph

__all__ = [
    "exists",
    "graph_of_thread",
    "not_found",
    "open_saver",
    "read_answer",
    "read_json",
    "read_through",
    "resolve_thread",
]

def _argument_text(text: str, what: str) -> tuple[str, str]:
    """(the text, what to call it in errors); "@PATH" reads the text from a file."""
    if not text.startswith("@"):
        return text, what
    path = Path(text[1:])
    try:
        return path.read_text(encoding="utf-8"), f"{what} (file {path})"
    except OSError as exc:
        raise CliError(f"{what} names the file '{path}', which cannot be read: "
                       f"{exc.strerror or exc}.", ExitCode.NOT_FOUND) from None


def read_json(text: str, what: str) -> Any:
    """A JSON argument such as --input; "@PATH" reads the JSON from a file."""
    text, source = _argument_text(text, what)
    try:
        return parse_json(text, source)
    except JSONInputError as exc:
        raise CliError(f"{exc}\nQuote the JSON for the shell, e.g. {what} "
                       "'{\"topic\": \"tests\"}'.", ExitCode.USAGE) from None


def read_answer(text: str) -> Any:
    """--value: JSON, or plain text taken as a string, as the prompt takes it; "@PATH" reads
    the answer from a file."""
    text, source = _argument_text(text, "--value")
    try:
        return parse_answer(text, source)
    except JSONInputError as exc:
        raise CliError(f"{exc}\nQuote the JSON for the shell, e.g. --value "
                       "'{\"approved\": true}'; plain text not starting with { [ or \" is taken "
                       "as a string, e.g. --value yes.", ExitCode.USAGE) from None


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


_SHOWN = 10
"""How many candidates an ambiguous thread prefix's error names."""


def resolve_thread(saver: SqliteSaver, wanted: str, db: str) -> str:
    """The thread `wanted` names: its id, or the start of exactly one thread's id (one
    indexed read of at most _SHOWN + 1 ids, however many threads the database holds)."""
    if exists(saver, wanted):
        return wanted
    found = [t.thread_id for t in saver.list_threads(prefix=wanted, limit=_SHOWN + 1)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise not_found(wanted, db)
    count = str(len(found)) if len(found) <= _SHOWN else f"more than {_SHOWN}"
    shown = ", ".join(found[:_SHOWN]) + (" and more" if len(found) > _SHOWN else "")
    raise CliError(f"Thread '{wanted}' is ambiguous: {count} threads' ids start with it "
                   f"({shown}). Give more of the id.", ExitCode.USAGE)


def graph_of_thread(saver: SqliteSaver, thread_id: str, given: str | None) -> Loaded:
    """The graph to run the thread with: --graph when given, else the one recorded when the
    thread ran."""
    if given is not None:
        return load_object(given)
    recorded = recorded_graph(saver, thread_id)
    if recorded is None:
        raise CliError(
            f"Resuming thread {thread_id} runs its graph's code, so name the graph: --graph "
            "MODULE:GRAPH (the one the thread was started with, e.g. --graph "
            f"my_app.agent:graph; the demo's is {DEMO_SPEC}). No graph is recorded in the "
            "thread: it was not run by `hitlgraph run`.", ExitCode.USAGE)
    try:
        return load_object(recorded)
    except CliError as exc:
        raise CliError(f"Thread {thread_id} was run with the graph '{recorded}' (recorded in its "
                       f"checkpoints), which cannot be loaded now: {exc.message} Or name the "
                       "graph to use with --graph MODULE:GRAPH.", exc.code) from exc


def read_through(target: Target, thread_id: str, *, advice: str) -> ThreadSummary:
    """The thread as the graph's get_state() shows it; `advice` ends the error if it fails
    (unless stored rows cannot be read: that is no fault of the graph, exit 6)."""
    try:
        return snapshot_of(target.runnable, thread_id)
    except Exception as exc:
        if is_unreadable_store(exc):
            raise CliError(str(exc), ExitCode.TAMPERED) from exc
        raise CliError(
            f"Reading thread {thread_id} through '{target.spec}' failed: {type(exc).__name__}: "
            f"{exc}. Is it the graph the thread was run with? {advice}",
            ExitCode.GRAPH_ERROR) from exc
