"""The commands that only read: `hitlgraph threads`, `state`, `history` (from the checkpoint
file, through a graph's get_state() with --graph) and `graph` (a graph drawn as Mermaid)."""

from __future__ import annotations

import click

from hitlgraph.cli._common import open_saver, read_through, resolve_thread
from hitlgraph.cli._load import bind, load_object
from hitlgraph.cli._options import EPILOG, db_option, json_option
from hitlgraph.cli._render import View
from hitlgraph.cli._runner import outcome_json
from hitlgraph.cli._threads import (
    DEFAULT_LIMIT,
    PendingFilter,
    history_rows,
    paused_threads,
    thread_page,
    thread_summary,
)

__all__ = ["graph_cmd", "history", "state", "threads"]

_READ_ADVICE = "Leave out --graph to read the checkpoint as it is."

@click.command(epilog=EPILOG)
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
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              metavar="N", help="At most N threads (a page; the next one is --after).")
@click.option("--after", metavar="CURSOR",
              help="The page after CURSOR (the end of the previous page prints it).")
@json_option
def threads(db: str, graph_spec: str | None, pending: bool, assignee: str | None,
            group: str | None, unassigned: bool, overdue: bool, limit: int,
            after: str | None, as_json: bool) -> None:
    """List the threads of the database by id (with --pending, the paused ones, newest
    question first), what each waits for, and the graph it was run with; a page at a time."""
    view = View(as_json=as_json)
    loaded = load_object(graph_spec) if graph_spec else None
    only = PendingFilter(assignee, group, unassigned, overdue)
    pending = pending or bool(only)
    with open_saver(db, create=False) as saver:
        page = (paused_threads(saver, limit=limit, after=after, only=only) if pending
                else thread_page(saver, limit=limit, after=after))
        found = page.threads
        if loaded is not None:
            target = bind(loaded, saver)
            found = [read_through(target, s.thread_id, advice=_READ_ADVICE) for s in found]
    if as_json:
        view.data([s.to_json() for s in found])
    else:
        order = ("longest overdue first" if overdue else "newest question first") \
            if pending else "by id"
        view.threads(found, db, pending=pending, order=order)
    if page.more is not None:
        view.more_threads(page.more)


@click.command(epilog=EPILOG)
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


@click.command(epilog=EPILOG)
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


@click.command("graph", epilog=EPILOG)
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
