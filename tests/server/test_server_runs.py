"""Background runs, join, cancel, multitask strategies, stateless runs, thread management."""

from __future__ import annotations

import itertools
import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError


def _wait_status(client: SyncLangGraphClient, tid: str, rid: str, status: str) -> dict:
    deadline = time.monotonic() + 10
    while True:
        run = client.runs.get(tid, rid)
        if run["status"] == status or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def test_background_run_is_pending_then_join_returns_its_values(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "steps", input={"value": "bg"}, metadata={"who": "test"})
    assert run["status"] in ("pending", "running")
    assert run["thread_id"] == tid
    # As on LangGraph's server: created_by, the thread's metadata, then the client's own.
    assert run["metadata"] == {"created_by": "system", "graph_id": "steps",
                               "assistant_id": run["assistant_id"], "who": "test"}
    assert run["multitask_strategy"] == "enqueue"
    result = client.runs.join(tid, run["run_id"])
    assert result["log"] == ["a", "b saw bg", "c"]
    assert client.runs.get(tid, run["run_id"])["status"] == "success"
    assert [r["run_id"] for r in client.runs.list(tid)] == [run["run_id"]]
    assert client.threads.get(tid)["values"]["log"] == ["a", "b saw bg", "c"]


def test_join_stream_replays_a_finished_runs_events(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "steps", input={"value": "x"}, stream_mode=["updates"])
    client.runs.join(tid, run["run_id"])
    parts = list(client.runs.join_stream(tid, run["run_id"]))
    assert parts[0].event == "metadata"
    assert [list(p.data) for p in parts[1:]] == [["step_a"], ["step_b"], ["step_c"]]


def test_cancel_interrupts_a_running_run(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "slow", input={"seconds": 30})
    _wait_status(client, tid, run["run_id"], "running")
    started = time.monotonic()
    client.runs.cancel(tid, run["run_id"], wait=True)
    assert time.monotonic() - started < 10
    assert client.runs.get(tid, run["run_id"])["status"] == "interrupted"
    assert client.threads.get(tid)["status"] != "busy"
    with pytest.raises(NotFoundError):
        client.runs.cancel(tid, str(uuid.uuid4()))


def test_cancel_of_a_pending_run_never_runs_it(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "slow", input={"seconds": 0.5})
    second = client.runs.create(tid, "slow", input={"seconds": 0.1})
    client.runs.cancel(tid, second["run_id"])
    client.runs.join(tid, first["run_id"])
    assert client.runs.get(tid, second["run_id"])["status"] == "interrupted"
    assert client.threads.get_state(tid)["values"]["done"] == ["slow"]


def test_multitask_reject_answers_409_while_busy(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "slow", input={"seconds": 0.5})
    with pytest.raises(ConflictError, match="busy"):
        client.runs.create(tid, "slow", input={"seconds": 0.1}, multitask_strategy="reject")
    client.runs.join(tid, first["run_id"])


def test_multitask_enqueue_runs_one_after_the_other(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "slow", input={"seconds": 0.4})
    second = client.runs.create(tid, "slow", input={"seconds": 0.1},
                                multitask_strategy="enqueue")
    assert client.threads.get(tid)["status"] == "busy"
    result = client.runs.join(tid, second["run_id"])
    assert result["done"] == ["slow", "slow"]
    assert client.runs.get(tid, first["run_id"])["status"] == "success"
    assert client.threads.get(tid)["status"] == "idle"


def test_multitask_interrupt_cancels_the_running_run(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "slow", input={"seconds": 30})
    _wait_status(client, tid, first["run_id"], "running")
    second = client.runs.create(tid, "slow", input={"seconds": 0.1},
                                multitask_strategy="interrupt")
    client.runs.join(tid, second["run_id"])
    assert client.runs.get(tid, first["run_id"])["status"] == "interrupted"
    assert client.runs.get(tid, second["run_id"])["status"] == "success"


def test_rollback_leaves_the_thread_as_it_was_before_the_run(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "slow", input={"seconds": 0})
    before = client.threads.get_history(tid, limit=100)
    run = client.runs.create(tid, "slow", input={"seconds": 30})
    _wait_status(client, tid, run["run_id"], "running")
    client.runs.cancel(tid, run["run_id"], wait=True, action="rollback")
    with pytest.raises(NotFoundError):
        client.runs.get(tid, run["run_id"])
    after = client.threads.get_history(tid, limit=100)
    assert [s["checkpoint"] for s in after] == [s["checkpoint"] for s in before]
    assert client.threads.get_state(tid)["values"]["done"] == ["slow"]


def test_rollback_of_a_resume_leaves_the_interrupt_answerable(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "slow_review", input={"seconds": 30})
    resume = client.runs.create(tid, "slow_review", command={"resume": "first answer"})
    _wait_status(client, tid, resume["run_id"], "running")
    client.runs.cancel(tid, resume["run_id"], wait=True, action="rollback")
    state = client.threads.get_state(tid)
    assert state["next"] == ["ask"] and state["interrupts"][0]["value"] == "Go ahead?"
    out = client.runs.wait(tid, "slow_review",
                           command={"resume": "second answer", "update": {"seconds": 0}})
    assert out["done"] == ["slow after second answer"]


def test_multitask_rollback_replaces_the_running_run(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "slow", input={"seconds": 30})
    _wait_status(client, tid, first["run_id"], "running")
    second = client.runs.create(tid, "slow", input={"seconds": 0.1},
                                multitask_strategy="rollback")
    client.runs.join(tid, second["run_id"])
    with pytest.raises(NotFoundError):
        client.runs.get(tid, first["run_id"])
    assert client.threads.get_state(tid)["values"]["done"] == ["slow"]
    assert [s["metadata"]["run_id"] for s in client.threads.get_history(tid)] == (
        [second["run_id"]] * 3)


def _temporary_runs(db: Any) -> int:
    query = "SELECT COUNT(*) FROM hg_runs WHERE temporary = ?"
    if str(db).startswith("postgres"):
        import psycopg

        with psycopg.connect(str(db)) as conn:
            row = conn.execute(query.replace("?", "%s"), (True,)).fetchone()
    else:
        with sqlite3.connect(str(db)) as conn:
            row = conn.execute(query, (1,)).fetchone()
    assert row is not None
    return int(row[0])


def test_finished_stateless_runs_are_swept_after_a_while(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(sweep_seconds=0.3)
    client = server.client()
    assert client.runs.wait(None, "steps", input={"value": "gone"})["log"][0] == "a"
    kept = client.runs.wait(None, "steps", input={"value": "kept"}, on_completion="keep")
    assert kept["log"][0] == "a"
    deadline = time.monotonic() + 15
    while _temporary_runs(server.db) > 1:
        assert time.monotonic() < deadline, "the finished stateless run was not swept"
        time.sleep(0.1)
    assert len(client.threads.search()) == 1  # the kept one


def test_stateless_wait_runs_on_a_temporary_thread(client: SyncLangGraphClient) -> None:
    result = client.runs.wait(None, "steps", input={"value": "once"})
    assert result["log"] == ["a", "b saw once", "c"]
    assert client.threads.search() == []
    kept = client.runs.wait(None, "steps", input={"value": "kept"}, on_completion="keep")
    assert kept["log"][1] == "b saw kept"
    (thread,) = client.threads.search()
    assert thread["values"]["log"] == kept["log"]


def test_stateless_stream_sends_metadata_then_chunks(client: SyncLangGraphClient) -> None:
    parts = list(client.runs.stream(None, "steps", input={"value": "s"},
                                    stream_mode="updates"))
    assert parts[0].event == "metadata"
    assert [list(p.data) for p in parts[1:]] == [["step_a"], ["step_b"], ["step_c"]]


def test_messages_mode_streams_a_reply_as_it_grows_then_tuples_mode_as_chunks(
        client: SyncLangGraphClient) -> None:
    hello = {"messages": [{"role": "user", "content": "hi"}]}
    parts = list(client.runs.stream(None, "chat", input=hello, stream_mode="messages"))
    events = [p.event for p in parts]
    assert events[0] == "metadata" and events[1] == "messages/metadata", parts
    partial = [p.data[0]["content"] for p in parts if p.event == "messages/partial"]
    assert len(partial) > 2 and partial[-1] == "Hello there, reviewer!"
    assert all(b.startswith(a) for a, b in itertools.pairwise(partial))
    metadata = next(p.data for p in parts if p.event == "messages/metadata")
    (only,) = metadata.values()
    assert only["metadata"]["langgraph_node"] == "chat"
    tuples = [p for p in client.runs.stream(None, "chat", input=hello,
                                            stream_mode="messages-tuple")
              if p.event == "messages"]
    assert "".join(p.data[0]["content"] for p in tuples) == "Hello there, reviewer!"
    assert all(p.data[1]["langgraph_node"] == "chat" for p in tuples)


def test_run_on_a_missing_thread_is_404_unless_if_not_exists_create(
        client: SyncLangGraphClient) -> None:
    tid = str(uuid.uuid4())
    with pytest.raises(NotFoundError):
        client.runs.create(tid, "steps", input={"value": "x"})
    made = client.runs.wait(tid, "steps", input={"value": "x"}, if_not_exists="create")
    assert made["log"][0] == "a"
    assert client.threads.get(tid)["metadata"]["graph_id"] == "steps"


def test_delete_run_refuses_an_active_run(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "slow", input={"seconds": 30})
    with pytest.raises(ConflictError):
        client.runs.delete(tid, run["run_id"])
    client.runs.cancel(tid, run["run_id"], wait=True)
    client.runs.delete(tid, run["run_id"])
    with pytest.raises(NotFoundError):
        client.runs.get(tid, run["run_id"])


def test_threads_search_count_patch_copy_delete(client: SyncLangGraphClient) -> None:
    one = client.threads.create(metadata={"team": "a", "n": 1})
    two = client.threads.create(metadata={"team": "b"})
    client.runs.wait(one["thread_id"], "steps", input={"value": "v1"})
    assert [t["thread_id"] for t in client.threads.search(metadata={"team": "a"})] == [
        one["thread_id"]]
    assert [t["thread_id"] for t in client.threads.search(values={"value": "v1"})] == [
        one["thread_id"]]
    assert client.threads.count() == 2
    assert client.threads.count(status="idle") == 2
    assert len(client.threads.search(limit=1)) == 1
    # Newest update first, as LangGraph's server sorts by default: `one` ran after both
    # were created.
    assert client.threads.search(limit=1, offset=1)[0]["thread_id"] == two["thread_id"]

    patched = client.threads.update(two["thread_id"], metadata={"n": 2})
    assert patched["metadata"] == {"team": "b", "n": 2}

    copy = client.threads.copy(one["thread_id"])
    assert copy["thread_id"] != one["thread_id"]
    assert client.threads.get_state(copy["thread_id"])["values"] == client.threads.get_state(
        one["thread_id"])["values"]
    again = client.runs.wait(copy["thread_id"], "steps", input={"value": "v2"})
    assert again["log"] == ["a", "b saw v1", "c", "a", "b saw v2", "c"]
    assert client.threads.get_state(one["thread_id"])["values"]["log"] == [
        "a", "b saw v1", "c"]

    client.threads.delete(one["thread_id"])
    with pytest.raises(NotFoundError):
        client.threads.get(one["thread_id"])
    with pytest.raises(ConflictError):
        client.threads.create(thread_id=two["thread_id"])
    same = client.threads.create(thread_id=two["thread_id"], if_exists="do_nothing")
    assert same["metadata"]["n"] == 2


def test_state_at_a_checkpoint_and_history_before(server: RunningServer,
                                                  client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "steps", input={"value": "h"})
    history = client.threads.get_history(tid, limit=10)
    assert len(history) >= 4
    older = history[2]
    at = client.threads.get_state(tid, checkpoint_id=older["checkpoint"]["checkpoint_id"])
    assert at["values"] == older["values"]
    posted = client.threads.get_state(tid, checkpoint=older["checkpoint"])
    assert posted["values"] == older["values"]
    before = client.threads.get_history(tid, before=history[1]["checkpoint"])
    assert before[0]["checkpoint"] == history[2]["checkpoint"]
    got = httpx.get(f"{server.url}/threads/{tid}/history", params={"limit": 2}).json()
    assert [h["checkpoint"] for h in got] == [h["checkpoint"] for h in history[:2]]


def test_a_wait_whose_client_left_cancels_its_run_with_on_disconnect_cancel(
        start_server: Callable[..., RunningServer]) -> None:
    """runs/wait with on_disconnect 'cancel': the client gives up after 0.3 s; the server
    notices at its next poll and the run (executed by the process that received it) ends
    'interrupted' long before its node's 5 s are over."""
    server = start_server(poll_seconds=0.1, keepalive_seconds=30)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        with pytest.raises(httpx.ReadTimeout):
            http.post(f"/threads/{tid}/runs/wait", timeout=0.3, json={
                "assistant_id": "slow", "input": {"seconds": 5}, "on_disconnect": "cancel"})
        deadline = time.monotonic() + 4
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            runs = http.get(f"/threads/{tid}/runs").json()
            if runs and runs[0]["status"] == "interrupted":
                break
            time.sleep(0.05)
        assert [r["status"] for r in runs] == ["interrupted"], runs
