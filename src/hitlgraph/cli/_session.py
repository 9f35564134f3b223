"""Running a graph from the command line: run until the end or a pause, ask the person, resume,
until the run ends (or the person stops, leaving the thread paused)."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.cli._threads import PendingInterrupt, ThreadSummary, summary_from_snapshot
from hitlgraph.constants import INTERRUPT
from hitlgraph.errors import InvalidAnswerError
from hitlgraph.types import Command

__all__ = ["MAX_REFUSALS", "Asker", "Outcome", "Stopped", "answers_command", "drive",
           "snapshot_of", "who_answers"]

MAX_REFUSALS = 3
"""Answers refused by their response_schema in a row before the command gives up (exit 2)."""


class Asker(Protocol):
    """What drive() needs from the person; see Prompter."""

    def answer(self, item: PendingInterrupt, index: int = 1, total: int = 1, *,
               schema: dict[str, Any] | None = None) -> Any:
        """The answer to one interrupt (KeyboardInterrupt or EOFError to stop); `schema` is
        the JSON Schema the answer must match, if the interrupt has one."""

    def go_on(self, next_nodes: tuple[str, ...]) -> None:
        """Return to continue past a breakpoint."""

    def failed(self, error: Exception) -> None:
        """The run failed after this person's answers, and its questions are still open."""

    def refused(self, error: InvalidAnswerError, tries_left: int) -> None:
        """An answer did not match its response_schema (nothing ran); it is asked again."""


class Outcome(NamedTuple):
    """Where a run left its thread: `summary.status` is "done" or "paused"/"stopped". (A
    NamedTuple: a fifth of a frozen dataclass's cost at import, before the first prompt.)"""

    summary: ThreadSummary

    @property
    def done(self) -> bool:
        return not self.summary.next and not self.summary.interrupts


class Stopped(Exception):
    """The person stopped (Ctrl-C, or end of input) while the thread waited or ran.

    Attributes:
        running: True when the graph was running (its last finished step is saved), False when
            it waited at a question (nothing is lost).
        eof: end of input rather than Ctrl-C.
    """

    def __init__(self, summary: ThreadSummary | None, *, running: bool, eof: bool) -> None:
        super().__init__("stopped")
        self.summary = summary
        self.running = running
        self.eof = eof


def snapshot_of(runnable: Any, thread_id: str) -> ThreadSummary:
    """The thread's summary through the graph's get_state()."""
    config = {"configurable": {"thread_id": thread_id}}
    return summary_from_snapshot(thread_id, runnable.get_state(config))


def who_answers(by: str | None) -> str | None:
    """Who answers at the terminal, for the decision log: `by` (--by), else the user this
    process runs as (None when the OS knows no name for it, e.g. a container's bare uid).

    Raises:
        CliError: `by` is empty or blank (USAGE).
    """
    if by is not None:
        if not by.strip():
            raise CliError("--by must name someone (it was empty).", ExitCode.USAGE)
        return by
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


def answers_command(answers: dict[str, Any], waiting: int, *, by: str | None = None
                    ) -> Command[Any]:
    """Command(resume=answer) when one interrupt waits, else Command(resume={id: answer, ...})
    (the interrupts not answered stay open). An answer of None is always given by id:
    Command(resume=None) would answer nothing. `by` is who answered (the decision log)."""
    if waiting == 1 and len(answers) == 1 and None not in answers.values():
        return Command(resume=next(iter(answers.values())), by=by)
    return Command(resume=dict(answers), by=by)


def _run_once(runnable: Any, value: Any, config: dict[str, Any],
              on_update: Callable[[str, Any], None] | None) -> None:
    for chunk in runnable.stream(value, config, stream_mode="updates"):
        if on_update is None or not isinstance(chunk, dict):
            continue
        for node, update in chunk.items():
            if node != INTERRUPT:
                on_update(node, update)


def drive(runnable: Any, first: Any, thread_id: str, *, asker: Asker | None,
          on_update: Callable[[str, Any], None] | None = None,
          start_paused: bool = False, metadata: dict[str, Any] | None = None,
          by: str | None = None) -> Outcome:
    """Run `runnable` on thread `thread_id` with input `first` (a value, a Command, or None to
    continue), then, while it pauses and `asker` is given, ask for answers and resume.

    When answers `asker` gave make the run fail and its questions are still open (a failed run
    keeps its last checkpoint and open interrupts), `asker` hears of the error and is asked
    again. An answer its interrupt's response_schema refuses (nothing ran) is asked again,
    with the field errors, the other answers kept; after MAX_REFUSALS in a row, or without
    `asker`, it is a usage error.

    Args:
        start_paused: do not run first: the thread already waits; ask, then resume.
        metadata: the run config's "metadata": it goes into every checkpoint's metadata.
        by: who gives `asker`'s answers, recorded with each in the decision log.

    Returns:
        The outcome: done, or paused (when `asker` is None).

    Raises:
        Stopped: Ctrl-C or end of input; the thread stays as saved.
        CliError: an answer refused by its response_schema, as above (exit code USAGE).
        Exception: whatever the graph raised (unless it is asked again, as above).
    """
    config = {"configurable": {"thread_id": thread_id}, "metadata": dict(metadata or {})}
    summary = snapshot_of(runnable, thread_id) if start_paused else None
    value, answered = first, False
    given: dict[str, Any] = {}
    refusals = 0
    while True:
        if summary is None:
            try:
                summary = _run(runnable, value, config, on_update, asker if answered else None)
                refusals, given = 0, {}
            except InvalidAnswerError as exc:
                refusals += 1
                if asker is None or refusals >= MAX_REFUSALS:
                    raise CliError(_refusal_message(exc, refusals), ExitCode.USAGE) from None
                asker.refused(exc, MAX_REFUSALS - refusals)
                given.pop(exc.interrupt_id, None)
                summary = snapshot_of(runnable, thread_id)
        if (not summary.next and not summary.interrupts) or asker is None:
            return Outcome(summary)
        value, answered = _ask(asker, summary, _schemas(runnable, thread_id), given, by), True
        summary = None


def _refusal_message(error: InvalidAnswerError, refusals: int) -> str:
    fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(answer)'}: {e['msg']}"
                       for e in error.errors)
    times = "once" if refusals == 1 else f"{refusals} times in a row"
    return (f"The answer to interrupt '{error.interrupt_id}' was refused {times}: it does not "
            f"match the interrupt's response_schema ({fields}). Nothing ran; the thread still "
            "waits on it. Answer again with a value that matches.")


def _run(runnable: Any, value: Any, config: dict[str, Any],
         on_update: Callable[[str, Any], None] | None, asker: Asker | None) -> ThreadSummary:
    """Run once and read where the thread stands. A failure is told to `asker` (the one who
    just answered), if given, when questions are still open; it is raised otherwise. An
    answer refused by its schema is raised (InvalidAnswerError) for drive() to ask again."""
    thread_id = str(config["configurable"]["thread_id"])
    try:
        _run_once(runnable, value, config, on_update)
    except KeyboardInterrupt:
        raise Stopped(_safe_summary(runnable, thread_id), running=True, eof=False) from None
    except InvalidAnswerError:
        raise
    except Exception as exc:
        summary = _safe_summary(runnable, thread_id) if asker is not None else None
        if asker is None or summary is None or not summary.interrupts:
            raise
        asker.failed(exc)
        return summary
    return snapshot_of(runnable, thread_id)


def _schemas(runnable: Any, thread_id: str) -> dict[str, dict[str, Any]]:
    """The response_schema of each open interrupt that has one, by interrupt id."""
    snap = runnable.get_state({"configurable": {"thread_id": thread_id}})
    return {i.id: i.response_schema for i in snap.interrupts
            if getattr(i, "response_schema", None) is not None}


def _ask(asker: Asker, summary: ThreadSummary, schemas: dict[str, dict[str, Any]],
         given: dict[str, Any], by: str | None) -> Any:
    """The value that resumes the thread: the answers to its questions (those in `given`, kept
    from an attempt the schema refused, are not asked again), or None past a breakpoint."""
    try:
        if not summary.interrupts:
            asker.go_on(summary.next)
            return None
        total = len(summary.interrupts)
        for n, item in enumerate(summary.interrupts, 1):
            if item.id not in given:
                given[item.id] = asker.answer(item, n, total, schema=schemas.get(item.id))
        open_ids = {item.id for item in summary.interrupts}
        return answers_command({k: v for k, v in given.items() if k in open_ids}, total,
                               by=by)
    except KeyboardInterrupt:
        raise Stopped(summary, running=False, eof=False) from None
    except EOFError:
        raise Stopped(summary, running=False, eof=True) from None


def _safe_summary(runnable: Any, thread_id: str) -> ThreadSummary | None:
    try:
        return snapshot_of(runnable, thread_id)
    except Exception:
        return None
