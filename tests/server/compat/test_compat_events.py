"""The "events" stream mode (LangChain's astream_events v2 events): the same runs streamed at
langgraph dev and hitlgraph serve send the same events, in the same order.

The events are compared whole, with one projection: a node's `langgraph_checkpoint_ns` ("node
name:task id"; a chat model's `checkpoint_ns` too) is split in two, so that its task id, which
derives from a checkpoint id and so differs between the servers like any id, is masked as the
other ids are (one task keeps one mask). The fan-out flow also leaves out the events of
LangChain's own runnables inside a node (tagged `seq:step:N`: there, the conditional edge's
function), which hitlgraph does not run as runnables (clients read the graph's and the nodes'
events); and as two nodes run at once, their events interleave by timing, on either server:
they are compared run by run (each run's events in order, the runs in the order they started).
Likewise a chat model's token events and the "messages" chunks of the same tokens interleave by
timing: beside "messages-tuple", only the events are compared (in their order).
"""

from __future__ import annotations

from typing import Any

from _compat import Observed, Pair
from langgraph_sdk.client import SyncLangGraphClient
from test_compat_runs import events_of

_NAMESPACES = ("langgraph_checkpoint_ns", "checkpoint_ns")


def _projected(events: list[list[Any]]) -> list[list[Any]]:
    out = []
    for name, data in events:
        if isinstance(data, dict) and isinstance(data.get("metadata"), dict):
            data = {**data, "metadata": {
                key: value.split(":") if key in _NAMESPACES and isinstance(value, str) else value
                for key, value in data["metadata"].items()}}
        out.append([name, data])
    return out


def _inside_nodes(data: Any) -> bool:
    return isinstance(data, dict) and any(str(t).startswith("seq:step:")
                                          for t in data.get("tags") or ())


def _run_by_run(events: list[list[Any]]) -> list[list[Any]]:
    first: dict[Any, int] = {}
    for index, (_, data) in enumerate(events):
        first.setdefault(data.get("run_id") if isinstance(data, dict) else None, index)
    return sorted(events, key=lambda event: first[
        event[1].get("run_id") if isinstance(event[1], dict) else None])


def stream_events(client: SyncLangGraphClient, *args: Any, **kwargs: Any) -> list[list[Any]]:
    return _projected(events_of(client, *args, **kwargs))


def _plain_interrupt_and_resume(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("three nodes", stream_events, client, tid, "steps", input={"value": "s"},
              stream_mode="events")
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("to an interrupt", stream_events, client, tid, "review", input={"topic": "e"},
              stream_mode="events")
    seen.call("resume", stream_events, client, tid, "review",
              command={"resume": {"approved": True}}, stream_mode="events")


def test_runs_paused_and_resumed_send_the_same_events(pair: Pair) -> None:
    pair.compare(_plain_interrupt_and_resume)


def _failing(client: SyncLangGraphClient, seen: Observed) -> None:
    seen.call("a failing node", stream_events, client, None, "failing", input={"value": "x"},
              stream_mode="events")


def test_a_failing_node_sends_its_start_then_the_error(pair: Pair) -> None:
    pair.compare(_failing)


def _combined(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("events and values", stream_events, client, tid, "steps", input={"value": "v"},
              stream_mode=["events", "values"])
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("events and updates", stream_events, client, tid, "review",
              input={"topic": "u"}, stream_mode=["events", "updates"])
    seen.call("stateless, with tags and metadata", stream_events, client, None, "steps",
              input={"value": "t"}, stream_mode="events", config={"tags": ["mine"]},
              metadata={"origin": "compat"})


def test_events_beside_other_modes_come_in_the_same_order(pair: Pair) -> None:
    pair.compare(_combined)


def _agent_inbox(client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("ask", stream_events, client, tid, "inbox", input={"value": "bob"},
              stream_mode="events")
    seen.call("accept, as Agent Inbox sends it", stream_events, client, tid, "inbox",
              command={"resume": [{"type": "accept", "args": None}]}, stream_mode="events")
    seen.call("state after", client.threads.get_state, tid)


def test_agent_inbox_accept_streams_the_same_events(pair: Pair) -> None:
    pair.compare(_agent_inbox)


def _fanout(client: SyncLangGraphClient, seen: Observed) -> None:
    events = [[name, data] for name, data in stream_events(
        client, None, "fanout", input={"value": "f"}, stream_mode="events")
        if not _inside_nodes(data)]
    seen.steps.append(("a None return, then two Sends", _run_by_run(events)))


def test_sends_and_a_none_return_send_the_same_node_events(pair: Pair) -> None:
    pair.compare(_fanout)


def _chat_model(client: SyncLangGraphClient, seen: Observed) -> None:
    question = {"messages": [{"role": "user", "content": "hi", "id": "human-1"}]}
    seen.call("chat model tokens", stream_events, client, None, "chat_model", input=question,
              stream_mode="events", config={"tags": ["mine"]})
    both = stream_events(client, None, "chat_model", input=question,
                         stream_mode=["events", "messages-tuple"], config={"tags": ["mine"]})
    seen.steps.append(("beside messages-tuple", [e for e in both if e[0] == "events"]))


def test_chat_model_token_events_are_the_same(pair: Pair) -> None:
    pair.compare(_chat_model)
