"""The `hitlgraph` commands. Each parses its arguments, calls one library function, and renders
the result (Rich for people, --json for scripts); errors become CliError with an exit code."""

from __future__ import annotations

import shlex
import uuid
from dataclasses import replace
from typing import Any

import click
from rich.markup import escape

from hitlgraph import __version__
from hitlgraph.cli._answers import resume_value
from hitlgraph.cli._assign_cmd import claim, reassign, release
from hitlgraph.cli._audit import audit
from hitlgraph.cli._common import (
    EPILOG,
    db_flag,
    db_option,
    graph_of_thread,
    json_option,
    no_input_option,
    open_saver,
    read_answer,
    read_json,
    read_through,
    resolve_thread,
)
from hitlgraph.cli._demo_cmd import demo
from hitlgraph.cli._errors import CliError, ExitCode, tampered_is_exit_6
from hitlgraph.cli._expire_cmd import expire
from hitlgraph.cli._load import bind, load_object
from hitlgraph.cli._render import View
from hitlgraph.cli._runner import Runner, outcome_json, resume_hint
from hitlgraph.cli._serve import serve
from hitlgraph.cli._session import who_answers
from hitlgraph.cli._threads import (
    PendingFilter,
    ThreadSummary,
    history_rows,
    list_threads,
    paused_threads,
    thread_summary,
)

__all__ = ["cli", "main"]

class _Group(click.Group):
    """Ctrl-C anywhere in a command (importing a slow module, say) exits with code 130;
    stored rows that cannot be read back, wherever a command reads them, exit with 6."""

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


@cli.command(epilog=EPILOG, short_help="Run a graph, answering its questions in the terminal.")
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


@cli.command(epilog=EPILOG, short_help="Answer a paused thread and run it on.")
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
_READ_ADVICE = "Leave out --graph to read the checkpoint as it is."


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


@cli.command(epilog=EPILOG, short_help="List threads and what each waits for.")
@db_option
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="Read each thread through this graph (exact next nodes and node names).")
@click.option("--pending", is_flag=True,
              help="Only the threads waiting for an answer, newest question first (read from "
                   "the database's index of open questions, not from every thread).")
@click.option("--assignee", metavar="NAME", help="Only questions NAME holds (implies --pending).")
@click.option("--group", metavar="NAME", help="Only questions for group NAME (implies --pending).")
@click.option("--unassigned", is_flag=True,
              help="Only questions no one holds (implies --pending).")
@click.option("--overdue", is_flag=True, help="Only questions past their deadline, the longest "
                                               "overdue first (implies --pending).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N threads.")
@json_option
def threads(db: str, graph_spec: str | None, pending: bool, assignee: str | None,
            group: str | None, unassigned: bool, overdue: bool, limit: int | None,
            as_json: bool) -> None:
    """List the threads of the database, newest first, what each waits for, and the graph it
    was run with."""
    view = View(as_json=as_json)
    loaded = load_object(graph_spec) if graph_spec else None
    only = PendingFilter(assignee, group, unassigned, overdue)
    pending = pending or bool(only)
    with open_saver(db, create=False) as saver:
        found = (paused_threads(saver, limit=limit, only=only) if pending
                 else list_threads(saver)[:limit])
        if loaded is not None:
            target = bind(loaded, saver)
            found = [read_through(target, s.thread_id, advice=_READ_ADVICE) for s in found]
    if as_json:
        view.data([s.to_json() for s in found])
    else:
        view.threads(found, db, pending=pending)


@cli.command(epilog=EPILOG, short_help="Show a thread's latest state.")
@click.argument("thread_id", metavar="THREAD")
@db_option
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="Read the state through this graph (its get_state: exact next, node names).")
@json_option
def state(thread_id: str, db: str, graph_spec: str | None, as_json: bool) -> None:
    """Show a thread's latest state: values, next nodes, open interrupts, and the graph it was
    run with. THREAD is a thread id or its start."""
    view = View(as_json=as_json)
    loaded = load_object(graph_spec) if graph_spec else None
    with open_saver(db, create=False) as saver:
        thread = resolve_thread(saver, thread_id, db)
        if loaded is not None:
            summary = read_through(bind(loaded, saver), thread, advice=_READ_ADVICE)
        else:
            found = thread_summary(saver, thread)
            assert found is not None  # resolve_thread found its checkpoint
            summary = found
    if as_json:
        view.data(outcome_json(summary))
    else:
        view.state(summary)


@cli.command(epilog=EPILOG, short_help="List a thread's checkpoints.")
@click.argument("thread_id", metavar="THREAD")
@db_option
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Show only the newest N checkpoints.")
@json_option
def history(thread_id: str, db: str, limit: int | None, as_json: bool) -> None:
    """List a thread's checkpoints, newest first. THREAD is a thread id or its start."""
    view = View(as_json=as_json)
    with open_saver(db, create=False) as saver:
        thread = resolve_thread(saver, thread_id, db)
        rows = history_rows(saver, thread, limit)
    if as_json:
        view.data(rows)
    else:
        view.history(thread, rows)


@cli.command("graph", epilog=EPILOG, short_help="Print a graph as Mermaid text.")
@click.argument("graph_spec", metavar="MODULE:GRAPH")
@json_option
def graph_cmd(graph_spec: str, as_json: bool) -> None:
    """Print a graph as Mermaid text (or its nodes and edges with --json)."""
    target = bind(load_object(graph_spec), None)
    drawing = target.compiled.get_graph()
    if as_json:
        View(as_json=True).data(drawing.to_json())
    else:
        click.echo(drawing.draw_mermaid(), nl=False)


cli.add_command(demo)
cli.add_command(serve)
cli.add_command(audit)
for _command in (expire, claim, release, reassign):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """The `hitlgraph` console script."""
    cli.main(args=argv, prog_name="hitlgraph")
