"""Crons as the server stores them: the records, and LangGraph's rules for their schedules
(the operations that store them are in `_crons_ops.py`).

Rules, as on LangGraph's server:

- A schedule is a standard cron expression of five fields (minute hour day-of-month month
  day-of-week), or one of croniter's `@hourly`-style names, read in the cron's IANA timezone
  (UTC when it has none). `next_run_date` is always the first time the schedule names after
  a moment, as UTC.
- A cron fires when it is enabled, its `next_run_date` has come and its `end_time` has not
  passed. Firing moves `next_run_date` to the first time after *now*: times missed while no
  server ran are not made up for, each due cron fires once.
- A thread's cron runs on that thread; a stateless cron runs on a new thread each time, which
  is deleted after the run unless `on_run_completed` is "keep".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hitlgraph._install import install_command

try:
    # croniter ships no type information.
    from croniter import croniter  # type: ignore[import-untyped]
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "hitlgraph's server reads cron schedules with croniter, which the `server` extra "
        f"installs: {install_command('server')} ({exc})") from exc

__all__ = [
    "CronChange",
    "CronFields",
    "CronRow",
    "OnRunCompleted",
    "ScheduleError",
    "TimezoneError",
    "check_schedule",
    "check_timezone",
    "iso",
    "next_run_date",
]

OnRunCompleted = Literal["delete", "keep"]
"""What happens to a stateless cron's thread after each run: "delete" (the default) removes
it, "keep" leaves it for the client to read and delete."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CronFields:
    """What a new cron holds."""

    assistant_id: str
    thread_id: str | None
    """None: a stateless cron (a new thread per run)."""
    schedule: str
    timezone: str | None
    payload: dict[str, Any]
    """The run each firing creates, as the request that made the cron described it."""
    metadata: dict[str, Any]
    on_run_completed: OnRunCompleted | None
    """None for a thread's cron (its thread stays)."""
    enabled: bool
    end_time: datetime | None
    """No firing after this time; None: no end."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CronRow:
    """A stored cron (times as ISO 8601 text in UTC)."""

    tenant: str
    cron_id: str
    assistant_id: str
    thread_id: str | None
    schedule: str
    timezone: str | None
    payload: dict[str, Any]
    metadata: dict[str, Any]
    on_run_completed: OnRunCompleted | None
    enabled: bool
    end_time: str | None
    next_run_date: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CronChange:
    """An update: None keeps the current value."""

    schedule: str | None = None
    timezone: str | None = None
    end_time: datetime | None = None
    clear_end_time: bool = False
    """True: the cron no longer ends (an explicit `end_time: null`)."""
    enabled: bool | None = None
    on_run_completed: OnRunCompleted | None = None
    payload: dict[str, Any] | None = None
    """Merged over the current payload, key by key (the assistant and cron id stay)."""
    metadata: dict[str, Any] | None = None
    """Merged into the current metadata."""


class ScheduleError(ValueError):
    """A schedule that is not a five-field cron expression."""

    def __init__(self, schedule: str) -> None:
        self.schedule = schedule
        super().__init__(
            f"Invalid cron schedule: '{schedule}'. Use the standard cron format of five "
            "fields (minute hour day_of_month month day_of_week), e.g. '*/5 * * * *' for "
            "every 5 minutes, or a name such as '@hourly'.")


class TimezoneError(ValueError):
    """A timezone that is not an IANA name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"Invalid timezone: '{name}'. Use an IANA timezone name, e.g. "
                         "'America/New_York'.")


def check_schedule(schedule: str) -> str:
    """The schedule, when it is one (five fields, or an `@name`).

    A sixth field would be croniter's seconds: LangGraph's server takes it and fires every
    second; its own error message asks for five fields, and so do we.

    Raises:
        ScheduleError: it is not.
    """
    fields = schedule.split()
    named = len(fields) == 1 and schedule.strip().startswith("@")
    if not (named or len(fields) == 5) or not croniter.is_valid(schedule):
        raise ScheduleError(schedule)
    return schedule


def check_timezone(name: str | None) -> str | None:
    """The timezone name, when it is one (None stays None: UTC).

    Raises:
        TimezoneError: no such IANA timezone.
    """
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, KeyError, OSError):  # OSError: a name too
        raise TimezoneError(name) from None  # long for a file name (found by fuzzing)
    return name


def next_run_date(schedule: str, after: datetime, tz: str | None) -> datetime:
    """The first time after `after` that `schedule`, read in `tz`, names (in UTC)."""
    base = after.astimezone(ZoneInfo(tz)) if tz else after.astimezone(timezone.utc)
    found: datetime = croniter(schedule, base).get_next(datetime)
    return found.astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    """A time as stored: UTC ISO 8601 text, always with microseconds, so that SQLite, which
    compares the text, orders two times as they are ordered."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
