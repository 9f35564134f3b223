"""The `hitlgraph` commands. Each parses its arguments, calls one library function, and renders
the result (Rich for people, --json for scripts); errors become CliError with an exit code."""

from __future__ import annotations

import shlex
import sqlite3
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from hitlgraph import __version__
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._demo_thread import recall_demo_thread, remember_demo_thread
from hitlgraph.cli._errors import CliError, ExitCode, exit_codes_help
from hitlgraph.cli._jsonable import JSONInputError, parse_json, to_jsonable
from hitlgraph.cli._load import Target, bind, load_object
from hitlgraph.cli._prompt import Prompter
from hitlgraph.cli._render import View, is_tool_review
from hitlgraph.cli._serve import serve
from hitlgraph.cli._session import Outcome, Stopped, answers_command, drive, snapshot_of
from hitlgraph.cli._threads import (
    PendingInterrupt,
    ThreadSummary,
    list_threads,
    summary_from_tuple,
    thread_summary,
)

__all__ = ["cli", "main"]

DEFAULT_DB = "hitlgraph.sqlite"
DEMO_SPEC = "hitlgraph.cli.demo:graph"

_EPILOG = f"""\b
Checkpoints go to a SQLite file: --db PATH, or $HITLGRAPH_DB,
else ./{DEFAULT_DB} in the current folder.

\b
Exit codes:
{exit_codes_help()}
"""


# -- shared pieces ---------------------------------------------------------------------------------

def _db_option(f: Any) -> Any:
    return click.option(
        "--db", "db", default=DEFAULT_DB, show_default=True, envvar="HITLGRAPH_DB",
        metavar="PATH", help="SQLite file of the checkpoints (env HITLGRAPH_DB).",
    )(f)


def _json_option(f: Any) -> Any:
    return click.option(
        "--json", "as_json", is_flag=True,
        help="Print the result as JSON on stdout (anything for people goes to stderr).",
    )(f)


def _no_input_option(f: Any) -> Any:
    return click.option(
        "--no-input", is_flag=True,
        help="Never ask: stop at the first pause, print what it waits for, exit 3.",
    )(f)


def _db_flag(db: str) -> str:
    return "" if db == DEFAULT_DB else f" --db {shlex.quote(db)}"


def _read_json(text: str, what: str) -> Any:
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
def _saver(db: str, *, create: bool) -> Iterator[SqliteSaver]:
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


def _not_found(thread_id: str, db: str) -> CliError:
    return CliError(
        f"No thread '{thread_id}' in {db}. `hitlgraph threads{_db_flag(db)}` lists the threads.",
        ExitCode.NOT_FOUND,
    )


def _exists(saver: SqliteSaver, thread_id: str) -> bool:
    return saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}) \
        is not None


def _read_through(target: Target, thread_id: str) -> ThreadSummary:
    """The thread as the graph's get_state() shows it."""
    try:
        return snapshot_of(target.runnable, thread_id)
    except Exception as exc:
        raise CliError(
            f"Reading thread {thread_id} through '{target.spec}' failed: {type(exc).__name__}: "
            f"{exc}. Is it the graph the thread was run with? Leave out --graph to read the "
            "checkpoint as it is.", ExitCode.GRAPH_ERROR) from exc


def _outcome_json(summary: ThreadSummary) -> dict[str, Any]:
    return {**summary.to_json(), "values": to_jsonable(summary.values)}


class _Run:
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
           start_paused: bool = False) -> None:
        asker = None if no_input else Prompter(self.view)
        try:
            outcome = drive(target.runnable, first, thread_id, asker=asker,
                            on_update=self.view.progress, start_paused=start_paused)
        except Stopped as stop:
            self._stopped(thread_id, stop)
        except (CliError, click.exceptions.Exit):
            raise
        except Exception as exc:
            self._failed(thread_id, exc)
        self._finish(thread_id, outcome)

    def _stopped(self, thread_id: str, stop: Stopped) -> NoReturn:
        if self.view.as_json and stop.summary is not None:
            self.view.data(_outcome_json(stop.summary))
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
            f"{_db_flag(self.db)}` shows it. Fix the "
            f"code and continue with: {self.hint} (`hitlgraph --traceback ...` shows where it "
            "failed).",
            ExitCode.GRAPH_ERROR,
        ) from exc

    def _finish(self, thread_id: str, outcome: Outcome) -> None:
        summary = outcome.summary
        if self.view.as_json:
            self.view.data(_outcome_json(summary))
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


# -- the commands ----------------------------------------------------------------------------------

class _Group(click.Group):
    """Ctrl-C anywhere in a command (importing a slow module, say) exits with code 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise CliError("Stopped (Ctrl-C).", ExitCode.INTERRUPTED) from None


@click.group(cls=_Group, epilog=_EPILOG,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hitlgraph")
@click.option("--traceback", is_flag=True, help="On an error in the graph, print its traceback.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Run hitlgraph graphs in the terminal, answer their questions, and look at their threads.

    MODULE:GRAPH names a graph: a module on the import path (the current folder is on it) or a
    .py file, and the variable holding a compiled graph, a StateGraph builder or an
    @entrypoint, e.g. my_app.agent:graph or ./agent.py:builder.
    """
    ctx.obj = {"traceback": traceback}


@cli.command(epilog=_EPILOG, short_help="Run a graph, answering its questions in the terminal.")
@click.argument("graph_spec", metavar="MODULE:GRAPH")
@click.option("--input", "input_text", required=True, metavar="JSON",
              help="The run's input as JSON, or @FILE to read it from a file.")
@click.option("--thread", "thread_id", metavar="ID",
              help="The thread to run on (default: a new uuid, printed).")
@_db_option
@_no_input_option
@_json_option
@click.pass_context
def run(ctx: click.Context, graph_spec: str, input_text: str, thread_id: str | None, db: str,
        no_input: bool, as_json: bool) -> None:
    """Run a graph; when it pauses, ask in the terminal and resume, until it ends.

    Tool review requests (hitlgraph.prebuilt) are answered with accept / edit / respond /
    ignore; other questions with a JSON value (plain text is taken as a string). Ctrl-C leaves
    the thread paused (exit 130); `hitlgraph resume` continues it.
    """
    view = View(as_json=as_json)
    value = _read_json(input_text, "--input")
    obj = load_object(graph_spec)
    thread = thread_id or str(uuid.uuid4())
    with _saver(db, create=True) as saver:
        target = bind(obj, saver, graph_spec)
        view.say(f"thread [bold]{thread}[/]" + ("" if thread_id else " [dim](new)[/]"))
        hint = (f"hitlgraph resume {shlex.quote(thread)} --graph {shlex.quote(graph_spec)}"
                f"{_db_flag(db)}")
        _Run(ctx, view, continue_hint=hint, db=db).go(target, value, thread, no_input=no_input)


def _pick_interrupt(summary: ThreadSummary, wanted: str) -> PendingInterrupt:
    exact = [i for i in summary.interrupts if i.id == wanted]
    found = exact or [i for i in summary.interrupts if i.id.startswith(wanted)]
    if len(found) == 1:
        return found[0]
    listing = "; ".join(f"{i.id} ({i.node or 'node ?'})" for i in summary.interrupts)
    if found:
        raise CliError(f"--interrupt '{wanted}' matches several open interrupts of thread "
                       f"{summary.thread_id}: give more of the id. Open: {listing}.",
                       ExitCode.USAGE)
    raise CliError(f"Thread {summary.thread_id} has no open interrupt '{wanted}'. Open: "
                   f"{listing}.", ExitCode.NOT_FOUND)


def _check_review_answer(item: PendingInterrupt, value: Any) -> None:
    if not is_tool_review(item.value):
        return
    from hitlgraph.prebuilt import (
        InvalidReviewAnswerError,
        ToolReviewRequest,
        parse_review_answer,
    )

    try:
        parse_review_answer(value, ToolReviewRequest.from_dict(item.value))
    except InvalidReviewAnswerError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None
    except (KeyError, TypeError, ValueError):
        return  # not a request hitlgraph.prebuilt made: let the graph judge


def _resume_value(summary: ThreadSummary, value: Any, interrupt_id: str | None) -> Any:
    """The Command answering `summary`'s interrupts with the --value (and --interrupt) given."""
    open_ = summary.interrupts
    ids = {i.id for i in open_}
    if interrupt_id is not None:
        item = _pick_interrupt(summary, interrupt_id)
        _check_review_answer(item, value)
        return answers_command({item.id: value}, len(open_))
    if len(open_) == 1:
        _check_review_answer(open_[0], value)
        return answers_command({open_[0].id: value}, 1)
    if isinstance(value, dict) and value and set(value) <= ids:
        for item in open_:
            if item.id in value:
                _check_review_answer(item, value[item.id])
        return answers_command(value, len(open_))  # by id: the others stay open
    listing = "; ".join(f"{i.id} ({i.node or 'node ?'})" for i in open_)
    raise CliError(
        f"Thread {summary.thread_id} waits for {len(open_)} answers: answer one with "
        "--interrupt ID --value JSON, or all with --value '{\"ID\": answer, ...}'. Open: "
        f"{listing}.", ExitCode.USAGE,
    )


@cli.command(epilog=_EPILOG, short_help="Answer a paused thread and run it on.")
@click.argument("thread_id", metavar="THREAD")
@click.option("--value", "value_text", metavar="JSON",
              help="The answer, as JSON (or @FILE). Without it, ask in the terminal.")
@click.option("--interrupt", "interrupt_id", metavar="ID",
              help="Which interrupt --value answers, when several wait (an id or its start).")
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="The graph the thread runs (required: resuming runs its code).")
@_db_option
@_no_input_option
@_json_option
@click.pass_context
def resume(ctx: click.Context, thread_id: str, value_text: str | None,
           interrupt_id: str | None, graph_spec: str | None, db: str, no_input: bool,
           as_json: bool) -> None:
    """Answer a paused thread and run it on, until it ends or pauses again.

    With --value, that answer goes to the interrupt waiting (or to --interrupt ID); without
    it, the questions are asked in the terminal. A thread stopped at a breakpoint (or by
    Ctrl-C while running) continues without --value. Later pauses are asked in the terminal
    unless --no-input.
    """
    if graph_spec is None:
        raise CliError(
            f"Resuming thread {thread_id} runs its graph's code, so name the graph: --graph "
            "MODULE:GRAPH (the one the thread was started with, e.g. --graph "
            f"my_app.agent:graph; the demo's is {DEMO_SPEC}).",
            ExitCode.USAGE,
        )
    if interrupt_id is not None and value_text is None:
        raise CliError("--interrupt ID names which interrupt --value answers: give --value JSON "
                       "too.", ExitCode.USAGE)
    value = _read_json(value_text, "--value") if value_text is not None else None
    view = View(as_json=as_json)
    obj = load_object(graph_spec)
    with _saver(db, create=False) as saver:
        if not _exists(saver, thread_id):
            raise _not_found(thread_id, db)
        target = bind(obj, saver, graph_spec)
        summary = _read_through(target, thread_id)
        hint = (f"hitlgraph resume {shlex.quote(thread_id)} --graph {shlex.quote(graph_spec)}"
                f"{_db_flag(db)}")
        if not summary.next and not summary.interrupts:
            raise CliError(
                f"Thread {thread_id} has nothing to resume: its run finished (step "
                f"{summary.step}). `hitlgraph state {thread_id}{_db_flag(db)}` shows its state; "
                f"start a new run with `hitlgraph run {graph_spec} --input JSON`.",
                ExitCode.NOTHING_PENDING,
            )
        runner = _Run(ctx, view, continue_hint=hint, db=db)
        if not summary.interrupts:
            if value_text is not None:
                raise CliError(
                    f"Thread {thread_id} is not waiting at interrupt() but stopped before "
                    f"{', '.join(summary.next)} (a breakpoint, or a run that was stopped): "
                    "continue it without --value.", ExitCode.USAGE)
            runner.go(target, None, thread_id, no_input=no_input)
            return
        if value_text is None:
            if no_input:
                raise CliError(
                    f"Thread {thread_id} waits for an answer and --no-input forbids asking: give "
                    "it with --value JSON (and --interrupt ID when several wait).", ExitCode.USAGE)
            runner.go(target, None, thread_id, no_input=False, start_paused=True)
            return
        command = _resume_value(summary, value, interrupt_id)
        runner.go(target, command, thread_id, no_input=no_input)


@cli.command(epilog=_EPILOG, short_help="List threads and what each waits for.")
@_db_option
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="Read each thread through this graph (exact next nodes and node names).")
@_json_option
def threads(db: str, graph_spec: str | None, as_json: bool) -> None:
    """List the threads of the database, newest first, and what each waits for."""
    view = View(as_json=as_json)
    obj = load_object(graph_spec) if graph_spec else None
    with _saver(db, create=False) as saver:
        found = list_threads(saver)
        if obj is not None:
            target = bind(obj, saver, graph_spec or "")
            found = [_read_through(target, s.thread_id) for s in found]
    if as_json:
        view.data([s.to_json() for s in found])
    else:
        view.threads(found, db)


@cli.command(epilog=_EPILOG, short_help="Show a thread's latest state.")
@click.argument("thread_id", metavar="THREAD")
@_db_option
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="Read the state through this graph (its get_state: exact next, node names).")
@_json_option
def state(thread_id: str, db: str, graph_spec: str | None, as_json: bool) -> None:
    """Show a thread's latest state: values, next nodes, open interrupts."""
    view = View(as_json=as_json)
    obj = load_object(graph_spec) if graph_spec else None
    with _saver(db, create=False) as saver:
        if not _exists(saver, thread_id):
            raise _not_found(thread_id, db)
        if obj is not None:
            summary = _read_through(bind(obj, saver, graph_spec or ""), thread_id)
        else:
            found = thread_summary(saver, thread_id)
            assert found is not None
            summary = found
    if as_json:
        view.data(_outcome_json(summary))
    else:
        view.state(summary)


@cli.command(epilog=_EPILOG, short_help="List a thread's checkpoints.")
@click.argument("thread_id", metavar="THREAD")
@_db_option
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Show only the newest N checkpoints.")
@_json_option
def history(thread_id: str, db: str, limit: int | None, as_json: bool) -> None:
    """List a thread's checkpoints, newest first."""
    view = View(as_json=as_json)
    with _saver(db, create=False) as saver:
        config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        rows = []
        for tup in saver.list(config, limit=limit):
            s = summary_from_tuple(tup)
            parent = (tup.parent_config or {}).get("configurable", {}).get("checkpoint_id")
            rows.append({
                "checkpoint_id": s.checkpoint_id, "parent_checkpoint_id": parent,
                "step": s.step, "source": s.source, "created_at": s.created_at,
                "writers": list(tup.checkpoint.get("writers") or ()), "next": list(s.next),
                "interrupts": [{"id": i.id, "value": to_jsonable(i.value)}
                               for i in s.interrupts],
                "values": to_jsonable(s.values),
            })
    if not rows:
        raise _not_found(thread_id, db)
    if as_json:
        view.data(rows)
    else:
        view.history(thread_id, rows)


@cli.command("graph", epilog=_EPILOG, short_help="Print a graph as Mermaid text.")
@click.argument("graph_spec", metavar="MODULE:GRAPH")
@_json_option
def graph_cmd(graph_spec: str, as_json: bool) -> None:
    """Print a graph as Mermaid text (or its nodes and edges with --json)."""
    target = bind(load_object(graph_spec), None, graph_spec)
    drawing = target.compiled.get_graph()
    if as_json:
        View(as_json=True).data(drawing.to_json())
    else:
        click.echo(drawing.draw_mermaid(), nl=False)


@cli.command(epilog=_EPILOG, short_help="Review an assistant's tool calls (a demo).")
@_db_option
@click.option("--new", is_flag=True, help="Start a new demo conversation even if one is paused.")
@click.pass_context
def demo(ctx: click.Context, db: str, new: bool) -> None:
    """An assistant drafts a reply and asks to run tools; you review each call.

    Answer each tool call with accept, edit (change its arguments), respond (send text back
    instead) or ignore. Ctrl-C leaves the demo paused; `hitlgraph demo` again picks it up, in
    this process or a new one.
    """
    from hitlgraph.cli import demo as agent

    view = View()
    with _saver(db, create=True) as saver:
        target = bind(agent.graph, saver, DEMO_SPEC)
        hint = f"hitlgraph demo{_db_flag(db)}"
        known = None if new else recall_demo_thread(saver)
        summary = snapshot_of(target.runnable, known) if known else None
        runner = _Run(ctx, view, continue_hint=hint, db=db, show_final=False)
        if known and summary is not None and (summary.next or summary.interrupts):
            view.say(f"[bold]Picking up the paused demo[/] on thread {known} "
                     f"[dim]({db})[/]. So far:")
            view.messages((summary.values or {}).get("messages", []))
            runner.go(target, None, known, no_input=False,
                      start_paused=bool(summary.interrupts))
            thread = known
        else:
            thread = str(uuid.uuid4())
            remember_demo_thread(saver, thread)
            view.say("[bold]hitlgraph demo[/]: an assistant drafts a reply to a customer and asks "
                     "to run two tools; you review each call before it runs.")
            view.say(f"[dim]Thread {thread}, saved in {db}. Ctrl-C leaves it paused; "
                     f"`{hint}` picks it up again.[/]")
            runner.go(target, agent.demo_input(), thread, no_input=False)
    view.say(f"[green]Demo finished[/] (thread {thread}). Its checkpoints:")
    view.say(f"  [bold]hitlgraph history {thread}{_db_flag(db)}[/]", wrap=False)
    view.say(f"`{hint}` starts a new conversation.")


cli.add_command(serve)


def main(argv: list[str] | None = None) -> None:
    """The `hitlgraph` console script."""
    cli.main(args=argv, prog_name="hitlgraph")
