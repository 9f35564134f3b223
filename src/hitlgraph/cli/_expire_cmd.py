"""`hitlgraph expire`: carry out the review policies whose time came (deadlines, warnings)
in the checkpoint database, as hitlgraph.review.apply_expired does, and print what it did."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from hitlgraph.cli._common import open_saver
from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.cli._load import bind, load_object
from hitlgraph.cli._options import EPILOG, db_option, json_option
from hitlgraph.cli._render import View
from hitlgraph.review import PolicyApplied, apply_expired
from hitlgraph.review._times import as_time, utc_now

__all__ = ["expire"]


def _when(now: str | None) -> str:
    try:
        return as_time("--now", now) or utc_now()
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None


def _graph_ids(saver: Any, at: str, limit: int) -> set[str | None]:
    """The graphs (as recorded) of the interrupts due at `at`: one page of the index."""
    return {p.graph_id for p in saver.list_pending(expired_before=at, order="deadline",
                                                   limit=limit)}


def _run(saver: Any, graph_spec: str | None, at: str, limit: int) -> list[PolicyApplied]:
    """apply_expired with --graph for every thread, else per recorded graph (each thread's
    default answer resumes through the graph it ran; threads without one get the other
    policies, and their default answers are reported as failed)."""
    if graph_spec is not None:
        target = bind(load_object(graph_spec), saver)
        return apply_expired(target.runnable, saver, now=at, limit=limit)
    done: list[PolicyApplied] = []
    recorded = _graph_ids(saver, at, limit)
    for graph_id in sorted(g for g in recorded if g is not None):
        target = bind(load_object(graph_id), saver)
        done += apply_expired(target.runnable, saver, now=at, limit=limit, graph_id=graph_id)
    if None in recorded or not recorded:  # (also sends the warnings due)
        done += apply_expired(None, saver, now=at, limit=limit)
    return done


def _table(done: list[PolicyApplied]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("thread", "interrupt", "result", "detail"):
        table.add_column(column, overflow="fold")
    for item in done:
        style = "red" if item.result == "failed" else ""
        table.add_row(escape(item.thread_id), escape(item.interrupt_id[:12]),
                      f"[{style}]{item.result}[/]" if style else item.result,
                      escape(item.detail or ""))
    return table


@click.command(epilog=EPILOG)
@db_option
@click.option("--graph", "graph_spec", metavar="MODULE:GRAPH",
              help="The graph that resumes threads with a default answer (default: each "
                   "thread's, as recorded when it ran).")
@click.option("--now", metavar="ISO",
              help="Judge deadlines at this time, ISO 8601 with a time zone (default: now).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              metavar="N", help="At most N warnings and N due interrupts per graph.")
@json_option
def expire(db: str, graph_spec: str | None, now: str | None, limit: int,
           as_json: bool) -> None:
    """Carry out the policies of interrupts asked with expires_in= (a default answer, a
    cancel, an escalation) whose deadline passed, and send the warnings (warn_before=) whose
    time came; each once, even with several `hitlgraph expire` at once. Exits 1 when a
    default answer failed (the interrupt stays open, and is tried again next time)."""
    view = View(as_json=as_json)
    at = _when(now)
    with open_saver(db, create=False) as saver:
        done = _run(saver, graph_spec, at, limit)
    if as_json:
        view.data([{"thread_id": d.thread_id, "checkpoint_ns": d.checkpoint_ns,
                    "interrupt_id": d.interrupt_id, "result": d.result, "detail": d.detail}
                   for d in done])
    elif not done:
        view.say("Nothing due.")
    else:
        view.console.print(_table(done))
    if any(d.result == "failed" for d in done):
        raise CliError(f"{sum(d.result == 'failed' for d in done)} default answer(s) failed: "
                       "see the detail column.", ExitCode.GRAPH_ERROR)
