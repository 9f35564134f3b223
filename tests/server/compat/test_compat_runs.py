"""Runs and assistants: the same flows at langgraph dev and hitlgraph serve."""

from __future__ import annotations

from typing import Any

from _compat import Observed, Pair
from langgraph_sdk.client import SyncLangGraphClient


def events_of(client: SyncLangGraphClient, *args: Any, **kwargs: Any) -> list[list[Any]]:
    return [[part.event, part.data] for part in client.runs.stream(*args, **kwargs)]


def _background_run(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    run = seen.run("create run", client.runs.create, tid, "steps", input={"value": "bg"},
                    metadata={"origin": "compat"})
    seen.call("join", client.runs.join, tid, run["run_id"])
    seen.run("get", client.runs.get, tid, run["run_id"])
    seen.run("list", client.runs.list, tid)


def test_background_run_join_get_and_list_observe_the_same(pair: Pair) -> None:
    pair.compare(_background_run)


def _streams(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("stream values", events_of, client, tid, "steps", input={"value": "s"},
              stream_mode="values")
    seen.call("stream updates", events_of, client, tid, "review", input={"topic": "u"},
              stream_mode="updates")
    seen.call("stream the resume", events_of, client, tid, "review",
              command={"resume": {"approved": False}}, stream_mode=["values", "updates"])
    seen.call("stream a failing run", events_of, client, None, "failing", input={"value": "x"})


def test_streams_send_the_same_events(pair: Pair) -> None:
    pair.compare(_streams)


def _stateless(client: SyncLangGraphClient, seen: Observed) -> None:
    seen.call("stateless wait", client.runs.wait, None, "steps", input={"value": "none"})
    seen.call("stateless wait to an interrupt", client.runs.wait, None, "review",
              input={"topic": "t"})


def test_stateless_runs_answer_alike(pair: Pair) -> None:
    pair.compare(_stateless)


def _assistants(client: SyncLangGraphClient, seen: Observed) -> None:
    found = seen.call("search", client.assistants.search, graph_id="review")
    seen.call("get", client.assistants.get, found[0]["assistant_id"])
    # langgraph dev creates its assistants at once: their order varies from start to start.
    seen.call("search all", lambda: sorted(a["graph_id"] for a in client.assistants.search()))


def test_assistants_observe_the_same(pair: Pair) -> None:
    pair.compare(_assistants)


def _breakpoints(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("run to a breakpoint", client.runs.wait, tid, "steps", input={"value": "b"},
              interrupt_before=["step_b"])
    seen.call("state at the breakpoint", client.threads.get_state, tid)
    seen.call("thread at the breakpoint", client.threads.get, tid)
    seen.call("continue", client.runs.wait, tid, "steps", input=None)
    seen.call("state after", client.threads.get_state, tid)


def test_breakpoints_observe_the_same(pair: Pair) -> None:
    pair.compare(_breakpoints)


def _more_stream_modes(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    for mode in ("debug", "tasks", "checkpoints", "custom"):
        seen.call(f"stream {mode}", events_of, client, tid, "steps", input={"value": mode},
                  stream_mode=mode)


def test_debug_tasks_checkpoints_and_custom_streams_send_the_same_events(pair: Pair) -> None:
    pair.compare(_more_stream_modes)


def _multitask(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("pause", client.runs.wait, tid, "review", input={"topic": "m"})
    queued = seen.run("queue a resume", client.runs.create, tid, "review",
                      command={"resume": {"approved": True}})
    seen.call("join the resume", client.runs.join, tid, queued["run_id"])
    slow = seen.run("start a slow run", client.runs.create, tid, "slow", input={})
    seen.call("reject a second run while one is active", client.runs.create, tid, "slow",
              input={}, multitask_strategy="reject")
    seen.call("join the slow run", client.runs.join, tid, slow["run_id"])
    seen.run("list runs, one", client.runs.list, tid, limit=1)


def test_multitask_reject_observes_the_same(pair: Pair) -> None:
    pair.compare(_multitask)
