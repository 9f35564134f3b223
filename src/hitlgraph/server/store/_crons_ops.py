"""Cron operations, for every backend (see `_ops.py`): create, read, list, update, delete,
and `claim_due`, which the schedulers of every server process call. The rules they apply
are in `_crons.py`.

Claiming is a compare-and-set on `next_run_date`: a scheduler reads the due crons (under
`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` holds the whole file) and
moves each one's `next_run_date` on only where it still holds the value it read. A cron is
therefore claimed by exactly one scheduler per firing, however many processes share the
database, and the claim commits before its run is queued: a process that dies in between
loses that one firing rather than firing twice.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from hitlgraph.server.store._crons import (
    CronChange,
    CronFields,
    CronRow,
    iso,
    next_run_date,
)
from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._rows import dumps, stored_time

__all__ = ["any_due", "claim_due", "create", "delete", "get", "list_all", "patch"]

COLUMNS = ("r.tenant, r.cron_id, r.assistant_id, r.thread_id, r.schedule, r.timezone, "
           "r.payload, r.metadata, r.on_run_completed, r.enabled, r.end_time, "
           "r.next_run_date, r.created_at, r.updated_at")
"""What the statements returning crons select (the table aliased `r`), in `_row`'s order."""
_KEY = "r.tenant = :tenant AND r.cron_id = :cron_id"


def _time(value: str | datetime | None) -> str | None:
    """A stored time as LangGraph writes it (no fraction when there is none)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return stored_time(moment.astimezone(timezone.utc))


def _stored(text: str | None) -> str | None:
    """A time read back (`_time`'s form) as it is stored again (`iso`'s form)."""
    return None if text is None else iso(datetime.fromisoformat(text))


def _row(row: tuple[Any, ...]) -> CronRow:
    (tenant, cron_id, assistant_id, thread_id, schedule, tz, payload, metadata,
     on_run_completed, enabled, end_time, next_run, created_at, updated_at) = row
    return CronRow(tenant=tenant, cron_id=cron_id, assistant_id=assistant_id,
                   thread_id=thread_id, schedule=schedule, timezone=tz,
                   payload=json.loads(payload), metadata=json.loads(metadata),
                   on_run_completed=on_run_completed, enabled=bool(enabled),
                   end_time=_time(end_time), next_run_date=_time(next_run) or "",
                   created_at=stored_time(created_at), updated_at=stored_time(updated_at))


def _returning(where: str) -> str:
    return f"SELECT {COLUMNS} FROM hg_crons r WHERE {where}"


def create(d: Dialect, tenant: str, cron_id: str, fields: CronFields, now: datetime
           ) -> Op[CronRow]:
    """Insert the cron, due first at the schedule's next time after `now`."""
    t = d.time_cast
    params = {
        "tenant": tenant, "cron_id": cron_id, "assistant_id": fields.assistant_id,
        "thread_id": fields.thread_id, "schedule": fields.schedule, "timezone": fields.timezone,
        "payload": dumps(fields.payload), "metadata": dumps(fields.metadata),
        "on_run_completed": fields.on_run_completed, "enabled": fields.enabled,
        "end_time": iso(fields.end_time) if fields.end_time is not None else None,
        "next_run_date": iso(next_run_date(fields.schedule, now, fields.timezone)),
        "at": iso(now)}
    yield (
        "INSERT INTO hg_crons (tenant, cron_id, assistant_id, thread_id, schedule, timezone, "
        "payload, metadata, on_run_completed, enabled, end_time, next_run_date, created_at, "
        "updated_at) VALUES (:tenant, :cron_id, :assistant_id, :thread_id, :schedule, "
        f":timezone, :payload, :metadata, :on_run_completed, :enabled, :end_time{t}, "
        f":next_run_date{t}, :at{t}, :at{t})", params)
    found = yield _returning(_KEY), {"tenant": tenant, "cron_id": cron_id}
    return _row(found[0])


def get(d: Dialect, tenant: str, cron_id: str, *, for_update: bool = False
        ) -> Op[CronRow | None]:
    """The cron, or None (another tenant's too)."""
    found = yield (_returning(_KEY) + (d.lock_row if for_update else ""),
                   {"tenant": tenant, "cron_id": cron_id})
    return _row(found[0]) if found else None


def list_all(d: Dialect, tenant: str, *, assistant_id: str | None, thread_id: str | None,
             enabled: bool | None) -> Op[list[CronRow]]:
    """The tenant's crons matching the filters given, newest first."""
    where = ["r.tenant = :tenant"]
    params: dict[str, Any] = {"tenant": tenant}
    for column, value in (("assistant_id", assistant_id), ("thread_id", thread_id),
                          ("enabled", enabled)):
        if value is not None:
            where.append(f"r.{column} = :{column}")
            params[column] = value
    rows = yield (_returning(" AND ".join(where))
                  + f" ORDER BY {d.oldest_first('r', desc=True)}", params)
    return [_row(r) for r in rows]


def _merged_payload(current: CronRow, change: dict[str, Any]) -> dict[str, Any]:
    """The payload after an update: its keys over the current ones, the assistant kept, and
    config["configurable"]["cron_id"] kept (as LangGraph's server merges it)."""
    merged = {**current.payload, **change,
              "assistant_id": current.payload.get("assistant_id", current.assistant_id)}
    config = dict(merged.get("config") or {})
    config["configurable"] = {**(config.get("configurable") or {}), "cron_id": current.cron_id}
    merged["config"] = config
    return merged


def patch(d: Dialect, tenant: str, cron_id: str, change: CronChange, now: datetime
          ) -> Op[CronRow | None]:
    """Apply `change`; None when the cron is missing. A new schedule or timezone moves
    `next_run_date` to the first time after `now` it names."""
    current = yield from get(d, tenant, cron_id, for_update=True)
    if current is None:
        return None
    schedule = change.schedule or current.schedule
    tz = change.timezone if change.timezone is not None else current.timezone
    next_run = _stored(current.next_run_date)
    if change.schedule is not None or change.timezone is not None:
        next_run = iso(next_run_date(schedule, now, tz))
    end_time = _stored(current.end_time)
    if change.clear_end_time:
        end_time = None
    elif change.end_time is not None:
        end_time = iso(change.end_time)
    t = d.time_cast
    yield (
        "UPDATE hg_crons SET schedule = :schedule, timezone = :timezone, payload = :payload, "
        "metadata = :metadata, on_run_completed = :on_run_completed, enabled = :enabled, "
        f"end_time = :end_time{t}, next_run_date = :next_run_date{t}, updated_at = :at{t} "
        "WHERE tenant = :tenant AND cron_id = :cron_id", {
            "tenant": tenant, "cron_id": cron_id, "schedule": schedule, "timezone": tz,
            "payload": dumps(_merged_payload(current, change.payload)
                             if change.payload is not None else current.payload),
            "metadata": dumps({**current.metadata, **(change.metadata or {})}),
            "on_run_completed": change.on_run_completed or current.on_run_completed,
            "enabled": change.enabled if change.enabled is not None else current.enabled,
            "end_time": end_time, "next_run_date": next_run, "at": iso(now)})
    return (yield from get(d, tenant, cron_id))


def delete(d: Dialect, tenant: str, cron_id: str) -> Op[bool]:
    """Delete the cron; False when it is missing."""
    gone = yield ("DELETE FROM hg_crons WHERE tenant = :tenant AND cron_id = :cron_id "
                  "RETURNING cron_id", {"tenant": tenant, "cron_id": cron_id})
    return bool(gone)


def _due(d: Dialect) -> str:
    t = d.time_cast
    return (f"r.enabled = :enabled AND r.next_run_date <= :now{t} "
            f"AND (r.end_time IS NULL OR r.end_time >= :now{t})")


def any_due(d: Dialect, now: datetime) -> Op[bool]:
    """Whether a cron is due at `now`: a read, so that schedulers with nothing to do take
    no write lock (SQLite has one for the whole file)."""
    found = yield (f"SELECT 1 FROM hg_crons r WHERE {_due(d)} LIMIT 1",
                   {"enabled": True, "now": iso(now)})
    return bool(found)


def claim_due(d: Dialect, now: datetime, limit: int) -> Op[list[CronRow]]:
    """Claim up to `limit` crons due at `now` (of every tenant, the longest due first):
    each one's `next_run_date` moves to its schedule's next time after `now`. Returns them
    as they were when claimed."""
    t = d.time_cast
    due = yield (
        _returning(_due(d))
        + f" ORDER BY r.next_run_date, r.cron_id LIMIT :limit{d.skip_locked}",
        {"enabled": True, "now": iso(now), "limit": limit})
    claimed: list[CronRow] = []
    for cron in (_row(r) for r in due):
        moved = yield (
            f"UPDATE hg_crons SET next_run_date = :next{t} WHERE cron_id = :cron_id "
            f"AND next_run_date = :seen{t} RETURNING cron_id", {
                "cron_id": cron.cron_id, "seen": _stored(cron.next_run_date),
                "next": iso(next_run_date(cron.schedule, now, cron.timezone))})
        if moved:
            claimed.append(cron)
    return claimed
