"""Turning `resume --value` (and `--interrupt`) into the Command that answers a paused thread,
checked against the questions it waits for."""

from __future__ import annotations

from typing import Any

from hitlgraph.cli._errors import CliError, ExitCode
from hitlgraph.cli._prompt import review_kind
from hitlgraph.cli._render import is_tool_review
from hitlgraph.cli._session import answers_command
from hitlgraph.cli._threads import PendingInterrupt, ThreadSummary

__all__ = ["resume_value"]


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


_SHAPES = {"edit": '{"type": "edit", "args": {...}}',
           "respond": '{"type": "respond", "content": "..."}'}


def _review_answer(item: PendingInterrupt, value: Any) -> Any:
    """`value` as the answer to `item`, checked when it is a tool review request: there a bare
    word answers as at the prompt (accept, ignore, or their first letters)."""
    if not is_tool_review(item.value):
        return value
    kind = review_kind(value) if isinstance(value, str) else None
    if kind in _SHAPES:
        raise CliError(f"--value '{value}' means {kind}, which needs more than a word: give it "
                       f"as JSON, e.g. --value '{_SHAPES[kind]}'.", ExitCode.USAGE)
    if kind is not None:
        value = {"type": kind}
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
        pass  # not a request hitlgraph.prebuilt made: let the graph judge
    return value


def resume_value(summary: ThreadSummary, value: Any, interrupt_id: str | None) -> Any:
    """The Command answering `summary`'s interrupts with the --value (and --interrupt) given."""
    open_ = summary.interrupts
    ids = {i.id for i in open_}
    if interrupt_id is not None:
        item = _pick_interrupt(summary, interrupt_id)
        return answers_command({item.id: _review_answer(item, value)}, len(open_))
    if len(open_) == 1:
        return answers_command({open_[0].id: _review_answer(open_[0], value)}, 1)
    if isinstance(value, dict) and value and set(value) <= ids:
        answers = {i.id: _review_answer(i, value[i.id]) for i in open_ if i.id in value}
        return answers_command(answers, len(open_))  # by id: the others stay open
    listing = "; ".join(f"{i.id} ({i.node or 'node ?'})" for i in open_)
    raise CliError(
        f"Thread {summary.thread_id} waits for {len(open_)} answers: answer one with "
        "--interrupt ID --value ANSWER, or all with --value '{\"ID\": answer, ...}'. Open: "
        f"{listing}.", ExitCode.USAGE,
    )
