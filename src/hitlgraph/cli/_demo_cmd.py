"""`hitlgraph demo`: start the tool-review demo, or pick up the paused one (showing where it
stopped), in this process or a new one."""

from __future__ import annotations

import shlex
import uuid
from typing import Any

import click

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._common import open_saver
from hitlgraph.cli._demo_thread import recall_demo_thread, remember_demo_thread
from hitlgraph.cli._load import Target, bind, load_object
from hitlgraph.cli._options import DEMO_SPEC, EPILOG, db_flag, db_option
from hitlgraph.cli._render import View
from hitlgraph.cli._runner import Runner
from hitlgraph.cli._session import snapshot_of
from hitlgraph.cli._threads import ThreadSummary, answers_given

__all__ = ["demo"]


@click.command(epilog=EPILOG)
@db_option
@click.option("--new", is_flag=True, help="Start a new demo conversation even if one is paused "
                                         "(that one stays paused; `hitlgraph resume` goes back).")
@click.pass_context
def demo(ctx: click.Context, db: str, new: bool) -> None:
    """An assistant drafts a reply and asks to run tools; you review each call.

    Answer each tool call with accept, edit (change its arguments), respond (send text back
    instead) or ignore. Ctrl-C leaves the demo paused; `hitlgraph demo` again picks it up, in
    this process or a new one.
    """
    view = View()
    hint = f"hitlgraph demo{db_flag(db)}"
    with open_saver(db, create=True) as saver:
        target = bind(load_object(DEMO_SPEC), saver)
        runner = Runner(ctx, view, continue_hint=hint, db=db, show_final=False)
        paused = _paused_demo(saver, target)
        if paused is not None and not new:
            _pick_up(view, saver, paused, db)
            runner.go(target, None, paused.thread_id, no_input=False,
                      start_paused=bool(paused.interrupts))
            thread = paused.thread_id
        else:
            if paused is not None:
                _left_paused(view, paused, db)
            thread = _start(view, saver, db, hint)
            runner.go(target, _demo_input(), thread, no_input=False)
    view.say(f"[green]Demo finished[/] (thread {thread}). Its checkpoints:")
    view.say(f"  [bold]hitlgraph history {thread}{db_flag(db)}[/]", wrap=False)
    view.say(f"`{hint}` starts a new conversation.")


def _demo_input() -> Any:
    # Imported when the demo runs: importing it builds the demo's graph.
    from hitlgraph.cli.demo import demo_input

    return demo_input()


def _paused_demo(saver: SqliteSaver, target: Target) -> ThreadSummary | None:
    """The demo thread of this database, if it is paused (or was stopped while running)."""
    known = recall_demo_thread(saver)
    summary = snapshot_of(target.runnable, known) if known else None
    if summary is None or not (summary.next or summary.interrupts):
        return None
    return summary


def _pick_up(view: View, saver: SqliteSaver, paused: ThreadSummary, db: str) -> None:
    view.say(f"[bold]Picking up the paused demo[/] on thread {paused.thread_id} "
             f"[dim]({db})[/]. So far:")
    messages = list((paused.values or {}).get("messages", []))
    view.messages(messages)
    calls = _last_tool_calls(messages)
    answers = answers_given(saver, paused.thread_id)
    if answers and calls:
        view.say("Already answered in this round:")
        for call, answer in zip(calls, answers, strict=False):
            view.review_answer(str(call.get("name")), answer)


def _last_tool_calls(messages: list[Any]) -> list[dict[str, Any]]:
    """The tool calls of the latest assistant message that made some: the round under review
    (the demo's tools node reviews them in this order)."""
    for message in reversed(messages):
        calls = list(getattr(message, "tool_calls", None) or ())
        if calls:
            return calls
    return []


def _left_paused(view: View, paused: ThreadSummary, db: str) -> None:
    graph = "" if paused.graph else f" --graph {DEMO_SPEC}"  # recorded since this version
    view.command_hint(
        f"The earlier demo conversation (thread {paused.thread_id}) stays paused; "
        "`hitlgraph demo` now picks up the new one. Return to the earlier one with:",
        f"hitlgraph resume {shlex.quote(paused.thread_id)}{graph}{db_flag(db)}")


def _start(view: View, saver: SqliteSaver, db: str, hint: str) -> str:
    thread = str(uuid.uuid4())
    remember_demo_thread(saver, thread)
    view.say("[bold]hitlgraph demo[/]: an assistant drafts a reply to a customer and asks "
             "to run two tools; you review each call before it runs.")
    view.say(f"[dim]Thread {thread}, saved in {db}. Ctrl-C leaves it paused; "
             f"`{hint}` picks it up again.[/]")
    return thread
