"""A thread's stream, POST /threads/prune and POST /runs/batch: the same flows at langgraph dev
and hitlgraph serve; then where hitlgraph refuses what LangGraph's server lets pass (each
deliberate test checks that LangGraph still behaves as the README says)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from _compat import Observed, Pair, at_both, ended, status_of
from _joined import join_thread, run_dones
from langgraph_sdk.client import SyncLangGraphClient

# -- the same at both ------------------------------------------------------------------------


def _thread_stream(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    joined = join_thread(client, tid, run_dones(3))
    paused = seen.run("run to the interrupt", client.runs.create, tid, "review",
                      input={"topic": "joined"})
    ended(client, tid, paused["run_id"])
    seen.call("join it", client.runs.join, tid, paused["run_id"])
    resumed = seen.run("resume", client.runs.create, tid, "review",
                       command={"resume": {"approved": True}},
                       stream_mode=["updates", "values"])
    seen.call("join the resume", client.runs.join, tid, resumed["run_id"])
    seen.run("a run after it", client.runs.create, tid, "review", input={"topic": "again"},
             stream_mode="updates")
    seen.call("the thread's stream", joined.events)


def test_a_thread_stream_sends_the_runs_of_the_thread_alike(pair: Pair) -> None:
    pair.compare(_thread_stream)


def _failing_in_thread_stream(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    joined = join_thread(client, tid, run_dones(2))
    for value in ("first", "second"):
        run = seen.run(f"a failing run ({value})", client.runs.create, tid, "failing",
                       input={"value": value})
        seen.call(f"join it ({value})", client.runs.join, tid, run["run_id"])
    seen.call("the thread's stream", joined.events)


def test_a_failing_run_in_a_thread_stream_shows_alike(pair: Pair) -> None:
    pair.compare(_failing_in_thread_stream)


def _thread_stream_modes(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    lifecycle = join_thread(client, tid, run_dones(1), params={"stream_modes": "lifecycle"})
    updates = join_thread(client, tid, lambda parts: len(parts) == 2,
                          params={"stream_modes": "state_update"})
    both = join_thread(client, tid, lambda parts: len(parts) == 4,
                       params={"stream_modes": "lifecycle,state_update"})
    run = seen.run("run to the interrupt", client.runs.create, tid, "review",
                   input={"topic": "modes"})
    ended(client, tid, run["run_id"])
    seen.call("join it", client.runs.join, tid, run["run_id"])
    seen.call("lifecycle", lifecycle.events)
    # LangGraph's thread stream sends the thread's own events before its runs' when both are
    # waiting: let it send the run's end first.
    time.sleep(0.5)
    seen.call("update the draft", client.threads.update_state, tid, {"draft": "one"})
    seen.call("update it again", client.threads.update_state, tid, {"draft": "two"})
    seen.call("state updates", updates.events)
    seen.call("lifecycle and state updates", both.events)


def test_thread_stream_modes_select_the_same_events(pair: Pair) -> None:
    pair.compare(_thread_stream_modes)


def _thread_stream_refusals(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("an unknown mode", lambda: join_thread(
        client, tid, run_dones(1), params={"stream_modes": "everything"}).result())
    seen.call("a thread id that is no UUID",
              lambda: join_thread(client, "thread-1", run_dones(1)).result())


def test_thread_stream_refusals_are_alike(pair: Pair) -> None:
    pair.compare(_thread_stream_refusals)


def _finished_thread(client: SyncLangGraphClient, seen: Observed, label: str) -> str:
    tid: str = seen.call(f"create {label}", client.threads.create)["thread_id"]
    seen.call(f"run {label}", client.runs.wait, tid, "steps", input={"value": label})
    return tid


def _prune(client: SyncLangGraphClient, seen: Observed) -> None:
    a, b, c = (_finished_thread(client, seen, label) for label in ("a", "b", "c"))
    seen.call("prune two and a missing one", client.threads.prune, [a, b, str(uuid.uuid4())])
    seen.call("a pruned thread", client.threads.get, a)
    seen.call("the thread left", client.threads.get_state, c)
    seen.call("prune one twice", client.threads.prune, [c, c])
    seen.call("prune none", client.threads.prune, [])
    seen.call("prune an id that is no UUID", client.threads.prune, ["thread-1"])
    seen.call("an unknown strategy", client.threads.prune, [], strategy="latest")  # type: ignore[arg-type]
    busy = seen.call("create a busy thread", client.threads.create)["thread_id"]
    seen.run("start a slow run", client.runs.create, busy, "slow", input={})
    seen.call("prune the busy thread", client.threads.prune, [busy])
    seen.call("the busy thread", client.threads.get, busy)


def test_prune_deletes_alike(pair: Pair) -> None:
    pair.compare(_prune)


def _batch(client: SyncLangGraphClient, seen: Observed) -> None:
    runs = client.runs.create_batch([
        {"assistant_id": "steps", "input": {"value": "one"}, "on_completion": "keep"},
        {"assistant_id": "review", "input": {"topic": "two"}, "metadata": {"n": 2},
         "on_completion": "keep"}])
    seen.run("a batch", lambda: runs)
    for number, run in enumerate(runs, start=1):
        ended(client, run["thread_id"], run["run_id"])
        seen.call(f"join run {number}", client.runs.join, run["thread_id"], run["run_id"])
        seen.call(f"the thread of run {number}", client.threads.get_state, run["thread_id"])
    for label, batch in [
            ("an empty batch", []),
            ("a run without an assistant", [{"input": {}}]),
            ("an assistant that does not exist",
             [{"assistant_id": "steps"}, {"assistant_id": str(uuid.uuid4())}]),
            ("a graph that is not served", [{"assistant_id": "nowhere"}])]:
        seen.call(label, client.runs.create_batch, batch)


def test_batches_of_runs_answer_alike(pair: Pair) -> None:
    pair.compare(_batch)


def _stateless_gap(client: SyncLangGraphClient, seen: Observed) -> None:
    for label, run in [
            ("POST /runs", client.runs.create(None, "steps", input={"value": "gap"})),
            ("POST /runs/batch", client.runs.create_batch([{"assistant_id": "steps"}])[0])]:
        seen.steps.append((label, [run["multitask_strategy"], run["metadata"].get("graph_id")]))


def test_stateless_runs_show_langgraphs_strategy_and_metadata(pair: Pair) -> None:
    pair.compare(_stateless_gap)


# -- deliberately different ------------------------------------------------------------------


def test_joining_the_stream_of_a_thread_that_does_not_exist_is_404(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> int:
        url = f"/threads/{uuid.uuid4()}/stream"
        with client.http.client.stream("GET", url) as response:
            return response.status_code

    ours, theirs = at_both(pair, flow)
    assert theirs == 200  # LangGraph: an empty stream that never ends
    assert ours == 404


def test_the_sdks_stream_mode_of_a_thread_stream_is_honoured(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> list[str]:
        tid = client.threads.create()["thread_id"]
        joined = join_thread(client, tid, run_dones(1), stream_mode="lifecycle")
        client.runs.create(tid, "steps", input={"value": "sdk"})
        return [event for event, _ in joined.events()]

    ours, theirs = at_both(pair, flow)
    # LangGraph's server reads `stream_modes`; the SDK sends `stream_mode`, which it ignores.
    assert theirs == ["metadata", "values", "values", "values", "values", "metadata"]
    assert ours == ["metadata", "metadata"]


def test_prune_keep_latest_keeps_the_latest_checkpoint(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> tuple[int, Any]:
        tid = client.threads.create()["thread_id"]
        client.runs.wait(tid, "steps", input={"value": "kept"})
        status = status_of(lambda: client.threads.prune([tid], strategy="keep_latest"))
        history = client.threads.get_history(tid, limit=100)
        return status, [h["values"] for h in history]

    ours, theirs = at_both(pair, flow)
    assert theirs[0] == 422 and len(theirs[1]) == 5  # "not supported in in-memory runtime"
    assert ours == (200, [{"value": "kept", "log": ["a", "b saw kept", "c"]}])


def test_a_batch_run_naming_a_thread_is_422(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> tuple[int, bool]:
        tid = client.threads.create()["thread_id"]
        try:
            (run,) = client.runs.create_batch([{"assistant_id": "steps", "input": {},
                                                "thread_id": tid}])
        except httpx.HTTPStatusError as exc:
            return exc.response.status_code, False
        return 200, run["thread_id"] == tid

    ours, theirs = at_both(pair, flow)
    assert theirs == (200, False)  # LangGraph runs it on a new thread, not on the one named
    assert ours == (422, False)
