"""Exit codes of the `hitlgraph` command, and the error that carries one to the shell."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

import click

from hitlgraph.checkpoint.serde import SerializationError

__all__ = ["CliError", "ExitCode", "exit_codes_help", "is_unreadable_store", "tampered_is_exit_6"]


class ExitCode(IntEnum):
    """What `hitlgraph` returns to the shell."""

    OK = 0
    """The command did its job; a run reached its end."""
    GRAPH_ERROR = 1
    """The graph's code failed: importing its module, compiling it, or a node while it ran."""
    USAGE = 2
    """A bad argument: MODULE:GRAPH without a colon or naming no graph, invalid JSON, a missing
    option, an answer the paused thread cannot take."""
    PAUSED = 3
    """The run waits for a person: --no-input, or input ended (Ctrl-D) at a question."""
    NOT_FOUND = 4
    """A module, file, attribute, database, thread or interrupt id that does not exist."""
    NOTHING_PENDING = 5
    """`resume` on a thread that waits for nothing: its run has finished."""
    TAMPERED = 6
    """Stored data was changed behind hitlgraph's back: `audit verify` found a decision-log
    row changed or removed, or rows of a checkpoint, of the index of open interrupts or of the
    decision log could not be read back (CorruptCheckpointError or another SerializationError
    naming the stored thread, a decision row that is not JSON)."""
    INTERRUPTED = 130
    """Ctrl-C. The thread keeps its last saved checkpoint and can be continued."""


_HELP: dict[ExitCode, str] = {
    ExitCode.OK: "done: the command worked, the run finished",
    ExitCode.GRAPH_ERROR: "the graph's code failed (import, compile, or a node)",
    ExitCode.USAGE: "usage error: a bad argument, invalid JSON, an answer not allowed",
    ExitCode.PAUSED: "paused: the run waits for an answer (--no-input, or end of input)",
    ExitCode.NOT_FOUND: "not found: module, file, attribute, database, thread or interrupt",
    ExitCode.NOTHING_PENDING: "nothing to resume: the thread's run has finished",
    ExitCode.TAMPERED: "tampered: a checkpoint or decision-log row was changed, removed or "
                       "cannot be read",
    ExitCode.INTERRUPTED: "stopped by Ctrl-C; the thread stays paused and can be continued",
}


def exit_codes_help() -> str:
    """The exit codes as lines for `--help` and the README."""
    return "\n".join(f"  {int(code):>3}  {_HELP[code]}" for code in ExitCode)


class CliError(click.ClickException):
    """An error a person can act on: the message names the bad value and what to do next.

    `CliError(message, code)` builds an instance of the subclass for `code`, whose class-level
    `exit_code` is what click exits with (click declares `exit_code` as a class variable).
    """

    code: ExitCode

    def __new__(cls, message: str, code: ExitCode) -> CliError:
        return super().__new__(_ERROR_CLASSES[code], message, code)

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


_ERROR_CLASSES: dict[ExitCode, type[CliError]] = {
    code: type(f"CliError{code.name.title().replace('_', '')}", (CliError,),
               {"exit_code": int(code), "__module__": __name__})
    for code in ExitCode
}


def is_unreadable_store(exc: BaseException) -> bool:
    """Whether `exc` is a saver's refusal to read stored rows back: a CorruptCheckpointError,
    or another SerializationError (an unknown type, a refused pickle, a damaged index entry)
    that names the stored thread. A SerializationError without one is a value a node wrote
    that cannot be encoded: the graph's fault, not the database's."""
    return isinstance(exc, SerializationError) and exc.thread_id is not None


@contextmanager
def tampered_is_exit_6() -> Iterator[None]:
    """Reads of the database inside this block that find damaged rows end the command with
    ExitCode.TAMPERED (the error names the thread, and the checkpoint or interrupt), not a
    traceback."""
    try:
        yield
    except SerializationError as exc:
        if not is_unreadable_store(exc):
            raise
        raise CliError(str(exc), ExitCode.TAMPERED) from exc
