"""The `hitlgraph` commands. Each parses its arguments, calls one library function, and renders
the result (Rich for people, --json for scripts); errors become CliError with an exit code."""

from __future__ import annotations

import shlex
import uuid
from typing import Any

import click

from hitlgraph import __version__
from hitlgraph.cli._answers import resume_value
from hitlgraph.cli._common import (
    EPILOG,
    db_flag,
    db_option,
    exists,
    json_option,
    no_input_option,
    not_found,
    open_saver,
    read_json,
    read_through,
)
from hitlgraph.cli._demo_thread import recall_demo_thread, remember_demo_thread
from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.cli._jsonable import to_jsonable
from hitlgraph.cli._load import bind, load_object
from hitlgraph.cli._render import View
from hitlgraph.cli._runner import Runner, outcome_json
from hitlgraph.cli._serve import serve
from hitlgraph.cli._session import snapshot_of
from hitlgraph.cli._threads import list_threads, summary_from_tuple, thread_summary

__all__ = ["cli", "main"]

DEMO_SPEC = "hitlgraph.cli.demo:graph"


class _Group(click.Group):
    """Ctrl-C anywhere in a command (importing a slow module, say) exits with code 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
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
    @entrypoint, e.g. my_app.agent:graph or ./agent.py:builder.
    """
    ctx.obj = {"traceback": traceback}


@cli.command(epilog=EPILOG, short_help="Run a graph, answering its questions in the terminal.")
@click.argument("graph_spec", metavar="MODULE:GRAPH")
@click.option("--input", "input_text", required=True, metavar="JSON",
              help="The run's input as JSON, or @FILE to read it from a file.")
@click.option("--thread", "thread_id", metavar="ID",
              help="The thread to run on (default: a new uuid, printed).")
@db_option
@no_input_option
@json_option
@click.pass_context
def run(ctx: click.Context, graph_spec: str, input_text: str, thread_id: str | None, db: str,
        no_input: bool, as_json: bool) -> None:
    """Run a graph; when it pauses, ask in the terminal and resume, until it ends.

    Tool review requests (hitlgraph.prebuilt) are answered with accept / edit / respond /
    ignore; other questions with a JSON value (plain text is taken as a string). Ctrl-C leaves
    the thread paused (exit 130); `hitlgraph resume` continues it.
    """
    view = View(as_json=as_json)
    value = read_json(input_text, "--input")
    obj = load_object(graph_spec)
    thread = thread_id or str(uuid.uuid4())
    with open_saver(db, create=True) as saver:
        target = bind(obj, saver, graph_spec)
        view.say(f"thread [bold]{thread}[/]" + ("" if thread_id else " [dim](new)[/]"))
        hint = (f"hitlgraph resume {shlex.quote(thread)} --graph {shlex.quote(graph_spec)}"
                f"{db_flag(db)}")
        Runner(ctx, view, continue_hint=hint, db=db).go(target, value, thread, no_input=no_input)


@cli.command(epilog=EPILOG, short_help="Answer a paused thread and run it on.")
@click.argument("thread_id", metavar="THREAD")
@click.option("--value", "value_text", metavar="JSON",
              help="The answer, as JSON (or @FILE). Without it, ask in the terminal.")
@click.option("--interrupt", "interrupt_id", metavar="ID",
              help="Which interrupt --value answers, when several wait (an id or its start).")
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="The graph the thread runs (required: resuming runs its code).")
@db_option
@no_input_option
@json_option
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
    value = read_json(value_text, "--value") if value_text is not None else None
    view = View(as_json=as_json)
    obj = load_object(graph_spec)
    with open_saver(db, create=False) as saver:
        if not exists(saver, thread_id):
            raise not_found(thread_id, db)
        target = bind(obj, saver, graph_spec)
        summary = read_through(target, thread_id)
        hint = (f"hitlgraph resume {shlex.quote(thread_id)} --graph {shlex.quote(graph_spec)}"
                f"{db_flag(db)}")
        if not summary.next and not summary.interrupts:
            raise CliError(
                f"Thread {thread_id} has nothing to resume: its run finished (step "
                f"{summary.step}). `hitlgraph state {thread_id}{db_flag(db)}` shows its state; "
                f"start a new run with `hitlgraph run {graph_spec} --input JSON`.",
                ExitCode.NOTHING_PENDING,
            )
        runner = Runner(ctx, view, continue_hint=hint, db=db)
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
        command = resume_value(summary, value, interrupt_id)
        runner.go(target, command, thread_id, no_input=no_input)


@cli.command(epilog=EPILOG, short_help="List threads and what each waits for.")
@db_option
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="Read each thread through this graph (exact next nodes and node names).")
@json_option
def threads(db: str, graph_spec: str | None, as_json: bool) -> None:
    """List the threads of the database, newest first, and what each waits for."""
    view = View(as_json=as_json)
    obj = load_object(graph_spec) if graph_spec else None
    with open_saver(db, create=False) as saver:
        found = list_threads(saver)
        if obj is not None:
            target = bind(obj, saver, graph_spec or "")
            found = [read_through(target, s.thread_id) for s in found]
    if as_json:
        view.data([s.to_json() for s in found])
    else:
        view.threads(found, db)


@cli.command(epilog=EPILOG, short_help="Show a thread's latest state.")
@click.argument("thread_id", metavar="THREAD")
@db_option
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="Read the state through this graph (its get_state: exact next, node names).")
@json_option
def state(thread_id: str, db: str, graph_spec: str | None, as_json: bool) -> None:
    """Show a thread's latest state: values, next nodes, open interrupts."""
    view = View(as_json=as_json)
    obj = load_object(graph_spec) if graph_spec else None
    with open_saver(db, create=False) as saver:
        if not exists(saver, thread_id):
            raise not_found(thread_id, db)
        if obj is not None:
            summary = read_through(bind(obj, saver, graph_spec or ""), thread_id)
        else:
            found = thread_summary(saver, thread_id)
            assert found is not None
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
    """List a thread's checkpoints, newest first."""
    view = View(as_json=as_json)
    with open_saver(db, create=False) as saver:
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
        raise not_found(thread_id, db)
    if as_json:
        view.data(rows)
    else:
        view.history(thread_id, rows)


@cli.command("graph", epilog=EPILOG, short_help="Print a graph as Mermaid text.")
@click.argument("graph_spec", metavar="MODULE:GRAPH")
@json_option
def graph_cmd(graph_spec: str, as_json: bool) -> None:
    """Print a graph as Mermaid text (or its nodes and edges with --json)."""
    target = bind(load_object(graph_spec), None, graph_spec)
    drawing = target.compiled.get_graph()
    if as_json:
        View(as_json=True).data(drawing.to_json())
    else:
        click.echo(drawing.draw_mermaid(), nl=False)


@cli.command(epilog=EPILOG, short_help="Review an assistant's tool calls (a demo).")
@db_option
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
    with open_saver(db, create=True) as saver:
        target = bind(agent.graph, saver, DEMO_SPEC)
        hint = f"hitlgraph demo{db_flag(db)}"
        known = None if new else recall_demo_thread(saver)
        summary = snapshot_of(target.runnable, known) if known else None
        runner = Runner(ctx, view, continue_hint=hint, db=db, show_final=False)
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
    view.say(f"  [bold]hitlgraph history {thread}{db_flag(db)}[/]", wrap=False)
    view.say(f"`{hint}` starts a new conversation.")


cli.add_command(serve)


def main(argv: list[str] | None = None) -> None:
    """The `hitlgraph` console script."""
    cli.main(args=argv, prog_name="hitlgraph")
