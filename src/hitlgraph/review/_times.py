"""Times as the review features store them: ISO 8601 in UTC with microseconds, so that the
text sorts as the time does (checkpoints' ts have the same form)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["as_time", "utc_now"]

_second: list[tuple[int, str]] = [(-1, "")]
"""The last whole second utc_now formatted, and its text up to the seconds."""


def utc_now() -> str:
    """The time now, as stored: `datetime.now(timezone.utc).isoformat(timespec=
    "microseconds")`, at a fraction of its cost (an interrupt's round trip reads the clock
    several times): the date and time of day are formatted once per second."""
    now = time.time_ns() // 1000
    sec, micro = divmod(now, 1_000_000)
    last, text = _second[0]
    if sec != last:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _second[0] = (sec, text)
    return f"{text}.{micro:06d}+00:00"


def as_time(name: str, value: str | datetime | None) -> str | None:
    """A time a caller passes (an aware datetime, or ISO 8601 text with a time zone) as
    stored.

    Raises:
        ValueError: a naive datetime, or text that is not such a time (naming `name`).
        TypeError: neither text nor a datetime.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{name}={value!r} is not an ISO 8601 time with a time zone, "
                             "e.g. '2026-12-01T00:00:00+00:00'.") from exc
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be an ISO 8601 str or a datetime, got "
                        f"{type(value).__name__}: {value!r}.")
    if value.tzinfo is None:
        raise ValueError(f"{name}={value!r} has no time zone: pass an aware datetime, "
                         "e.g. datetime.now(timezone.utc).")
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
