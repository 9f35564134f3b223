"""One run from the command line (interactive, or --no-input) and how it ends: what it prints,
the command that continues it, and the exit code."""

from __future__ import annotations

import shlex
import traceback
from typing import Any, NoReturn

import click

from hitlgraph.cli._errors import CliError, ExitCode, tampered_is_exit_6
from hitlgraph.cli._jsonable import to_jsonable
from hitlgraph.cli._load import Target, resolvable_spec
from hitlgraph.cli._options import db_flag
from hitlgraph.cli._prompt import Prompter
from hitlgraph.cli._render import View
from hitlgraph.cli._session import Outcome, Stopped, drive, who_answers
from hitlgraph.cli._threads import GRAPH_KEY, ThreadSummary

__all__ = ["Runner", "outcome_json", "resume_hint"]


def resume_hint(thread_id: str, db: str) -> str:
    """The command that continues a thread (its graph is recorded in its checkpoints)."""
    return f"hitlgraph resume {shlex.quote(thread_id)}{db_flag(db)}"


def outcome_json(summary: ThreadSummary) -> dict[str, Any]:
    """A thread's summary and its values, as --json prints them."""
    return {**summary.to_json(), "values": to_jsonable(summary.values)}


class Runner:
    """One interactive (or --no-input) run and how it ends: output, hints and exit code."""

    def __init__(self, ctx: click.Context, view: View, *, continue_hint: str, db: str,
                 show_final: bool = True) -> None:
        self.ctx = ctx
        self.view = view
        self.hint = continue_hint
        self.db = db
        self.show_final = show_final
        self.errors = View(as_json=True)  # stderr

    def go(self, target: Target, first: Any, thread_id: str, *, no_input: bool,
           start_paused: bool = False, by: str | None = None) -> None:
        """Run (or resume) the thread; answers asked at the terminal are logged as given
        by `by` (--by), else by the OS user."""
        asker = None if no_input else Prompter(self.view)
        try:
            with tampered_is_exit_6():
                outcome = drive(target.runnable, first, thread_id, asker=asker,
                                on_update=self.view.progress, start_paused=start_paused,
                                metadata={GRAPH_KEY: resolvable_spec(target.spec)},
                                by=who_answers(by) if asker is not None else None)
        except Stopped as stop:
            self._stopped(thread_id, stop)
        except (CliError, click.exceptions.Exit):
            raise
        except Exception as exc:
            self._failed(thread_id, exc)
        self._finish(thread_id, outcome)

    def _stopped(self, thread_id: str, stop: Stopped) -> NoReturn:
        if self.view.as_json and stop.summary is not None:
            self.view.data(outcome_json(stop.summary))
        if stop.eof:
            lead = (f"\nNo more input: thread {thread_id} is left paused; nothing is lost. "
                    "Continue with:")
        elif stop.running:
            lead = (f"\nStopped (Ctrl-C) while the graph ran. Thread {thread_id} keeps its last "
                    "finished step. Continue with:")
        else:
            lead = (f"\nStopped (Ctrl-C): thread {thread_id} is left paused; nothing is lost. "
                    "Continue with:")
        self.view.command_hint(lead, self.hint)
        self.ctx.exit(ExitCode.PAUSED if stop.eof else ExitCode.INTERRUPTED)

    def _failed(self, thread_id: str, exc: Exception) -> NoReturn:
        if (self.ctx.find_root().obj or {}).get("traceback"):
            self.errors.console.print(
                "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                markup=False)
        raise CliError(
            f"The graph failed on thread {thread_id}: {type(exc).__name__}: {exc}\n"
            f"Its last finished step is saved: `hitlgraph state {shlex.quote(thread_id)}"
            f"{db_flag(self.db)}` shows it. Fix the "
            f"code and continue with: {self.hint} (`hitlgraph --traceback ...` shows where it "
            "failed).",
            ExitCode.GRAPH_ERROR,
        ) from exc

    def _finish(self, thread_id: str, outcome: Outcome) -> None:
        summary = outcome.summary
        if self.view.as_json:
            self.view.data(outcome_json(summary))
        if outcome.done:
            if self.show_final and not self.view.as_json:
                self.view.final(thread_id, summary.values)
            return
        if not self.view.as_json:
            self.view.interrupts(summary.interrupts)
        ids = ", ".join(i.id for i in summary.interrupts)
        count = len(summary.interrupts)
        waiting = (f"waits for {'an answer' if count == 1 else f'{count} answers'} "
                   f"(interrupt id{'s' if count > 1 else ''}: {ids})"
                   if count else f"is stopped before {', '.join(summary.next)}")
        self.view.command_hint(f"Paused: thread {thread_id} {waiting}. Continue with:",
                               self.hint)
        self.ctx.exit(ExitCode.PAUSED)
