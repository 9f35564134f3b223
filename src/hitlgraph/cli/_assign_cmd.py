"""`hitlgraph claim`, `release` and `reassign`: who holds a paused thread's interrupt, in the
checkpoint database's index (hitlgraph.review.Assignable), each logged in the decision log."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any

import click
from rich.markup import escape

from hitlgraph.cli._common import open_saver, resolve_thread
from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.cli._options import EPILOG, db_option, json_option
from hitlgraph.cli._render import View
from hitlgraph.review import Decision, InterruptHeldError, InterruptNotOpenError

__all__ = ["claim", "reassign", "release"]


def _principal(given: str | None) -> str:
    """--as, else the user this process runs as."""
    if given is not None:
        if not given.strip():
            raise CliError("--as must name someone (it was empty).", ExitCode.USAGE)
        return given
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a container's unnamed uid)
        raise CliError("Say who you are with --as NAME (this process has no user name).",
                       ExitCode.USAGE) from None


def _apply(db: str, thread: str, interrupt_id: str, as_json: bool,
           change: Callable[[Any, str], Decision]) -> None:
    """Run one assignment on the thread `thread` names and print its decision row."""
    view = View(as_json=as_json)
    with open_saver(db, create=False) as saver:
        thread_id = resolve_thread(saver, thread, db)
        try:
            row = change(saver, thread_id)
        except InterruptHeldError as exc:
            raise CliError(str(exc), ExitCode.USAGE) from None
        except InterruptNotOpenError as exc:
            raise CliError(str(exc), ExitCode.NOT_FOUND) from None
    if as_json:
        view.data({"seq": row.seq, "thread_id": row.thread_id, "interrupt_id": interrupt_id,
                   "outcome": row.outcome, "by": row.by, "from": row.answer["from"],
                   "to": row.answer["to"], "reason": row.reason})
    else:
        holder = row.answer["to"]
        view.say(f"{row.outcome}: interrupt {escape(interrupt_id)} of thread "
                 f"{escape(row.thread_id)} is now held by "
                 f"{escape(holder) if holder else 'no one'}.")


_thread = click.argument("thread", metavar="THREAD")
_interrupt = click.argument("interrupt_id", metavar="INTERRUPT")
_as = click.option("--as", "principal", metavar="NAME",
                   help="Who does it, for the decision log (default: your user name).")
_reason = click.option("--reason", metavar="TEXT", help="Why, for the decision log.")


@click.command(epilog=EPILOG)
@_thread
@_interrupt
@_as
@_reason
@db_option
@json_option
def claim(thread: str, interrupt_id: str, principal: str | None, reason: str | None, db: str,
          as_json: bool) -> None:
    """Hold INTERRUPT of THREAD (`hitlgraph threads --pending` lists them), so that others
    see it is taken. Refused (exit 2) when someone else holds it."""
    who = _principal(principal)
    _apply(db, thread, interrupt_id, as_json,
           lambda saver, t: saver.claim(t, interrupt_id, who, reason=reason))


@click.command(epilog=EPILOG)
@_thread
@_interrupt
@_as
@click.option("--force", is_flag=True, help="Release it even if someone else holds it.")
@_reason
@db_option
@json_option
def release(thread: str, interrupt_id: str, principal: str | None, force: bool,
            reason: str | None, db: str, as_json: bool) -> None:
    """Let go of INTERRUPT of THREAD: only its holder may, unless --force."""
    who = _principal(principal)
    _apply(db, thread, interrupt_id, as_json,
           lambda saver, t: saver.release(t, interrupt_id, who, force=force, reason=reason))


@click.command(epilog=EPILOG)
@_thread
@_interrupt
@click.option("--to", "to", required=True, metavar="NAME", help="Who holds it next.")
@_as
@_reason
@db_option
@json_option
def reassign(thread: str, interrupt_id: str, to: str, principal: str | None,
             reason: str | None, db: str, as_json: bool) -> None:
    """Give INTERRUPT of THREAD to --to (anyone may)."""
    who = _principal(principal)
    if not to.strip():
        raise CliError("--to must name someone (it was empty).", ExitCode.USAGE)
    _apply(db, thread, interrupt_id, as_json,
           lambda saver, t: saver.reassign(t, interrupt_id, who, to=to, reason=reason))
