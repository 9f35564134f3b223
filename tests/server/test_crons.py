"""Crons through the SDK (`client.crons.*`), on SQLite and on PostgreSQL: what is kept and
answered, what is refused at the edge, tenants kept apart, and firings, including two servers
sharing one database where each due cron must fire exactly once.

A test makes a cron due by moving its next_run_date into the past in the database (`due`):
schedules count in minutes, and a test should not wait for one. The crons' own schedules are
yearly, so no firing of theirs lands while a test runs.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient

from hitlgraph.server._crons_scheduler import run_body
from hitlgraph.server.schemas import RunCreate
from hitlgraph.server.store._crons import CronRow

YEARLY = "0 0 1 1 *"
KEYS = ("cron_id", "assistant_id", "thread_id", "user_id", "end_time", "schedule", "timezone",
        "payload", "next_run_date", "metadata", "on_run_completed", "enabled", "created_at",
        "updated_at")

both_backends = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _status(call: Callable[[], Any]) -> tuple[int, str]:
    try:
        call()
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code, str(exc.response.json().get("detail"))
    return 200, ""


def due(db: Path | str, *cron_ids: str) -> None:
    """Make the crons due now, as if their time had come."""
    past = "2000-01-01T00:00:00.000000+00:00"
    if isinstance(db, str) and db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("UPDATE hg_crons SET next_run_date = %s::timestamptz "
                         "WHERE cron_id = ANY(%s)", (past, list(cron_ids)))
        return
    with sqlite3.connect(db) as conn:
        conn.executemany("UPDATE hg_crons SET next_run_date = ? WHERE cron_id = ?",
                         [(past, c) for c in cron_ids])


def wait_until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@both_backends
def test_crons_are_made_listed_counted_updated_and_deleted(
        start_server: Callable[..., RunningServer]) -> None:
    sdk = start_server().client()
    tid = sdk.threads.create()["thread_id"]
    on_thread = sdk.crons.create_for_thread(tid, "steps", schedule="*/5 * * * *",
                                            input={"value": "x"}, metadata={"team": "a"})
    assert tuple(on_thread) == KEYS
    assert on_thread["thread_id"] == tid and on_thread["on_run_completed"] is None
    assert on_thread["user_id"] == "" and on_thread["enabled"] is True
    assert on_thread["payload"] == {
        "schedule": "*/5 * * * *", "input": {"value": "x"}, "metadata": {"team": "a"},
        "assistant_id": on_thread["assistant_id"],
        "config": {"configurable": {"cron_id": on_thread["cron_id"]}}}
    minute = datetime.fromisoformat(on_thread["next_run_date"])
    assert minute.minute % 5 == 0 and minute > datetime.now(timezone.utc)

    end = datetime.now(timezone.utc) + timedelta(days=30)
    stateless = sdk.crons.create("steps", schedule="0 9 * * *", timezone="Europe/Paris",
                                 end_time=end, metadata={"team": "b"})
    assert stateless["thread_id"] is None and stateless["on_run_completed"] == "delete"
    assert datetime.fromisoformat(stateless["end_time"]) == end
    assert stateless["timezone"] == "Europe/Paris"

    assert [c["cron_id"] for c in sdk.crons.search()] == [stateless["cron_id"],
                                                          on_thread["cron_id"]]
    assert [c["cron_id"] for c in sdk.crons.search(thread_id=tid)] == [on_thread["cron_id"]]
    assert [c["cron_id"] for c in sdk.crons.search(metadata={"team": "b"})] == [
        stateless["cron_id"]]
    assert sdk.crons.search(sort_by="created_at", sort_order="asc", limit=1,
                            select=["cron_id", "schedule"]) == [
        {"cron_id": on_thread["cron_id"], "schedule": "*/5 * * * *"}]
    assert (sdk.crons.count(), sdk.crons.count(thread_id=tid)) == (2, 1)

    changed = sdk.crons.update(stateless["cron_id"], schedule=YEARLY, enabled=False,
                               metadata={"n": 1}, input={"value": "y"}, end_time=None)
    assert (changed["schedule"], changed["enabled"], changed["end_time"]) == (
        YEARLY, False, None)
    assert changed["metadata"] == {"team": "b", "n": 1}
    assert changed["payload"]["input"] == {"value": "y"}
    # Midnight on January 1st in Paris, the cron's timezone.
    assert datetime.fromisoformat(changed["next_run_date"]) == datetime(
        datetime.now(timezone.utc).year + 1, 1, 1, tzinfo=ZoneInfo("Europe/Paris"))
    assert sdk.http.get(f"/runs/crons/{stateless['cron_id']}") == changed
    assert [c["cron_id"] for c in sdk.crons.search(enabled=False)] == [stateless["cron_id"]]

    sdk.crons.delete(stateless["cron_id"])
    assert _status(lambda: sdk.crons.delete(stateless["cron_id"]))[0] == 404
    # Deleting the thread deletes its crons.
    sdk.threads.delete(tid)
    assert sdk.crons.count() == 0


def test_bad_requests_are_refused_naming_what_is_wrong(
        start_server: Callable[..., RunningServer]) -> None:
    sdk = start_server().client()
    tid = sdk.threads.create()["thread_id"]
    for schedule in ("not a cron", "61 * * * *", "* * * * * *"):
        status, detail = _status(lambda s=schedule: sdk.crons.create("steps", schedule=s))
        assert status == 422 and "schedule" in detail and "five fields" in detail
    status, detail = _status(lambda: sdk.crons.create("steps", schedule=YEARLY,
                                                      timezone="Mars/Base"))
    assert status == 422 and "timezone" in detail and "'Mars/Base'" in detail
    assert _status(lambda: sdk.crons.create("nope", schedule=YEARLY))[0] == 404
    assert _status(lambda: sdk.crons.create(str(uuid.uuid4()), schedule=YEARLY))[0] == 404
    assert _status(lambda: sdk.crons.create_for_thread(str(uuid.uuid4()), "steps",
                                                       schedule=YEARLY))[0] == 404
    assert _status(lambda: sdk.crons.create_for_thread("not-a-uuid", "steps",
                                                       schedule=YEARLY))[0] == 422
    status, detail = _status(lambda: sdk.crons.create("steps", schedule=YEARLY,
                                                      stream_mode="sideways"))  # type: ignore[arg-type]
    assert status == 422 and "stream_mode" in detail
    assert _status(lambda: sdk.crons.delete("abc")) == (
        422, "Invalid cron ID: must be a UUID (got 'abc').")
    assert _status(lambda: sdk.crons.search(assistant_id="steps"))[0] == 422
    made = sdk.crons.create_for_thread(tid, "steps", schedule=YEARLY)
    assert _status(lambda: sdk.crons.update(made["cron_id"]))[0] == 400
    status, detail = _status(lambda: sdk.crons.update(made["cron_id"], schedule="@never"))
    assert status == 422 and "schedule" in detail
    status, detail = _status(lambda: sdk.crons.update(made["cron_id"],
                                                      stream_mode="sideways"))  # type: ignore[arg-type]
    assert status == 422 and "stream_mode" in detail
    assert _status(lambda: sdk.crons.update(str(uuid.uuid4()), enabled=False))[0] == 404
    assert sdk.crons.search() == [made]


@both_backends
def test_another_tenants_crons_look_missing(
        start_server: Callable[..., RunningServer]) -> None:
    running = start_server(api_keys={"a": "key-a", "b": "key-b"})
    a, b = running.client("key-a"), running.client("key-b")
    tid = a.threads.create()["thread_id"]
    made = a.crons.create_for_thread(tid, "steps", schedule=YEARLY, metadata={"owner": "a"})
    assert made["user_id"] == "a"
    cron_id = made["cron_id"]
    assert b.crons.search() == [] and b.crons.count() == 0
    assert b.crons.search(thread_id=tid) == [] and b.crons.search(metadata={"owner": "a"}) == []
    for call in (lambda: b.http.get(f"/runs/crons/{cron_id}"),
                 lambda: b.crons.update(cron_id, enabled=False),
                 lambda: b.crons.delete(cron_id),
                 lambda: b.crons.create_for_thread(tid, "steps", schedule=YEARLY)):
        assert _status(call)[0] == 404
    assert a.crons.search() == [made]


def _runs(sdk: SyncLangGraphClient, thread_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in sdk.runs.list(thread_id, limit=100)]


@both_backends
def test_a_due_cron_fires_its_run_on_its_thread(
        start_server: Callable[..., RunningServer]) -> None:
    running = start_server()
    sdk = running.client()
    tid = sdk.threads.create()["thread_id"]
    cron = sdk.crons.create_for_thread(tid, "steps", schedule=YEARLY, input={"value": "v"},
                                       metadata={"team": "a"}, multitask_strategy="enqueue")
    off = sdk.crons.create_for_thread(tid, "steps", schedule=YEARLY, enabled=False)
    ended = sdk.crons.create_for_thread(
        tid, "steps", schedule=YEARLY,
        end_time=datetime.now(timezone.utc) + timedelta(seconds=1))
    time.sleep(1.1)
    due(running.db, cron["cron_id"], off["cron_id"], ended["cron_id"])
    wait_until(lambda: len(_runs(sdk, tid)) == 1)
    (run,) = _runs(sdk, tid)
    assert run["metadata"]["team"] == "a" and run["multitask_strategy"] == "enqueue"
    assert run["kwargs"]["input"] == {"value": "v"}
    assert run["kwargs"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
    sdk.runs.join(tid, run["run_id"])
    assert sdk.threads.get_state(tid)["values"]["log"] == ["a", "b saw v", "c"]
    # It fires at its next time, a year from now; the disabled and the ended never.
    (again,) = [c for c in sdk.crons.search() if c["cron_id"] == cron["cron_id"]]
    assert again["next_run_date"].startswith(f"{datetime.now(timezone.utc).year + 1}-01-01")
    time.sleep(2.5)
    assert len(_runs(sdk, tid)) == 1


def test_a_stateless_cron_runs_on_a_new_thread_kept_or_deleted(
        start_server: Callable[..., RunningServer]) -> None:
    running = start_server()
    sdk = running.client()
    kept = sdk.crons.create("steps", schedule=YEARLY, on_run_completed="keep",
                            input={"value": "k"}, metadata={"which": "kept"})
    gone = sdk.crons.create("steps", schedule=YEARLY, input={"value": "g"})
    due(running.db, kept["cron_id"], gone["cron_id"])

    def settled() -> bool:
        threads = sdk.threads.search(limit=100)
        return len(threads) == 1 and threads[0]["status"] == "idle"

    wait_until(settled, timeout=30)
    (thread,) = sdk.threads.search(limit=100)
    assert thread["values"] == {"value": "k", "log": ["a", "b saw k", "c"]}
    (run,) = _runs(sdk, thread["thread_id"])
    assert run["metadata"]["which"] == "kept"


@both_backends
def test_two_servers_on_one_database_fire_each_due_cron_once(
        start_server: Callable[..., RunningServer], tmp_path: Path, backend: str) -> None:
    shared: dict[str, Any] = {} if backend == "postgres" else {"db": tmp_path / "one.sqlite"}
    first, second = start_server(**shared), start_server(**shared)
    sdk, other = first.client(), second.client()
    threads = [sdk.threads.create()["thread_id"] for _ in range(8)]
    crons = [sdk.crons.create_for_thread(t, "steps", schedule=YEARLY)["cron_id"]
             for t in threads]
    assert other.crons.count() == 8
    for _ in range(2):  # two firings of each
        before = {t: len(_runs(sdk, t)) for t in threads}
        due(first.db, *crons)
        wait_until(lambda b=before: all(len(_runs(other, t)) > b[t] for t in threads),
                   timeout=30)
        time.sleep(2.5)  # two more ticks of each scheduler: nothing fires twice
        assert {t: len(_runs(sdk, t)) for t in threads} == {t: n + 1 for t, n in before.items()}


def _cron(**overrides: Any) -> CronRow:
    values: dict[str, Any] = {
        "tenant": "", "cron_id": "c1", "assistant_id": "a1", "thread_id": None,
        "schedule": YEARLY, "timezone": None, "metadata": {"team": "a", "n": 1},
        "payload": {"assistant_id": "a1", "schedule": YEARLY, "input": {"x": 1},
                    "metadata": {"n": 2}, "config": {"configurable": {"cron_id": "c1"}}},
        "on_run_completed": "keep", "enabled": True, "end_time": None,
        "next_run_date": "", "created_at": "", "updated_at": ""}
    return CronRow(**{**values, **overrides})


def test_a_firings_run_body_comes_from_the_payload() -> None:
    stateless = run_body(_cron())
    assert not isinstance(stateless, RunCreate)
    assert (stateless.input, stateless.metadata, stateless.on_completion) == (
        {"x": 1}, {"team": "a", "n": 2}, "keep")
    assert stateless.config == {"configurable": {"cron_id": "c1"}}
    on_thread = run_body(_cron(thread_id="t1", on_run_completed=None, payload={
        "assistant_id": "a1", "multitask_strategy": "reject", "context": {"tone": "dry"},
        "config": {"tags": ["t"], "configurable": {"cron_id": "c1"}}}))
    assert isinstance(on_thread, RunCreate) and on_thread.multitask_strategy == "reject"
    # Context and configurable would be refused together: the cron id gives way.
    assert (on_thread.context, on_thread.config) == (
        {"tone": "dry"}, {"tags": ["t"], "configurable": {}})
