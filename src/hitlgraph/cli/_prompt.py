"""Asking the person at the terminal for the answers a paused run waits for."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from hitlgraph.cli._jsonable import JSONInputError, parse_answer, parse_json, to_jsonable
from hitlgraph.cli._render import View, is_tool_review
from hitlgraph.cli._threads import PendingInterrupt
from hitlgraph.errors import InvalidAnswerError

__all__ = ["Prompter", "review_kind"]

_KINDS = ("accept", "edit", "respond", "ignore")
_MEANING = {
    "accept": "run the call as asked",
    "edit": "change its arguments, then run it",
    "respond": "don't run it; send your text to the assistant instead",
    "ignore": "don't run it; tell the assistant it was skipped",
}


def review_kind(word: str) -> str | None:
    """The review answer a word means (accept, edit, respond, ignore, or the start of one, any
    case), or None."""
    word = word.strip().lower()
    chosen = [k for k in _KINDS if word and k.startswith(word)]
    return chosen[0] if len(chosen) == 1 else None


def _editor_wanted() -> bool:
    return bool(os.environ.get("VISUAL") or os.environ.get("EDITOR")) and (
        sys.stdin.isatty() and sys.stdout.isatty()
    )


class Prompter:
    """Reads answers from the terminal (or any stdin). Ctrl-C raises KeyboardInterrupt and
    end of input EOFError: the caller leaves the thread paused.

    Args:
        view: where questions are shown.
        editor: open $VISUAL / $EDITOR for edits; default: when one is set and both stdin and
            stdout are terminals.
    """

    def __init__(self, view: View, *, editor: bool | None = None) -> None:
        self.view = view
        self.console = view.console
        self.editor = _editor_wanted() if editor is None else editor

    def read(self, prompt: str) -> str:
        """One line from the person (without its newline)."""
        return self.console.input(prompt)

    # -- one interrupt ---------------------------------------------------------------------------

    def answer(self, item: PendingInterrupt, index: int = 1, total: int = 1, *,
               schema: dict[str, Any] | None = None) -> Any:
        """Show `item` (and what its `schema` expects) and return the person's answer to it."""
        self.view.interrupt(item, index, total)
        if is_tool_review(item.value):
            return self.tool_review(item.value)
        if schema is not None:
            self.view.expected(schema)
        return self.json_value()

    def refused(self, error: InvalidAnswerError, tries_left: int) -> None:
        """The answer did not match its schema: say which fields are wrong, then ask again."""
        self.view.say(f"[red]That answer does not match what interrupt "
                      f"{_escape(error.interrupt_id)} expects; nothing ran:[/]")
        self.view.field_errors(error.errors)
        tries = "one more try" if tries_left == 1 else f"{tries_left} more tries"
        self.view.say(f"[dim]Answer it again ({tries}).[/]")

    def json_value(self) -> Any:
        """A JSON value; text that is not JSON is taken as a string."""
        self.view.say("[dim]Answer with JSON (e.g. true, 42, {\"approved\": true}) or plain text "
                      "(taken as a string).[/]")
        while True:
            text = self.read("[bold]answer>[/] ")
            if not text.strip():
                self.view.say('[yellow]An answer is needed; type "" for an empty string.[/]')
                continue
            try:
                return parse_answer(text, "That answer")
            except JSONInputError as exc:
                self.view.say(f"[red]{_escape(str(exc))}[/]")
                self.view.say("[dim]Fix it and try again (plain text must not start with "
                              "{ [ or \").[/]")

    def failed(self, error: Exception) -> None:
        """The run failed after the answers given, and its questions are still open."""
        first = (str(error).strip().splitlines() or [""])[0]
        self.view.say(f"[red]That answer made the run fail:[/] "
                      f"{_escape(type(error).__name__)}: {_escape(first)}")
        self.view.say("[dim]The question is still open: answer it again.[/]")

    # -- tool review -----------------------------------------------------------------------------

    def tool_review(self, request: dict[str, Any]) -> dict[str, Any]:
        """accept / edit / respond / ignore, as the request allows; returns the answer dict."""
        allowed = [k for k in _KINDS if k in request["allowed"]]
        for name in allowed:
            self.view.say(f"  [bold]{name[0]}[/]{name[1:]:<8} {_MEANING[name]}")
        shown = "/".join(allowed)
        while True:
            typed = self.read(f"[bold]review ({shown})>[/] ").strip()
            if not typed:
                continue
            kind = review_kind(typed)
            if kind is None:
                self.view.say(f"[yellow]'{_escape(typed)}' is not an answer here; type one of: "
                              f"{shown}.[/]")
                continue
            if kind not in allowed:
                self.view.say(f"[yellow]'{kind}' is not allowed for this call; type one of: "
                              f"{shown}.[/]")
                continue
            if kind == "edit":
                args = self.edit_args(dict(request.get("args") or {}))
                if args is None:
                    continue
                shown_args = json.dumps(to_jsonable(args), ensure_ascii=False)
                self.view.say(f"→ edit: run {_escape(str(request['tool']))} with "
                              f"{_escape(shown_args)}")
                return {"type": "edit", "args": args}
            if kind == "respond":
                content = self.read("[bold]your reply to the assistant>[/] ").strip()
                if not content:
                    self.view.say("[yellow]An empty reply; choose again.[/]")
                    continue
                self.view.say(f"→ respond: {_escape(content)}")
                return {"type": "respond", "content": content}
            self.view.say(f"→ {kind}")
            return {"type": kind}

    def edit_args(self, args: dict[str, Any]) -> dict[str, Any] | None:
        """New arguments: in $EDITOR when it is used, else typed as JSON; None to choose again."""
        if self.editor:
            return self._edit_in_editor(args)
        self.view.say("[dim]Type a JSON object: its keys replace those arguments, the others "
                      "stay. Enter alone keeps them all.[/]")
        while True:
            text = self.read("[bold]args>[/] ").strip()
            if not text:
                return args
            try:
                new = parse_json(text, "That edit")
            except JSONInputError as exc:
                self.view.say(f"[red]{_escape(str(exc))}[/]")
                continue
            if not isinstance(new, dict):
                self.view.say("[red]The arguments must be a JSON object, like "
                              '{"body": "new text"}.[/]')
                continue
            return {**args, **new}

    def _edit_in_editor(self, args: dict[str, Any]) -> dict[str, Any] | None:
        text = json.dumps(to_jsonable(args), indent=2, ensure_ascii=False) + "\n"
        while True:
            edited = click.edit(text, extension=".json", require_save=True)
            if edited is None:
                self.view.say("[yellow]The editor closed without saving: nothing changed; "
                              "choose again.[/]")
                return None
            try:
                new = parse_json(edited, "The edited arguments")
            except JSONInputError as exc:
                self.view.say(f"[red]{_escape(str(exc))}[/]")
            else:
                if isinstance(new, dict):
                    return new
                self.view.say("[red]The arguments must be a JSON object.[/]")
            if self.read("Edit again? [Y/n] ").strip().lower() in ("n", "no"):
                return None
            text = edited

    # -- breakpoints ----------------------------------------------------------------------------

    def go_on(self, next_nodes: tuple[str, ...]) -> None:
        """At a breakpoint: wait for Enter."""
        self.view.say(f"[yellow]Stopped before {', '.join(next_nodes)}[/] (a breakpoint, or an "
                      "earlier stop).")
        self.read("[bold]Press Enter to go on (Ctrl-C leaves it paused)>[/] ")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
