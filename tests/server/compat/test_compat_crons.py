"""Crons: the same flows at langgraph dev and hitlgraph serve, then where hitlgraph serve
differs on purpose.

Both servers live for the whole session: each flow tags its crons with metadata of its own
and searches by it (or by its own thread), and deletes what it made. Schedules are yearly or
daily, so neither server's scheduler fires them while the suite runs; firings are tested in
tests/server/test_crons.py, where a test can make a cron due at once."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from _compat import Observed, Pair, at_both, status_of
from langgraph_sdk.client import SyncLangGraphClient

YEARLY = "0 0 1 1 *"


def _crud(client: SyncLangGraphClient, seen: Observed) -> None:
    tag = {"flow": str(uuid.uuid4())}
    tid = client.threads.create(metadata=tag)["thread_id"]
    on_thread = seen.call("create for thread", client.crons.create_for_thread, tid, "echo",
                          schedule=YEARLY, input={"text": "hi"}, metadata={**tag, "n": 1})
    stateless = seen.call("create stateless", client.crons.create, "echo",
                          schedule="0 9 * * *", input={"text": "yo"}, metadata=tag,
                          end_time=datetime(2030, 1, 1, tzinfo=timezone.utc),
                          timezone="Europe/Paris", on_run_completed="keep")
    seen.call("search by thread", client.crons.search, thread_id=tid)
    seen.call("search by metadata", client.crons.search, metadata=tag)
    seen.call("search sorted, selected", client.crons.search, metadata=tag,
              sort_by="created_at", sort_order="asc", select=["cron_id", "schedule"])
    seen.call("search paged", client.crons.search, metadata=tag, limit=1, offset=1)
    seen.call("search disabled", client.crons.search, metadata=tag, enabled=False)
    seen.call("count by metadata", client.crons.count, metadata=tag)
    seen.call("count by thread", client.crons.count, thread_id=tid)
    cron_id = stateless["cron_id"]
    seen.call("update", client.crons.update, cron_id, schedule=YEARLY, enabled=False,
              metadata={"n": 2}, input={"text": "again"})
    seen.call("update, clearing the end", client.crons.update, cron_id, end_time=None)
    seen.call("get", client.http.get, f"/runs/crons/{cron_id}")
    seen.call("delete", client.crons.delete, cron_id)
    seen.call("get deleted", client.http.get, f"/runs/crons/{cron_id}")
    seen.call("delete again", client.crons.delete, cron_id)
    seen.call("delete the thread", client.threads.delete, tid)
    seen.call("its cron went with it", client.http.get,
              f"/runs/crons/{on_thread['cron_id']}")


def test_crons_are_made_searched_counted_updated_and_deleted_alike(pair: Pair) -> None:
    pair.compare(_crud)


def _refusals(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = client.threads.create()["thread_id"]
    seen.call("bad schedule", client.crons.create, "echo", schedule="not a cron")
    seen.call("minute out of range", client.crons.create, "echo", schedule="61 * * * *")
    seen.call("bad timezone", client.crons.create, "echo", schedule=YEARLY,
              timezone="Mars/Base")
    seen.call("unknown graph", client.crons.create, "nope", schedule=YEARLY)
    seen.call("unknown assistant", client.crons.create, str(uuid.uuid4()), schedule=YEARLY)
    seen.call("missing thread", client.crons.create_for_thread, str(uuid.uuid4()), "echo",
              schedule=YEARLY)
    seen.call("thread id not a UUID", client.crons.create_for_thread, "abc", "echo",
              schedule=YEARLY)
    seen.call("cron id not a UUID", client.crons.delete, "abc")
    seen.call("search by a graph id", client.crons.search, assistant_id="echo")
    seen.call("update a missing cron", client.crons.update, str(uuid.uuid4()), enabled=False)
    made = client.crons.create_for_thread(tid, "echo", schedule=YEARLY)
    seen.call("update with nothing", client.crons.update, made["cron_id"])
    seen.call("update to a bad schedule", client.crons.update, made["cron_id"],
              schedule="not a cron")
    client.threads.delete(tid)


def test_bad_cron_requests_are_refused_alike(pair: Pair) -> None:
    pair.compare(_refusals)


def test_a_seconds_field_is_refused_on_purpose(pair: Pair) -> None:
    """LangGraph's server takes croniter's sixth field (seconds) and then fires every second;
    its own error message asks for five fields, and hitlgraph serve holds it to that (422)."""
    ours, theirs = at_both(pair, lambda client: status_of(
        lambda: _made_and_deleted(client, "* * * * * *")))
    assert (ours, theirs) == (422, 200)


def _made_and_deleted(client: SyncLangGraphClient, schedule: str) -> None:
    made = client.crons.create("echo", schedule=schedule, enabled=False)
    client.crons.delete(made["cron_id"])
