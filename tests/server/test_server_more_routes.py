"""A thread's stream (GET /threads/{thread_id}/stream), POST /threads/prune and POST
/runs/batch, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from _joined import is_run_done, join_thread, run_dones
from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError


def _wait_status(client: SyncLangGraphClient, tid: str, rid: str, status: str) -> None:
    deadline = time.monotonic() + 10
    while client.runs.get(tid, rid)["status"] != status:
        assert time.monotonic() < deadline, f"run {rid} never became {status}"
        time.sleep(0.05)


def _opened(run_id: str) -> list[Any]:
    return ["metadata", {"run_id": run_id, "attempt": 1}]


def _closed(run_id: str) -> list[Any]:
    return ["metadata", {"status": "run_done", "run_id": run_id}]


# -- GET /threads/{thread_id}/stream ---------------------------------------------------------

def test_thread_stream_sends_each_run_started_while_joined_from_metadata_to_run_done(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    joined = join_thread(client, tid, run_dones(2))
    first = client.runs.create(tid, "steps", input={"value": "j"}, stream_mode="updates")
    client.runs.join(tid, first["run_id"])
    second = client.runs.create(tid, "steps", input={"value": "k"})
    assert joined.events() == [
        _opened(first["run_id"]), ["updates", {"step_a": {"log": ["a"]}}],
        ["updates", {"step_b": {"log": ["b saw j"]}}], ["updates", {"step_c": {"log": ["c"]}}],
        _closed(first["run_id"]),
        _opened(second["run_id"]),
        ["values", {"value": "k", "log": ["a", "b saw j", "c"]}],
        ["values", {"value": "k", "log": ["a", "b saw j", "c", "a"]}],
        ["values", {"value": "k", "log": ["a", "b saw j", "c", "a", "b saw k"]}],
        ["values", {"value": "k", "log": ["a", "b saw j", "c", "a", "b saw k", "c"]}],
        _closed(second["run_id"])]


def test_a_run_going_when_the_client_joins_is_streamed_from_its_start(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "slow", input={"seconds": 1.0}, stream_mode="updates")
    _wait_status(client, tid, run["run_id"], "running")
    assert join_thread(client, tid, run_dones(1)).events() == [
        _opened(run["run_id"]), ["updates", {"slow": {"done": ["slow"]}}],
        _closed(run["run_id"])]


def test_runs_finished_before_joining_are_not_sent(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "steps", input={"value": "old"})
    joined = join_thread(client, tid, run_dones(1), stream_mode="lifecycle")
    new = client.runs.create(tid, "steps", input={"value": "new"})
    assert joined.events() == [_opened(new["run_id"]), _closed(new["run_id"])]


def test_last_event_id_resumes_after_that_event_and_takes_in_later_runs(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    first = client.runs.create(tid, "steps", input={"value": "1"}, stream_mode="updates")
    client.runs.join(tid, first["run_id"])
    second = client.runs.create(tid, "steps", input={"value": "2"}, stream_mode="updates")
    client.runs.join(tid, second["run_id"])
    everything = join_thread(client, tid, run_dones(2), last_event_id="-").result()
    assert [p.id for p in everything[:2]] == [f"{first['run_id']}:0", f"{first['run_id']}:1"]
    assert everything[4].id == f"{first['run_id']}:done" and is_run_done(everything[4])
    resumed = join_thread(client, tid, run_dones(2), last_event_id=everything[1].id).result()
    assert resumed == everything[2:]
    after_first = join_thread(client, tid, run_dones(1), last_event_id=everything[4].id)
    assert after_first.result() == everything[5:]


def test_lifecycle_and_state_update_modes_send_only_their_events(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    lifecycle = join_thread(client, tid, run_dones(1), stream_mode="lifecycle")
    updates = join_thread(client, tid, lambda parts: len(parts) == 2,
                          params={"stream_modes": "state_update"})
    run = client.runs.create(tid, "review", input={"topic": "modes"})
    assert lifecycle.events() == [_opened(run["run_id"]), _closed(run["run_id"])]
    client.threads.update_state(tid, {"draft": "first edit"})
    client.threads.update_state(tid, {"draft": "second edit"})
    history = client.threads.get_history(tid, limit=2)
    assert updates.events() == [["state_update", {"state": state, "thread_id": tid}]
                                for state in reversed(history)]


def test_stream_modes_wins_over_the_sdks_stream_mode(client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    joined = join_thread(client, tid, run_dones(1), stream_mode="lifecycle",
                         params={"stream_modes": "run_modes"})
    run = client.runs.create(tid, "steps", input={"value": "m"}, stream_mode="updates")
    assert [e for e, _ in joined.events()] == ["metadata", "updates", "updates", "updates",
                                               "metadata"]
    assert joined.events()[0] == _opened(run["run_id"])


def test_the_thread_stream_ends_when_the_thread_is_deleted(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    joined = join_thread(client, tid, lambda parts: False)
    client.threads.delete(tid)
    assert joined.result() == []


def test_thread_stream_errors_say_what_to_send(client: SyncLangGraphClient,
                                               server: RunningServer) -> None:
    tid = client.threads.create()["thread_id"]
    run = client.runs.wait(tid, "steps", input={"value": "e"})
    assert run["log"] == ["a", "b saw e", "c"]
    with pytest.raises(NotFoundError):
        join_thread(client, str(uuid.uuid4()), run_dones(1)).result()
    checks = [({"stream_modes": "run_modes,everything"}, {}, 422, "'everything'"),
              ({}, {"Last-Event-ID": "1724342400000-0"}, 422, "RUN_ID:SEQ"),
              ({}, {"Last-Event-ID": f"{uuid.uuid4()}:3"}, 404, "replay every run")]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for params, headers, status, said in checks:
            answer = http.get(f"/threads/{tid}/stream", params=params, headers=headers)
            assert (answer.status_code, said in answer.json()["detail"]) == (status, True)


# -- POST /threads/prune ---------------------------------------------------------------------

def _finished_thread(client: SyncLangGraphClient) -> str:
    tid: str = client.threads.create()["thread_id"]
    client.runs.wait(tid, "steps", input={"value": "p"})
    return tid


def test_prune_deletes_the_threads_counting_those_found(client: SyncLangGraphClient) -> None:
    kept, a, b = (_finished_thread(client) for _ in range(3))
    busy = client.threads.create()["thread_id"]
    run = client.runs.create(busy, "slow", input={"seconds": 30})
    _wait_status(client, busy, run["run_id"], "running")
    assert client.threads.prune([a, b, a, str(uuid.uuid4()), busy]) == {"pruned_count": 3}
    for gone in (a, b, busy):
        with pytest.raises(NotFoundError):
            client.threads.get(gone)
    assert client.threads.get_state(kept)["values"]["log"] == ["a", "b saw p", "c"]
    assert client.threads.prune([]) == {"pruned_count": 0}


def test_prune_keep_latest_keeps_the_state_and_its_latest_checkpoint(
        client: SyncLangGraphClient) -> None:
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "review", input={"topic": "prune"})
    state = client.threads.get_state(tid)
    assert len(client.threads.get_history(tid, limit=100)) > 1
    assert client.threads.prune([tid, str(uuid.uuid4())], strategy="keep_latest") == {
        "pruned_count": 1}
    assert client.threads.get_history(tid, limit=100) == [state]
    assert client.threads.get_state(tid) == state
    done = client.runs.wait(tid, "review", command={"resume": {"approved": True}})
    assert done["published"] == "TIPS FOR PRUNE"


def test_prune_keep_latest_of_a_busy_thread_is_409_and_prunes_nothing(
        client: SyncLangGraphClient) -> None:
    idle = _finished_thread(client)
    busy = client.threads.create()["thread_id"]
    run = client.runs.create(busy, "slow", input={"seconds": 30})
    _wait_status(client, busy, run["run_id"], "running")
    before = client.threads.get_history(idle, limit=100)
    with pytest.raises(ConflictError, match=busy):
        client.threads.prune([idle, busy], strategy="keep_latest")
    assert client.threads.get_history(idle, limit=100) == before
    client.runs.cancel(busy, run["run_id"], wait=True)


@pytest.mark.parametrize(("body", "said"), [
    ({"thread_ids": ["not-a-uuid"]}, "must be a UUID"),
    ({"thread_ids": [], "strategy": "latest"}, "'delete' or 'keep_latest'"),
    ({"thread_ids": [], "ids": []}, "ids: Extra inputs are not permitted"),
])
def test_a_prune_request_it_cannot_take_is_422(server: RunningServer, body: dict[str, Any],
                                               said: str) -> None:
    answer = httpx.post(f"{server.url}/threads/prune", json=body, timeout=30)
    assert answer.status_code == 422 and said in answer.json()["detail"]


# -- POST /runs/batch ------------------------------------------------------------------------

def test_a_batch_queues_stateless_runs_in_the_order_sent(client: SyncLangGraphClient) -> None:
    runs = client.runs.create_batch([
        {"assistant_id": "steps", "input": {"value": "one"}, "on_completion": "keep"},
        {"assistant_id": "review", "input": {"topic": "two"}, "metadata": {"n": 2},
         "on_completion": "keep"}])
    assert [r["status"] for r in runs] == ["pending", "pending"]
    assert len({r["thread_id"] for r in runs}) == 2 and runs[1]["metadata"]["n"] == 2
    first, second = (client.runs.join(r["thread_id"], r["run_id"]) for r in runs)
    assert first["log"] == ["a", "b saw one", "c"]
    assert second["__interrupt__"][0]["value"]["draft"] == "Tips for two"


def _thread_count(client: SyncLangGraphClient) -> int:
    return len(client.threads.search(limit=1000))


def test_a_batch_with_a_run_it_refuses_queues_none(client: SyncLangGraphClient) -> None:
    before = _thread_count(client)
    missing = str(uuid.uuid4())
    for bad, error, said in [
            ({"assistant_id": missing}, NotFoundError, f"Run 2 of 2 in the batch: Assistant "
             f"'{missing}' not found"),
            ({"assistant_id": "steps", "interrupt_before": ["nowhere"]},
             UnprocessableEntityError, "Run 2 of 2 in the batch: interrupt_before")]:
        with pytest.raises(error, match=said):
            client.runs.create_batch([{"assistant_id": "steps", "input": {"value": "x"},
                                       "on_completion": "keep"}, bad])
    assert _thread_count(client) == before
    client.runs.create_batch([{"assistant_id": "steps", "input": {}, "on_completion": "keep"}])
    assert _thread_count(client) == before + 1


@pytest.mark.parametrize("field", ["thread_id", "checkpoint_id", "multitask_strategy"])
def test_a_batch_run_naming_a_thread_is_422_saying_where_to_send_it(
        client: SyncLangGraphClient, field: str) -> None:
    value = "reject" if field == "multitask_strategy" else str(uuid.uuid4())
    with pytest.raises(UnprocessableEntityError, match=f"'{field}'.*POST /threads/"):
        client.runs.create_batch([{"assistant_id": "steps", "input": {}, field: value}])


def test_a_batch_run_with_a_null_thread_id_is_stateless(server: RunningServer) -> None:
    answer = httpx.post(f"{server.url}/runs/batch", timeout=30, json=[
        {"assistant_id": "steps", "input": {"value": "n"}, "thread_id": None}])
    assert answer.status_code == 200 and answer.json()[0]["status"] == "pending"


@pytest.mark.parametrize("body", [[], {"assistant_id": "steps"}])
def test_a_batch_that_is_not_a_list_of_runs_is_422(server: RunningServer, body: Any) -> None:
    assert httpx.post(f"{server.url}/runs/batch", json=body, timeout=30).status_code == 422
