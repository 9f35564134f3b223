"""Joining a run that has already ended: LangGraph's server no longer has the run's stream then
and answers from the thread (its values, or only its interrupts when it is paused), so a
client that joins late sees the same at both servers."""

from __future__ import annotations

from _compat import Observed, Pair, ended
from langgraph_sdk.client import SyncLangGraphClient


def _join_late(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    paused = client.runs.create(tid, "review", input={"topic": "late"})
    seen.call("the paused run, ended", lambda: ended(client, tid, paused["run_id"])[
        "status"])
    seen.call("join it after it paused", client.runs.join, tid, paused["run_id"])
    resumed = client.runs.create(tid, "review", command={"resume": {"approved": True}})
    seen.call("the resumed run, ended", lambda: ended(client, tid, resumed["run_id"])[
        "status"])
    seen.call("join it after it finished", client.runs.join, tid, resumed["run_id"])
    done = client.runs.create(tid, "steps", input={"value": "late"})
    ended(client, tid, done["run_id"])
    seen.call("join a plain run after it finished", client.runs.join, tid, done["run_id"])


def test_joining_a_run_that_already_ended_answers_alike(pair: Pair) -> None:
    pair.compare(_join_late)


def _join_late_failure(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    run = client.runs.create(tid, "failing", input={"value": "late"})
    seen.call("the failing run, ended", lambda: ended(client, tid, run["run_id"])[
        "status"])
    seen.call("join it after it failed", client.runs.join, tid, run["run_id"])


def test_joining_a_run_that_already_failed_answers_alike(pair: Pair) -> None:
    pair.compare(_join_late_failure)
