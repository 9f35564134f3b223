"""Turning `resume --value` (and `--interrupt`) into the Command that answers a paused thread,
checked against the questions it waits for."""

from __future__ import annotations

from typing import Any

from hitlgraph.cli._errors import CliError, ExitCode
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


def resume_value(summary: ThreadSummary, value: Any, interrupt_id: str | None) -> Any:
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
