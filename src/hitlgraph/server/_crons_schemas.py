"""The bodies of the cron routes, as LangGraph's server takes them.

A cron's body is a run's body (the run each firing creates) plus when to fire: so the create
bodies extend the stateless run body of `schemas.py`, and every rule a run's body has (its stream
modes, its config, no webhook yet) is checked when the cron is made, not at its first firing
where no client would see the refusal. The schedule and timezone are checked here too, each
error naming its field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from hitlgraph.server._ids import not_a_uuid
from hitlgraph.server._paging import MAX_OFFSET
from hitlgraph.server.schemas import (
    MultitaskStrategyName,
    RunCreateStateless,
    StreamModeName,
    _Body,
)
from hitlgraph.server.store._crons import check_schedule, check_timezone

__all__ = ["CRON_FIELDS", "CronCount", "CronCreate", "CronPatch", "CronSearch",
           "ThreadCronCreate"]

CronField = Literal["cron_id", "assistant_id", "thread_id", "user_id", "end_time", "schedule",
                    "timezone", "payload", "next_run_date", "metadata", "on_run_completed",
                    "enabled", "created_at", "updated_at"]
CRON_FIELDS: tuple[CronField, ...] = get_args(CronField)
"""A cron's keys in the order LangGraph's server answers them."""
CronSortBy = Literal["cron_id", "assistant_id", "thread_id", "next_run_date", "end_time",
                     "created_at", "updated_at"]


def _schedule(value: str | None) -> str | None:
    return None if value is None else check_schedule(value)


def _timezone(value: str | None) -> str | None:
    return check_timezone(value)


def _uuid(what: str) -> Any:
    def check(value: str | None) -> str | None:
        refusal = None if value is None else not_a_uuid(value, what)
        if refusal is not None:
            raise ValueError(refusal)
        return value
    return check


class _When(_Body):
    """When a cron fires."""

    schedule: str
    timezone: str | None = None
    end_time: datetime | None = None
    enabled: bool = True
    multitask_strategy: MultitaskStrategyName = "enqueue"
    """What a firing does when the thread has a run going (a stateless cron's new thread
    never has: LangGraph's server accepts it there and so do we)."""

    _check_schedule = field_validator("schedule")(_schedule)
    _check_timezone = field_validator("timezone")(_timezone)


class CronCreate(RunCreateStateless, _When):
    """POST /runs/crons: a run on a new thread at each firing."""

    on_run_completed: Literal["delete", "keep"] = "delete"


class ThreadCronCreate(RunCreateStateless, _When):
    """POST /threads/{thread_id}/runs/crons: a run on that thread at each firing."""


class CronPatch(_Body):
    """PATCH /runs/crons/{cron_id}: what it gives changes; `end_time: null` removes the end.
    The whole body goes into the cron's payload, over what it held, and the result is checked
    as a create body would be (so a webhook is refused here too)."""

    schedule: str | None = None
    timezone: str | None = None
    end_time: datetime | None = None
    enabled: bool | None = None
    on_run_completed: Literal["delete", "keep"] | None = None
    input: Any = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    webhook: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None

    _check_schedule = field_validator("schedule")(_schedule)
    _check_timezone = field_validator("timezone")(_timezone)


class CronSearch(_Body):
    """POST /runs/crons/search."""

    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    sort_by: CronSortBy | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[CronField | Literal["now"]] | None = None

    _check_assistant = field_validator("assistant_id")(_uuid("assistant"))
    _check_thread = field_validator("thread_id")(_uuid("thread"))


class CronCount(_Body):
    """POST /runs/crons/count."""

    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None

    _check_assistant = field_validator("assistant_id")(_uuid("assistant"))
    _check_thread = field_validator("thread_id")(_uuid("thread"))
