"""`hitlgraph run` and `hitlgraph resume`: run a graph on a thread of the checkpoint file, or
answer a paused thread, asking in the terminal until the run ends (see _runner.Runner)."""

from __future__ import annotations

import shlex
import uuid
from dataclasses import replace

import click
from rich.markup import escape

from hitlgraph.cli._answers import resume_value
from hitlgraph.cli._common import (
    graph_of_thread,
    open_saver,
    read_answer,
    read_json,
    read_through,
    resolve_thread,
)
from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.cli._load import bind, load_object
from hitlgraph.cli._options import EPILOG, db_flag, db_option, json_option, no_input_option
from hitlgraph.cli._render import View
from hitlgraph.cli._runner import Runner, resume_hint
from hitlgraph.cli._session import who_answers
from hitlgraph.cli._threads import ThreadSummary, thread_summary

__all__ = ["resume", "run"]


@click.command(epilog=EPILOG)
@click.argument("graph_spec", metavar="MODULE:GRAPH")
@click.option("--input", "input_text", required=True, metavar="JSON",
              help="The run's input as JSON, or @FILE to read it from a file.")
@click.option("--thread", "thread_id", metavar="ID",
              help="The thread to run on (default: a new uuid, printed).")
@click.option("--by", "by", metavar="NAME",
              help="Who answers the questions asked here, for the decision log (`hitlgraph "
                   "audit list`); default: your user name.")
@db_option
@no_input_option
@json_option
@click.pass_context
def run(ctx: click.Context, graph_spec: str, input_text: str, thread_id: str | None,
        by: str | None, db: str, no_input: bool, as_json: bool) -> None:
    """Run a graph; when it pauses, ask in the terminal and resume, until it ends.

    Tool review requests (hitlgraph.prebuilt) are answered with accept / edit / respond /
    ignore; other questions with a JSON value (plain text is taken as a string). Ctrl-C leaves
    the thread paused (exit 130); `hitlgraph resume THREAD` continues it. The thread records
    MODULE:GRAPH, so later commands need no --graph. On a thread paused at a question, the run
    starts over (as in LangGraph) and says so.
    """
    view = View(as_json=as_json)
    value = read_json(input_text, "--input")
    decider = who_answers(by)
    loaded = load_object(graph_spec)
    thread = thread_id or str(uuid.uuid4())
    with open_saver(db, create=True) as saver:
        target = bind(loaded, saver)
        view.say(f"thread [bold]{escape(thread)}[/]" + ("" if thread_id else " [dim](new)[/]"))
        view.found(loaded)
        hint = resume_hint(thread, db)
        before = thread_summary(saver, thread) if thread_id else None
        if before is not None and before.interrupts:
            view.starting_over(before, hint)
        Runner(ctx, view, continue_hint=hint, db=db).go(target, value, thread, no_input=no_input,
                                                        by=decider)


@click.command(epilog=EPILOG)
@click.argument("thread_id", metavar="THREAD")
@click.option("--value", "value_text", metavar="ANSWER",
              help="The answer: JSON, or plain text taken as a string (as at the prompt), or "
                   "@FILE. Without it, ask in the terminal.")
@click.option("--interrupt", "interrupt_id", metavar="ID",
              help="Which interrupt --value answers, when several wait (an id or its start).")
@click.option("--by", "by", metavar="NAME",
              help="Who gives the answer (--value, or those typed at the prompt), for the "
                   "decision log (`hitlgraph audit list`); default: your user name.")
@click.option("--reason", metavar="TEXT", help="Why, for the decision log.")
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="The graph to run the thread with (default: the one recorded when it ran).")
@db_option
@no_input_option
@json_option
@click.pass_context
def resume(ctx: click.Context, thread_id: str, value_text: str | None,
           interrupt_id: str | None, by: str | None, reason: str | None,
           graph_spec: str | None, db: str, no_input: bool, as_json: bool) -> None:
    """Answer a paused thread and run it on, until it ends or pauses again.

    THREAD is a thread id or its start. With --value, that answer goes to the interrupt
    waiting (or to --interrupt ID); without it, the questions are asked in the terminal. A
    thread stopped at a breakpoint (or by Ctrl-C while running) continues without --value.
    Later pauses are asked in the terminal unless --no-input.
    """
    for given, option in ((interrupt_id, "--interrupt ID names which interrupt --value "
                                          "answers"),
                          (reason, "--reason TEXT says why --value is given")):
        if given is not None and value_text is None:
            raise CliError(f"{option}: give --value ANSWER too.", ExitCode.USAGE)
    value = read_answer(value_text) if value_text is not None else None
    decider = who_answers(by)
    view = View(as_json=as_json)
    with open_saver(db, create=False) as saver:
        thread = resolve_thread(saver, thread_id, db)
        loaded = graph_of_thread(saver, thread, graph_spec)
        target = bind(loaded, saver)
        summary = read_through(target, thread, advice=_RESUME_ADVICE)
        _check_resumable(summary, loaded.spec, db, given=value_text is not None,
                         no_input=no_input)
        view.found(loaded)
        runner = Runner(ctx, view, continue_hint=resume_hint(thread, db), db=db)
        if not summary.interrupts:
            runner.go(target, None, thread, no_input=no_input, by=decider)
        elif value_text is None:
            runner.go(target, None, thread, no_input=False, start_paused=True, by=decider)
        else:
            command = replace(resume_value(summary, value, interrupt_id),
                              by=decider, reason=reason)
            runner.go(target, command, thread, no_input=no_input, by=decider)


_RESUME_ADVICE = ("Resuming runs the graph's code: name the one it was run with, --graph "
                  "MODULE:GRAPH.")

def _check_resumable(summary: ThreadSummary, spec: str, db: str, *, given: bool,
                     no_input: bool) -> None:
    """A usage error unless the thread waits for what resume was given."""
    thread = summary.thread_id
    if not summary.next and not summary.interrupts:
        raise CliError(
            f"Thread {thread} has nothing to resume: its run finished (step {summary.step}). "
            f"`hitlgraph state {shlex.quote(thread)}{db_flag(db)}` shows its state; start a new "
            f"run with `hitlgraph run {shlex.quote(spec)} --input JSON`.",
            ExitCode.NOTHING_PENDING,
        )
    if not summary.interrupts and given:
        raise CliError(
            f"Thread {thread} is not waiting at interrupt() but stopped before "
            f"{', '.join(summary.next)} (a breakpoint, or a run that was stopped): continue it "
            "without --value.", ExitCode.USAGE)
    if summary.interrupts and not given and no_input:
        raise CliError(
            f"Thread {thread} waits for an answer and --no-input forbids asking: give it with "
            "--value ANSWER (and --interrupt ID when several wait).", ExitCode.USAGE)
