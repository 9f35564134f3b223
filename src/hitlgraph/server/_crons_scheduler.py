"""The cron scheduler: one per server process, beside its run workers. Every TICK_SECONDS it
claims the crons that are due (`Store.claim_due_crons`: a compare-and-set on each one's
next_run_date, so of several processes sharing the database exactly one fires each cron at
each of its times) and queues each one's run as a client's request would (`create_run`),
where the workers pick it up.

A firing that cannot make its run (the thread was deleted, the assistant is gone, the thread
is busy and the cron's multitask strategy is "reject") is logged, and the cron waits for its
next time, as on LangGraph's server.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Final

from fastapi import HTTPException

from hitlgraph.server._runtime import Runtime
from hitlgraph.server.routes.runs import create_run
from hitlgraph.server.schemas import RunCreate, RunCreateStateless
from hitlgraph.server.store._crons import CronRow

__all__ = ["TICK_SECONDS", "fire", "run_body", "run_scheduler", "tick"]

log = logging.getLogger("hitlgraph.server")

TICK_SECONDS: Final = 1.0
"""How often each process looks for due crons: a cron fires within about a second of its
time (schedules count in minutes)."""
BATCH: Final = 100
"""Crons claimed in one transaction; a full batch is followed at once by the next."""


def run_body(cron: CronRow) -> RunCreateStateless:
    """The body of the run `cron` makes now: the run's fields of its payload, its metadata
    under the payload's, and for a stateless cron, whether the new thread stays after the
    run."""
    model = RunCreateStateless if cron.thread_id is None else RunCreate
    payload = {k: v for k, v in cron.payload.items() if k in model.model_fields}
    payload["metadata"] = {**cron.metadata, **(payload.get("metadata") or {})}
    config = payload.get("config") or {}
    if payload.get("context") and config:
        # A run gives its values as context or as config["configurable"], not both: the cron
        # id the payload's configurable carries is dropped then (LangGraph does the same).
        configurable = {k: v for k, v in (config.get("configurable") or {}).items()
                        if k != "cron_id"}
        payload["config"] = {**config, "configurable": configurable}
    if cron.thread_id is None:
        payload["on_completion"] = cron.on_run_completed or "delete"
    return model.model_validate(payload)


async def fire(rt: Runtime, cron: CronRow) -> None:
    """Queue the run of one firing of `cron` (logged when it cannot be made)."""
    try:
        row = await create_run(rt, cron.tenant, run_body(cron), cron.thread_id)
    except HTTPException as exc:
        log.warning("cron %s did not fire: %s", cron.cron_id, exc.detail)
        return
    except Exception:
        log.exception("cron %s did not fire", cron.cron_id)
        return
    log.info("cron %s queued run %s on thread %s", cron.cron_id, row.run_id, row.thread_id)


async def tick(rt: Runtime, now: datetime | None = None) -> int:
    """Claim and fire the crons due at `now` (the current time by default); how many."""
    at = now or datetime.now(timezone.utc)
    fired = 0
    while await rt.store.any_due_crons(at):
        claimed = await rt.store.claim_due_crons(at, BATCH)
        for cron in claimed:
            await fire(rt, cron)
        fired += len(claimed)
        if len(claimed) < BATCH:
            break
    return fired


async def run_scheduler(rt: Runtime) -> None:
    """Tick until cancelled; a tick that fails (the database away) is logged and retried."""
    while True:
        try:
            await tick(rt)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the cron scheduler's tick failed; retrying in %.0fs", TICK_SECONDS)
        await asyncio.sleep(TICK_SECONDS)
