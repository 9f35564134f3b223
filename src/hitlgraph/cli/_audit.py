"""`hitlgraph audit`: the checkpoint database's decision log (hitlgraph.review) read and
checked from the shell: `audit list` shows who decided what, `audit verify` checks the hash
chain and exits non-zero at the first row changed or removed."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from hitlgraph.cli._common import open_saver
from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.cli._options import EPILOG, db_option, json_option
from hitlgraph.cli._render import View
from hitlgraph.review import Decision

__all__ = ["TAMPERED", "audit"]

TAMPERED = ExitCode.TAMPERED
"""`audit verify`'s exit code when a row of the log was changed or removed."""


@click.group(epilog=EPILOG)
def audit() -> None:
    """The decision log: every answer given to a paused thread (with who gave it and why,
    `Command(by=..., reason=...)` or the CLI's --by), every question update_state dropped,
    every answer a cancelled server run gave back. Rows are hash-chained: `audit verify`
    finds one changed or removed."""


def _row_json(d: Decision) -> dict[str, Any]:
    return {"seq": d.seq, "at": d.at, "thread_id": d.thread_id,
            "checkpoint_ns": d.checkpoint_ns, "interrupt_id": d.interrupt_id, "node": d.node,
            "outcome": d.outcome, "answer": d.answer, "by": d.by, "reason": d.reason,
            "hash": d.hash}


def _table(rows: list[Decision]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("#", "at", "thread", "node", "outcome", "by", "answer", "reason"):
        table.add_column(column, overflow="fold")
    for d in rows:
        table.add_row(str(d.seq), d.at[:19].replace("T", " "), escape(d.thread_id),
                      escape(d.node or "?"), d.outcome, escape(d.by or "-"),
                      escape(_short(d.answer)), escape(d.reason or ""))
    return table


def _short(answer: Any, width: int = 40) -> str:
    text = json.dumps(answer, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _count(saver: Any) -> int:
    """How many decisions an intact log holds: the newest row's seq."""
    newest = next(iter(saver.list_decisions(limit=1)), None)
    return newest.seq if newest is not None else 0


@audit.command("list", epilog=EPILOG, short_help="List decisions, newest first.")
@db_option
@click.option("--thread", "thread_id", metavar="ID", help="Only this thread's (its full id).")
@click.option("--by", "by", metavar="NAME", help="Only those NAME made.")
@click.option("--since", metavar="ISO",
              help="Only those made at or after this time, ISO 8601 with a time zone "
                   "(e.g. 2026-12-01T00:00:00Z).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              metavar="N", help="At most N decisions.")
@json_option
def list_cmd(db: str, thread_id: str | None, by: str | None, since: str | None, limit: int,
             as_json: bool) -> None:
    """List the decision log, newest first."""
    view = View(as_json=as_json)
    with open_saver(db, create=False) as saver:
        try:
            rows = list(saver.list_decisions(thread_id=thread_id, by=by, since=since,
                                             limit=limit))
        except ValueError as exc:
            raise CliError(f"--since: {exc}", ExitCode.USAGE) from None
    if as_json:
        view.data([_row_json(d) for d in rows])
    elif not rows:
        view.say("No decisions match." if thread_id or by or since else
                 "No decisions yet: answers given to paused threads are logged here.")
    else:
        view.console.print(_table(rows))


@audit.command(epilog=EPILOG, short_help="Check the log's hash chain.")
@db_option
@json_option
def verify(db: str, as_json: bool) -> None:
    """Check that no decision was changed or removed since it was written: each row's hash
    covers the row and the row before it. Exits 6 naming the first bad row."""
    view = View(as_json=as_json)
    with open_saver(db, create=False) as saver:
        broken = saver.verify_decisions()
        count = _count(saver) if broken is None else None
    if as_json:
        view.data({"intact": broken is None, "decisions": count,
                   "first_bad": None if broken is None else
                   {"seq": broken.seq, "problem": broken.problem}})
    if broken is None:
        if not as_json:
            view.say(f"The decision log of {escape(db)} is intact: {count} decisions.")
        return
    view.say(escape(f"The decision log of {db} was tampered with: {broken} (the first row "
                    "that is not as it was written)."), style="bold red")
    raise click.exceptions.Exit(TAMPERED)
