"""The "events" stream mode: Agent Inbox's answer as it sends it, node run ids, the order in
which EventStream makes events from the engine's chunks, and chat model events."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import httpx
import pytest
from _harness import RunningServer

from hitlgraph.func import entrypoint
from hitlgraph.graph import START, StateGraph
from hitlgraph.server._events import EventStream, GraphRun, graph_run, node_run_id
from hitlgraph.server._model_events import ModelEvents

ACCEPT = {"command": {"resume": [{"type": "accept", "args": None}]}, "stream_mode": "events"}
"""Agent Inbox's accept, as it posts it to /threads/{thread_id}/runs/stream (with the
assistant id the SDK adds)."""


@pytest.fixture
def inbox_server(start_server: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    """A server of the Agent-Inbox-shaped "email" graph (inbox_graphs.py)."""
    folder = tmp_path / "events_app"
    folder.mkdir()
    shutil.copyfile(Path(__file__).with_name("inbox_graphs.py"), folder / "inbox_graphs.py")
    config = folder / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"email": "./inbox_graphs.py:email_builder"}}))
    return start_server(config=config)


def _sse(response: httpx.Response) -> list[tuple[str, Any]]:
    """The (event, data) pairs of an SSE response, read to its end."""
    out: list[tuple[str, Any]] = []
    name, data = None, []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and name is not None:
            out.append((name, json.loads("\n".join(data)) if data else None))
            name, data = None, []
    return out


def _post_stream(url: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    with httpx.stream("POST", url, json=body, timeout=30) as response:
        assert response.status_code == 200, response.read()
        return _sse(response)


def test_agent_inbox_accept_with_events_resumes_the_thread_and_ends_the_stream(
        inbox_server: RunningServer) -> None:
    client = inbox_server.client()
    tid = client.threads.create()["thread_id"]
    paused = client.runs.wait(tid, "email", input={"to": "ann@example.com", "subject": "Hi"})
    assert paused["__interrupt__"]

    sent = _post_stream(f"{inbox_server.url}/threads/{tid}/runs/stream",
                        {**ACCEPT, "assistant_id": "email"})

    assert [name for name, _ in sent] == ["metadata"] + ["events"] * 5
    events = [data for _, data in sent[1:]]
    assert [(e["event"], e["name"]) for e in events] == [
        ("on_chain_start", "email"), ("on_chain_start", "review_email"),
        ("on_chain_stream", "review_email"), ("on_chain_end", "review_email"),
        ("on_chain_end", "email")]
    assert events[0]["data"]["input"]["resume"] == ACCEPT["command"]["resume"]
    assert events[1]["metadata"]["langgraph_node"] == "review_email"  # what Agent Inbox shows
    outcome = {"decision": "accept", "sent": {"to": "ann@example.com", "subject": "Hi"}}
    assert events[3]["data"]["output"] == {"outcome": outcome}
    assert client.threads.get(tid)["status"] == "idle"
    assert client.threads.get_state(tid)["values"]["outcome"] == outcome


def test_node_events_share_their_run_id_and_chain_to_the_graph_run(
        inbox_server: RunningServer) -> None:
    client = inbox_server.client()
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "email", input={"to": "bo@example.com", "subject": "Yo"})
    parts = list(client.runs.stream(tid, "email", stream_mode="events",
                                    command={"resume": [{"type": "ignore", "args": None}]}))
    run_id = parts[0].data["run_id"]
    graph, *nodes, end = [part.data for part in parts[1:]]
    assert graph["run_id"] == end["run_id"] == run_id
    assert graph["parent_ids"] == end["parent_ids"] == []
    assert {n["run_id"] for n in nodes} != {run_id}
    assert len({n["run_id"] for n in nodes}) == 1
    assert all(n["parent_ids"] == [run_id] for n in nodes)


class _Named(TypedDict):
    value: int


def test_the_graph_run_is_named_as_on_langgraphs_server() -> None:
    builder = StateGraph(_Named)
    builder.add_node("a", lambda state: state)
    builder.add_edge(START, "a")

    @entrypoint()
    def flow(value: int) -> int:
        return value

    def name(graph: Any) -> str:
        return graph_run(run_id="r", graph_id="served", graph=graph, kwargs={},
                         config={}).name

    assert name(builder.compile()) == "served"
    assert name(builder.compile(name="drafts")) == "drafts"
    assert name(flow) == "served"


def _run() -> GraphRun:
    return GraphRun(run_id="run-1", name="g", input={"x": 1}, metadata={"graph_id": "g"})


def _task(kind: str, task_id: str, name: str, step: int, **fields: Any) -> dict[str, Any]:
    if kind == "task":
        payload = {"id": task_id, "name": name, "input": {"x": 1},
                   "triggers": fields.get("triggers", [f"branch:to:{name}"])}
    else:
        payload = {"id": task_id, "name": name, "error": fields.get("error"), "result": {},
                   "interrupts": fields.get("interrupts", [])}
    return {"type": kind, "step": step, "timestamp": "", "payload": payload}


def _kinds(sse: list[tuple[str, str]]) -> list[str]:
    return [json.loads(data)["event"] if name == "events" else name for name, data in sse]


def test_a_nodes_update_waits_for_its_end_event() -> None:
    stream = EventStream(_run())
    stream.feed("debug", _task("task", "t1", "a", 1))
    held = stream.feed("updates", {"a": {"y": 2}}, [("updates", '{"a":{"y":2}}')])
    assert held == []
    out = stream.feed("debug", _task("task_result", "t1", "a", 1))
    assert _kinds(out) == ["on_chain_stream", "on_chain_end", "updates"]
    assert json.loads(out[1][1])["data"] == {"output": {"y": 2}, "input": {"x": 1}}


def test_a_paused_or_failed_node_sends_no_end_and_the_graph_ends_with_its_state() -> None:
    stream = EventStream(_run())
    stream.feed("debug", _task("task", "t1", "a", 1))
    stream.feed("debug", _task("task", "t2", "b", 1))
    stream.feed("values", {"x": 1, "__interrupt__": [{"value": "?"}]})
    assert stream.feed("debug", _task("task_result", "t1", "a", 1, interrupts=[{}])) == []
    assert stream.feed("debug", _task("task_result", "t2", "b", 1, error="boom")) == []
    end = json.loads(stream.end()[-1][1])
    assert (end["event"], end["data"]) == ("on_chain_end", {"output": {"x": 1}})


def test_sends_are_numbered_in_their_steps_path() -> None:
    stream = EventStream(_run())
    paths = [json.loads(stream.feed("debug", _task("task", f"t{i}", "w", step,
                                                    triggers=["__pregel_push"]))[0][1])
             ["metadata"]["langgraph_path"] for i, step in enumerate((1, 1, 2))]
    assert paths == [["__pregel_push", 0, False], ["__pregel_push", 1, False],
                     ["__pregel_push", 0, False]]


def test_a_chat_models_events_chain_to_its_node_and_the_graph_run() -> None:
    events = ModelEvents("run-1", ["mine"], tags_in_metadata=False)
    call = uuid.uuid4()
    events.start(call, "FakeModel", [], {"langgraph_checkpoint_ns": "answer:task-1"}, [[]], None)
    events.token(call, {"content": "Hi"})
    events.end(call, {"content": "Hi"})
    events.start(uuid.uuid4(), "Elsewhere", [], {}, [[]], None)  # not inside a node: no events
    sent = [json.loads(data) for _, data in events.drain()]
    assert [e["event"] for e in sent] == ["on_chat_model_start", "on_chat_model_stream",
                                          "on_chat_model_end"]
    assert {e["run_id"] for e in sent} == {str(call)}
    assert all(e["parent_ids"] == ["run-1", node_run_id("run-1", "task-1")] for e in sent)
    assert sent[0]["tags"] == ["seq:step:1", "mine"]
    assert sent[0]["metadata"]["checkpoint_ns"] == "answer:task-1"
    assert events.drain() == []
