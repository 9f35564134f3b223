"""Typed answers through the server (SQLite and PostgreSQL; the SDK and plain HTTP): a resume
whose answer does not match the interrupt's response_schema is a 422 naming each field, no
run is queued and the thread still waits on the same interrupt; a good answer then works. A
bad answer queued behind a busy thread (the route cannot check it yet) ends its run as an
error with the field errors, the interrupt still open. LangGraph's server has no such check."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

GRAPHS = '''
import time
from typing import TypedDict

from pydantic import BaseModel

from hitlgraph.graph import START, StateGraph
from hitlgraph.types import interrupt


class Refund(BaseModel):
    approved: bool
    amount: int


class State(TypedDict, total=False):
    slow: bool
    decision: dict


def wait(state: State) -> State:
    if state.get("slow"):
        time.sleep(1.5)
    return {}


def ask(state: State) -> State:
    answer = interrupt({"question": "refund?"}, response_schema=Refund)
    return {"decision": answer.model_dump()}


refund = StateGraph(State)
refund.add_node("wait", wait)
refund.add_node("ask", ask)
refund.add_edge(START, "wait")
refund.add_edge("wait", "ask")
'''

SCHEMA = {"properties": {"approved": {"title": "Approved", "type": "boolean"},
                         "amount": {"title": "Amount", "type": "integer"}},
          "required": ["approved", "amount"], "title": "Refund", "type": "object"}
"""Refund's JSON Schema, as pydantic makes it."""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A langgraph.json serving the graph above as 'refund'."""
    (tmp_path / "refund_graph.py").write_text(GRAPHS, encoding="utf-8")
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": {"refund": "./refund_graph.py:refund"}}),
                    encoding="utf-8")
    return path


def _paused(client: SyncLangGraphClient) -> tuple[str, str]:
    """A thread waiting on the refund question: (thread id, interrupt id)."""
    thread = client.threads.create()["thread_id"]
    result: Any = client.runs.wait(thread, "refund", input={})
    (asked,) = result["__interrupt__"]
    return thread, asked["id"]


def _still_waiting(client: SyncLangGraphClient, thread: str, iid: str) -> None:
    assert client.threads.get(thread)["status"] == "interrupted"
    state: Any = client.threads.get_state(thread)
    assert [i["id"] for i in state["interrupts"]] == [iid]


def test_the_schema_shows_in_the_thread_state_as_json_schema(
        client: SyncLangGraphClient) -> None:
    thread, iid = _paused(client)
    state: Any = client.threads.get_state(thread)
    assert state["interrupts"] == [{"id": iid, "value": {"question": "refund?"},
                                    "response_schema": SCHEMA}]
    assert list(state["interrupts"][0]["response_schema"]["properties"]) == [
        "approved", "amount"]
    (listed,) = client.threads.get(thread)["interrupts"].values()
    assert listed[0]["response_schema"] == SCHEMA


def test_a_bad_answer_is_422_naming_the_field_then_a_good_one_works(
        client: SyncLangGraphClient) -> None:
    thread, iid = _paused(client)
    with pytest.raises(httpx.HTTPStatusError) as caught:
        client.runs.wait(thread, "refund", command={"resume": {"approved": "yes"}})
    assert caught.value.response.status_code == 422
    detail = caught.value.response.json()["detail"]
    assert isinstance(detail, str)
    assert "command.resume.approved: 'yes' is not of type 'boolean'" in detail
    assert "command.resume: 'amount' is a required property" in detail
    assert iid in detail
    assert len(client.runs.list(thread)) == 1  # no run was queued
    _still_waiting(client, thread, iid)
    done: Any = client.runs.wait(thread, "refund",
                                 command={"resume": {"approved": True, "amount": 30}})
    assert done["decision"] == {"approved": True, "amount": 30}
    assert client.threads.get(thread)["status"] == "idle"


def test_plain_http_answer_by_id_is_422_with_a_string_detail(
        server: RunningServer, client: SyncLangGraphClient) -> None:
    thread, iid = _paused(client)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        refused = http.post(f"/threads/{thread}/runs", json={
            "assistant_id": "refund",
            "command": {"resume": {iid: {"approved": True, "amount": "ten"}}}})
        assert refused.status_code == 422, refused.text
        assert f"command.resume.{iid}.amount: 'ten' is not of type 'integer'" in (
            refused.json()["detail"])
        assert http.post(f"/threads/{thread}/runs/search", json={}).json().__len__() == 1
        _still_waiting(client, thread, iid)
        accepted = http.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "refund",
            "command": {"resume": {iid: {"approved": False, "amount": 0}}}})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["decision"] == {"approved": False, "amount": 0}


def _finished(client: SyncLangGraphClient, thread: str, run: str) -> Any:
    deadline = time.monotonic() + 30
    while (found := client.runs.get(thread, run))["status"] in ("pending", "running"):
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    return found


def test_a_bad_answer_queued_behind_a_busy_thread_fails_its_run_and_keeps_the_interrupt(
        client: SyncLangGraphClient) -> None:
    thread = client.threads.create()["thread_id"]
    first = client.runs.create(thread, "refund", input={"slow": True})
    queued = client.runs.create(thread, "refund", command={"resume": {"approved": 1}},
                                multitask_strategy="enqueue")  # judged when it runs
    assert _finished(client, thread, first["run_id"])["status"] == "success"
    with pytest.raises(httpx.HTTPStatusError) as caught:
        client.runs.join(thread, queued["run_id"])
    assert caught.value.response.status_code == 422
    assert "approved: 1 is not of type 'boolean'" in caught.value.response.json()["detail"]
    assert _finished(client, thread, queued["run_id"])["status"] == "error"
    state: Any = client.threads.get_state(thread)
    (iid,) = [i["id"] for i in state["interrupts"]]
    _still_waiting(client, thread, iid)
    done: Any = client.runs.wait(thread, "refund",
                                 command={"resume": {"approved": True, "amount": 5}})
    assert done["decision"] == {"approved": True, "amount": 5}
