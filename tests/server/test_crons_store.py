"""The store's cron operations, called directly, on SQLite and on PostgreSQL (a fresh schema
of HITLGRAPH_TEST_POSTGRES_DSN's database; skipped without it, failed under CI=true): the
records kept, updates, the tenant boundary, the claim two stores race for, end_time, and the
crons going with their thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.server.store import Store
from hitlgraph.server.store._crons import (
    CronChange,
    CronFields,
    ScheduleError,
    TimezoneError,
    check_schedule,
    check_timezone,
    next_run_date,
)

Scenario = Callable[[Store, Store], Awaitable[None]]
T0 = datetime(2026, 1, 5, 9, 30, 15, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
def run_on(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Scenario], None]:
    """run_on(scenario): await scenario(store, other) on two stores of one fresh database,
    as two server processes would open it."""

    def make() -> Store:
        if request.param == "postgres":
            from hitlgraph.server.store.postgres import PostgresStore

            return PostgresStore.from_conn_string(request.getfixturevalue("pg_url"))
        from hitlgraph.server.store.sqlite import SqliteStore

        return SqliteStore(str(tmp_path / "store.sqlite"))

    @asynccontextmanager
    async def opened() -> AsyncIterator[tuple[Store, Store]]:
        first, second = make(), make()
        try:
            await first.setup()
            await second.setup()
            yield first, second
        finally:
            await first.close()
            await second.close()

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            async with opened() as (first, second):
                await scenario(first, second)
        asyncio.run(main())

    return run


def fields(**overrides: Any) -> CronFields:
    values: dict[str, Any] = {
        "assistant_id": "a1", "thread_id": None, "schedule": "*/5 * * * *", "timezone": None,
        "payload": {"assistant_id": "a1", "input": {"x": 1}}, "metadata": {"team": "ops"},
        "on_run_completed": "delete", "enabled": True, "end_time": None, **overrides}
    return CronFields(**values)


def test_schedules_are_five_fields_or_a_name() -> None:
    assert check_schedule("0 9 * * 1-5") == "0 9 * * 1-5"
    assert check_schedule("@hourly") == "@hourly"
    for bad in ("not a cron", "61 * * * *", "* * * * * *", "", "@someday"):
        with pytest.raises(ScheduleError, match="five"):
            check_schedule(bad)
    assert check_timezone("Europe/Paris") == "Europe/Paris"
    with pytest.raises(TimezoneError, match="'Mars/Base'"):
        check_timezone("Mars/Base")


def test_next_run_date_reads_the_schedule_in_its_timezone() -> None:
    assert next_run_date("*/5 * * * *", T0, None) == T0.replace(minute=35, second=0)
    # 9:00 in Paris is 8:00 UTC in January: the next one is tomorrow's.
    assert next_run_date("0 9 * * *", T0, "Europe/Paris") == datetime(
        2026, 1, 6, 8, 0, tzinfo=timezone.utc)


def test_a_cron_is_kept_read_updated_and_deleted(run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store, _: Store) -> None:
        made = await store.create_cron("", "c1", fields(end_time=T0 + timedelta(days=1)), T0)
        assert (made.cron_id, made.schedule, made.enabled, made.thread_id) == (
            "c1", "*/5 * * * *", True, None)
        assert made.next_run_date == "2026-01-05T09:35:00+00:00"
        assert made.end_time == "2026-01-06T09:30:15+00:00"
        assert made.payload == {"assistant_id": "a1", "input": {"x": 1}}
        assert await store.get_cron("", "c1") == made

        later = T0 + timedelta(minutes=1)
        changed = await store.patch_cron("", "c1", CronChange(
            schedule="0 12 * * *", metadata={"n": 2}, enabled=False, clear_end_time=True,
            payload={"input": {"x": 2}, "config": {"tags": ["t"]}}), later)
        assert changed is not None
        assert changed.next_run_date == "2026-01-05T12:00:00+00:00"
        assert (changed.enabled, changed.end_time) == (False, None)
        assert changed.metadata == {"team": "ops", "n": 2}
        assert changed.payload == {"assistant_id": "a1", "input": {"x": 2}, "config": {
            "tags": ["t"], "configurable": {"cron_id": "c1"}}}
        assert changed.created_at == made.created_at and changed.updated_at > made.updated_at

        assert await store.delete_cron("", "c1")
        assert not await store.delete_cron("", "c1")
        assert await store.get_cron("", "c1") is None
        assert await store.patch_cron("", "c1", CronChange(enabled=True), later) is None

    run_on(scenario)


def test_crons_are_listed_per_tenant_newest_first_with_filters(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store, _: Store) -> None:
        await store.create_cron("A", "c1", fields(), T0)
        await store.create_cron("A", "c2", fields(thread_id="t1", assistant_id="a2",
                                                  on_run_completed=None), T0)
        await store.create_cron("A", "c3", fields(enabled=False), T0)
        await store.create_cron("B", "c4", fields(), T0)
        assert [c.cron_id for c in await store.list_crons("A")] == ["c3", "c2", "c1"]
        assert [c.cron_id for c in await store.list_crons("A", thread_id="t1")] == ["c2"]
        assert [c.cron_id for c in await store.list_crons("A", assistant_id="a1")] == [
            "c3", "c1"]
        assert [c.cron_id for c in await store.list_crons("A", enabled=False)] == ["c3"]
        assert [c.cron_id for c in await store.list_crons("B")] == ["c4"]
        # Another tenant's cron looks missing.
        assert await store.get_cron("B", "c1") is None
        assert not await store.delete_cron("B", "c1")
        assert await store.patch_cron("B", "c1", CronChange(enabled=False), T0) is None
        assert (await store.get_cron("A", "c1")) is not None

    run_on(scenario)


def test_each_due_cron_is_claimed_once_however_many_schedulers_race(
        run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store, other: Store) -> None:
        for n in range(12):
            await store.create_cron("", f"c{n:02}", fields(schedule="* * * * *"), T0)
        await store.create_cron("", "off", fields(schedule="* * * * *", enabled=False), T0)
        await store.create_cron("", "ended", fields(schedule="* * * * *",
                                                    end_time=T0 + timedelta(seconds=30)), T0)
        assert await store.claim_due_crons(T0, 100) == []  # due at 9:31

        tick = T0 + timedelta(minutes=1)  # 9:31:15
        claims = await asyncio.gather(*(s.claim_due_crons(tick, 5)
                                        for s in (store, other, store, other, store, other)))
        claimed = [c.cron_id for batch in claims for c in batch]
        assert sorted(claimed) == [f"c{n:02}" for n in range(12)]
        # Each claim moved its cron to the next minute: nothing is due at this tick now.
        assert await other.claim_due_crons(tick, 100) == []
        assert (await store.get_cron("", "c00")).next_run_date == (  # type: ignore[union-attr]
            "2026-01-05T09:32:00+00:00")

        # A later tick fires each again, once; the ended and the disabled never.
        again = await other.claim_due_crons(tick + timedelta(minutes=1), 100)
        assert [c.cron_id for c in again] == [f"c{n:02}" for n in range(12)]

    run_on(scenario)


def test_a_threads_crons_go_with_it(run_on: Callable[[Scenario], None]) -> None:
    async def scenario(store: Store, _: Store) -> None:
        for tenant in ("A", "B"):
            await store.create_thread(tenant, "t1", {}, if_exists="raise")
            await store.create_cron(tenant, f"{tenant}-c", fields(thread_id="t1"), T0)
        await store.create_cron("A", "stateless", fields(), T0)
        assert await store.delete_thread("A", "t1")
        assert [c.cron_id for c in await store.list_crons("A")] == ["stateless"]
        assert [c.cron_id for c in await store.list_crons("B")] == ["B-c"]

    run_on(scenario)
