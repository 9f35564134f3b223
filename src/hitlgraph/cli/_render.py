"""How the command line shows things: Rich panels and tables for people, JSON for scripts.

Rich's tables are imported by the views that draw one: the first interrupt prompt of
`hitlgraph run` draws only panels, and comes sooner without them."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.json import JSON
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from hitlgraph.cli._jsonable import dumps, is_message, to_jsonable
from hitlgraph.cli._load import Loaded
from hitlgraph.cli._threads import PendingInterrupt, ThreadSummary
from hitlgraph.review._forms import schema_fields

__all__ = ["View", "is_tool_review"]

_STATUS_STYLE = {"paused": "yellow", "failed": "red", "stopped": "cyan", "done": "green"}


def is_tool_review(value: Any) -> bool:
    """Whether an interrupt's value is a tool review request (hitlgraph.prebuilt)."""
    return (isinstance(value, dict) and value.get("type") == "tool_review"
            and isinstance(value.get("allowed"), list) and "tool" in value)


def _json(value: Any) -> JSON:
    out = JSON(dumps(value))
    out.text.no_wrap = False  # long strings wrap inside panels instead of being cut
    out.text.overflow = "fold"
    return out


def _title(markup: str) -> Text:
    """A panel's title from Rich markup, without emoji codes (as `View`'s console)."""
    return Text.from_markup(markup, emoji=False)


def _call_text(call: dict[str, Any]) -> Text:
    args = json.dumps(to_jsonable(call.get("args")), ensure_ascii=False)
    out = Text()
    out.append(str(call.get("name")), style="bold")
    out.append(f"({args})")
    out.append(f"  id {call.get('id')}", style="dim")
    return out


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(to_jsonable(value), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _content(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), ensure_ascii=False)


def _waiting_lines(s: ThreadSummary) -> list[str]:
    lines: list[str] = []
    for item in s.interrupts:
        where = f"at {item.node}: " if item.node else ""
        value = item.value
        if is_tool_review(value):
            what = (f"review [bold]{escape(str(value['tool']))}[/]"
                    f"({escape(_short(value.get('args'), 50))})")
        else:
            what = escape(_short(value, 56))
        lines.append(f"waits {escape(where)}{what}")
        lines.append(f"  [dim]interrupt {escape(item.id)}[/]")
    lines += [f"[red]failed:[/] {escape(_short(e, 70))}" for e in s.errors]
    if not s.interrupts and s.next:
        lines.append(f"stopped before {escape(', '.join(s.next))}")
    return lines


class View:
    """Output of one command. `console` is for people; with `as_json` it writes to stderr and
    `data()` prints the command's result as JSON on stdout.

    Emoji codes are off: the views show stored values (a ":thumbs_up:" a person typed is shown
    as typed; `escape` leaves such codes alone), and Rich would load its table of 3,600 codes
    at the first line holding a colon."""

    def __init__(self, *, as_json: bool = False, console: Console | None = None) -> None:
        self.as_json = as_json
        self.console = console or Console(stderr=as_json, highlight=False, emoji=False)
        self._seen: dict[str, Any] = {}

    # -- plain lines -----------------------------------------------------------------------------

    def say(self, text: str, style: str | None = None, *, wrap: bool = True) -> None:
        """A line for people (markup allowed); `wrap=False` keeps long lines (commands to copy)
        whole."""
        self.console.print(text, style=style, soft_wrap=not wrap)

    def command_hint(self, lead: str, command: str) -> None:
        """`lead`, then a command to copy on a line of its own, never wrapped."""
        self.say(lead)
        self.say(f"  [bold]{escape(command)}[/]", wrap=False)

    def found(self, loaded: Loaded) -> None:
        """Which graph a MODULE:GRAPH argument named, and what kind of thing it was."""
        self.say(f"[dim]graph {escape(loaded.spec)}: {escape(loaded.found)}[/]")

    def starting_over(self, before: ThreadSummary, resume_command: str) -> None:
        """`run --thread` on a thread paused at a question: it starts over, as in LangGraph."""
        asked = "; ".join(f"{i.node + ': ' if i.node else ''}{_short(i.value, 56)}"
                          for i in before.interrupts)
        thread = escape(before.thread_id)
        self.command_hint(
            f"[yellow]Thread {thread} was paused at a question[/] ({escape(asked)}). This run "
            "starts it over from the new input, as LangGraph does, so that question is no "
            f"longer open (its checkpoint stays in `hitlgraph history {thread}`). To answer a "
            "paused question instead of starting over, use:", resume_command)

    def data(self, value: Any) -> None:
        """The result for scripts: JSON on stdout."""
        print(dumps(value), flush=True)

    # -- while a run goes ------------------------------------------------------------------------

    def progress(self, node: str, update: Any) -> None:
        """One node finished: its name, the keys it wrote, and any chat messages in full."""
        if isinstance(update, dict):
            keys = ", ".join(update) or "nothing"
            self.say(f"[green]✓[/] [bold]{escape(node)}[/] [dim]wrote {escape(keys)}[/]")
            for value in update.values():
                self.messages(value if isinstance(value, list) else [value])
        else:
            self.say(f"[green]✓[/] [bold]{escape(node)}[/] [dim]→ {escape(_short(update))}[/]")

    def messages(self, items: Iterable[Any]) -> None:
        """Chat messages as a transcript. A message shown before (same id) that comes again,
        as when a review edits the tool calls, shows only its changed calls."""
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for message in items:
            if not is_message(message):
                continue
            kind = message.type
            text = _content(message.content)
            calls = list(getattr(message, "tool_calls", None) or ())
            mid = getattr(message, "id", None)
            before = self._seen.get(mid) if mid else None
            if mid:
                self._seen[mid] = message
            if before is not None:
                old = {c.get("id"): c for c in getattr(before, "tool_calls", None) or ()}
                for call in calls:
                    if old.get(call.get("id")) != call:
                        grid.add_row(Text("  edited", style="magenta"), _call_text(call))
                continue
            if kind == "human":
                grid.add_row(Text("  user", style="bold blue"), Text(text))
            elif kind in ("ai", "AIMessageChunk"):
                if text:
                    grid.add_row(Text("  assistant", style="bold magenta"), Text(text))
                for call in calls:
                    grid.add_row(Text("  asks", style="magenta"), _call_text(call))
            elif kind == "tool":
                style = "red" if getattr(message, "status", "success") == "error" else "cyan"
                name = str(getattr(message, "name", None) or "tool")
                grid.add_row(Text(f"  {name}", style=style), Text(text))
            else:
                grid.add_row(Text(f"  {kind}", style="bold"), Text(text))
        if grid.row_count:
            self.console.print(grid)

    def interrupt(self, item: PendingInterrupt, index: int, total: int) -> None:
        """A question the run waits on, readably."""
        count = f" {index} of {total}" if total > 1 else ""
        where = f" · node {item.node}" if item.node else ""
        value = item.value
        if is_tool_review(value):
            body: list[RenderableType] = []
            if value.get("description"):
                body.append(Text(str(value["description"])))
            body.append(Text("Arguments:", style="bold"))
            body.append(_json(value.get("args", {})))
            body.append(Text(f"tool call id {value.get('id')} · interrupt id {item.id}",
                             style="dim"))
            title = f"Review tool call{count}: [bold]{escape(str(value['tool']))}[/]{where}"
            self.console.print(Panel(Group(*body), title=_title(title), title_align="left",
                                     border_style="yellow"))
            return
        title = f"The run asks{count}{escape(where)}"
        body2 = Group(_json(value), Text(f"interrupt id {item.id}", style="dim"))
        self.console.print(Panel(body2, title=_title(title), title_align="left",
                                 border_style="yellow"))

    def expected(self, schema: dict[str, Any]) -> None:
        """What a typed answer must hold: one line per field of its response_schema."""
        fields = schema_fields(schema)
        if len(fields) == 1 and not fields[0].path:
            self.say(f"[dim]The answer must be: {escape(fields[0].kind)}.[/]")
            return
        self.say("[dim]The answer is a JSON object with these fields (* required):[/]")
        for f in fields:
            mark = "[bold]*[/]" if f.required else " "
            extra = f" (default {_short(f.default, 30)})" if f.has_default else ""
            about = f" — {f.description}" if f.description else ""
            self.say(f"  {mark} [bold]{escape(f.path)}[/]: {escape(f.kind)}{escape(extra)}"
                     f"[dim]{escape(about)}[/]")

    def field_errors(self, errors: Sequence[dict[str, Any]]) -> None:
        """An answer's problems, one line per field (as InvalidAnswerError lists them)."""
        for e in errors:
            where = ".".join(str(p) for p in e.get("loc", ())) or "(answer)"
            self.say(f"  [red]✗[/] [bold]{escape(where)}[/]: {escape(str(e.get('msg')))}")

    def interrupts(self, items: Sequence[PendingInterrupt]) -> None:
        for n, item in enumerate(items, 1):
            self.interrupt(item, n, len(items))

    def review_answer(self, tool: str, answer: Any) -> None:
        """A tool review answer given earlier, one line."""
        kind = answer.get("type") if isinstance(answer, dict) else None
        if kind == "edit":
            what = f"edit, run with {_short(answer.get('args'))}"
        elif kind == "respond":
            what = f"respond: {_short(answer.get('content'))}"
        else:
            what = str(kind) if kind else _short(answer)
        self.say(f"  [green]✓[/] [bold]{escape(tool)}[/] → {escape(what)}")

    def final(self, thread_id: str, values: Any) -> None:
        """The state a finished run left."""
        title = _title(f"Finished · thread {escape(thread_id)}")
        self.console.print(Panel(_json(values), title=title, title_align="left",
                                 border_style="green"))

    # -- reading threads ---------------------------------------------------------------------------

    def threads(self, items: Sequence[ThreadSummary], db: str, *, pending: bool = False,
                order: str = "by id") -> None:
        """One block per thread: id, status, step (unknown to a summary read from the index
        of open questions, so left out), time; then what it waits for."""
        kind = "paused thread(s)" if pending else "thread(s)"
        if not items:
            self.say(f"No {'paused ' if pending else ''}threads in {escape(db)}.")
            return
        self.say(f"[bold]{len(items)} {kind}[/] in {escape(db)}, {escape(order)}:")
        for s in items:
            style = _STATUS_STYLE.get(s.status, "")
            when = (s.created_at or "")[:16].replace("T", " ")
            graph = f"  [dim]{escape(s.graph)}[/]" if s.graph else ""
            step = f"step {s.step}  " if s.step is not None else ""
            self.say(f"[{style}]●[/] [bold]{escape(s.thread_id)}[/]  [{style}]{s.status}[/]  "
                     f"{step}[dim]{escape(when)}[/]{graph}")
            for line in _waiting_lines(s):
                self.say(f"    {line}")

    def more_threads(self, cursor: str) -> None:
        """The page was full and more threads follow: how to ask for them (to stderr with
        --json, so stdout stays one JSON list)."""
        self.command_hint("More threads follow; for the next page, repeat the command with:",
                          f"--after {shlex.quote(cursor)}")

    def state(self, s: ThreadSummary) -> None:
        style = _STATUS_STYLE.get(s.status, "")
        self.say(f"thread [bold]{escape(s.thread_id)}[/]: [{style}]{s.status}[/] at step {s.step} "
                 f"[dim](checkpoint {s.checkpoint_id}, {s.created_at})[/]")
        if s.graph:
            self.say(f"graph: {escape(s.graph)}")
        if s.next:
            self.say(f"next: {escape(', '.join(s.next))}")
        self.console.print(Panel(_json(s.values), title=_title("values"), title_align="left"))
        for error in s.errors:
            self.say(f"[red]error:[/] {escape(error)}")
        self.interrupts(s.interrupts)

    def history(self, thread_id: str, rows: Sequence[dict[str, Any]]) -> None:
        """The checkpoints as a table that fits 80 columns: only the "ran → next" column
        wraps, never a checkpoint id (it is copied whole)."""
        from rich import box
        from rich.table import Table

        graph = next((r["graph"] for r in rows if r.get("graph")), None)
        ran = f" (graph {escape(graph)})" if graph else ""
        table = Table(title=f"Checkpoints of thread {escape(thread_id)}{ran}, newest first",
                      title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        width = max((len(str(r["checkpoint_id"])) for r in rows), default=0)
        for column in ("step", "source", "time"):
            table.add_column(column, no_wrap=True)
        table.add_column("ran → next", overflow="fold", ratio=1)
        table.add_column("checkpoint", no_wrap=True, min_width=width)
        for row in rows:
            waits = " [yellow](waits)[/]" if row["interrupts"] else ""
            moved = (f"{', '.join(row['writers']) or '·'} → "
                     f"{', '.join(row['next']) or 'end'}")
            table.add_row(str(row["step"]), str(row["source"]),
                          str(row["created_at"] or "")[11:19], escape(moved) + waits,
                          str(row["checkpoint_id"]))
        self.console.print(table)
