"""Assistants made through the API: kept per tenant in the server's database with every
version, their config and context given to their runs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict

import httpx
import pytest
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError

from hitlgraph.config import get_config
from hitlgraph.graph import END, START, StateGraph


class EchoState(TypedDict, total=False):
    seen: dict[str, Any]


def echo(state: EchoState) -> EchoState:
    configurable = get_config().get("configurable") or {}
    return {"seen": {k: configurable.get(k) for k in ("model", "tone", "shared")}}


echo_builder = StateGraph(EchoState)
echo_builder.add_node("echo", echo)
echo_builder.add_edge(START, "echo")
echo_builder.add_edge("echo", END)


@pytest.fixture
def sdk(start_server: Callable[..., RunningServer]) -> SyncLangGraphClient:
    """A client of a server that also serves the echo graph, which reports the config its
    node is given."""
    return start_server(graphs={"echo": echo_builder}).client()


def _status(call: Callable[[], Any]) -> int:
    try:
        call()
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    return 200


def test_a_made_assistant_is_read_back_found_and_counted(sdk: SyncLangGraphClient) -> None:
    made = sdk.assistants.create("review", config={"tags": ["t"]}, context={"model": "m1"},
                                 metadata={"team": "a"}, name="Reviewer", description="d")
    assert made["graph_id"] == "review" and made["version"] == 1
    assert made["config"] == {"tags": ["t"], "configurable": {"model": "m1"}}
    assert made["context"] == {"model": "m1"}
    assert made["created_at"] == made["updated_at"]
    assert sdk.assistants.get(made["assistant_id"]) == made
    assert sdk.assistants.get(made["assistant_id"].upper()) == made
    assert sdk.assistants.search(metadata={"team": "a"}) == [made]
    assert sdk.assistants.search(graph_id="review", name="REVIEWER") == [made]
    assert sdk.assistants.count(metadata={"team": "a"}) == 1
    assert sdk.assistants.count(graph_id="review") == 2  # and the graph's own
    assert sdk.assistants.search()[0] == made  # newest first
    unnamed = sdk.assistants.create("steps")
    assert unnamed["name"] == "Untitled" and unnamed["metadata"] == {}


def test_an_update_is_a_new_version_and_set_latest_brings_one_back(
        sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("echo", context={"model": "m1"}, metadata={"v": 1},
                                name="first")["assistant_id"]
    second = sdk.assistants.update(aid, metadata={"w": 2}, name="second")
    assert second["version"] == 2 and second["metadata"] == {"v": 1, "w": 2}
    assert second["context"] == {"model": "m1"}  # kept
    third = sdk.assistants.update(aid, graph_id="review", context={"model": "m3"})
    assert third["version"] == 3 and third["config"] == {"configurable": {"model": "m3"}}
    assert [v["version"] for v in sdk.assistants.get_versions(aid)] == [3, 2, 1]
    back = sdk.assistants.set_latest(aid, 1)
    assert (back["version"], back["graph_id"], back["name"], back["metadata"],
            back["context"]) == (1, "echo", "first", {"v": 1}, {"model": "m1"})
    assert sdk.assistants.get(aid) == back
    assert sdk.assistants.update(aid, name="fourth")["version"] == 4  # after the highest
    with pytest.raises(NotFoundError) as missing:
        sdk.assistants.set_latest(aid, 9)
    assert "no version 9; its versions are 1, 2, 3, 4" in missing.value.response.text


def test_versions_are_newest_first_filtered_and_paged(sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("steps", metadata={"k": 0})["assistant_id"]
    for i in range(1, 4):
        sdk.assistants.update(aid, metadata={"k": i, "odd": i % 2 == 1})
    odd = sdk.assistants.get_versions(aid, metadata={"odd": True})
    assert [v["version"] for v in odd] == [4, 2]
    assert "updated_at" not in odd[0] and odd[0]["assistant_id"] == aid
    page = sdk.assistants.get_versions(aid, limit=2, offset=1)
    assert [v["version"] for v in page] == [3, 2]
    # As on LangGraph's server, a page with nothing in it is a 404.
    assert _status(lambda: sdk.assistants.get_versions(aid, offset=10)) == 404


def test_if_exists_do_nothing_answers_the_assistant_there_and_raise_is_409(
        sdk: SyncLangGraphClient) -> None:
    made = sdk.assistants.create("review", name="kept")
    again = sdk.assistants.create("steps", assistant_id=made["assistant_id"],
                                  if_exists="do_nothing", name="other")
    assert again == made
    with pytest.raises(ConflictError):
        sdk.assistants.create("review", assistant_id=made["assistant_id"])
    own = sdk.assistants.get("review")
    assert sdk.assistants.create("review", assistant_id=own["assistant_id"],
                                 if_exists="do_nothing") == own
    with pytest.raises(ConflictError):
        sdk.assistants.create("review", assistant_id=own["assistant_id"])


def test_configurable_and_context_are_kept_equal_and_both_at_once_is_400(
        sdk: SyncLangGraphClient) -> None:
    by_config = sdk.assistants.create("echo", config={"configurable": {"model": "m"}})
    assert by_config["context"] == {"model": "m"}
    by_context = sdk.assistants.create("echo", context={"tone": "dry"})
    assert by_context["config"] == {"configurable": {"tone": "dry"}}
    for call in (lambda: sdk.assistants.create("echo", config={"configurable": {"a": 1}},
                                               context={"b": 2}),
                 lambda: sdk.assistants.update(by_config["assistant_id"],
                                               config={"configurable": {"a": 1}},
                                               context={"b": 2}),
                 lambda: sdk.runs.wait(None, "echo", input={}, context={"b": 2},
                                       config={"configurable": {"a": 1}})):
        assert _status(call) == 400


def test_a_made_assistants_values_reach_its_runs_under_the_runs_own(
        sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("echo", context={"model": "m1", "shared": "assistant"},
                                metadata={"team": "a"})["assistant_id"]
    seen = sdk.runs.wait(None, aid, input={})["seen"]
    assert seen == {"model": "m1", "tone": None, "shared": "assistant"}
    for override in ({"context": {"shared": "run"}},
                     {"config": {"configurable": {"shared": "run"}}}):
        seen = sdk.runs.wait(None, aid, input={}, **override)["seen"]
        assert seen == {"model": "m1", "tone": None, "shared": "run"}, override
    tid = sdk.threads.create()["thread_id"]
    run = sdk.runs.create(tid, aid, input={}, metadata={"origin": "test"})
    assert run["assistant_id"] == aid
    assert run["metadata"] == {"team": "a", "graph_id": "echo", "assistant_id": aid,
                               "origin": "test"}
    sdk.runs.join(tid, run["run_id"])
    assert sdk.threads.get(tid)["metadata"] == {"graph_id": "echo", "assistant_id": aid}
    sdk.assistants.update(aid, context={"model": "m2"})
    assert sdk.runs.wait(tid, aid, input={})["seen"]["model"] == "m2"


def test_an_unknown_assistant_in_a_run_is_404_by_uuid_and_422_otherwise(
        sdk: SyncLangGraphClient) -> None:
    missing = str(uuid.uuid4())
    assert _status(lambda: sdk.runs.wait(None, missing, input={})) == 404
    assert _status(lambda: sdk.runs.wait(None, "no-such-graph", input={})) == 422


def test_deleting_an_assistant_cancels_its_runs_and_can_take_its_threads(
        sdk: SyncLangGraphClient) -> None:
    slow = sdk.assistants.create("slow")["assistant_id"]
    tid = sdk.threads.create()["thread_id"]
    run = sdk.runs.create(tid, slow, input={"seconds": 30})
    deadline = time.monotonic() + 10
    while sdk.runs.get(tid, run["run_id"])["status"] == "pending" and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    sdk.assistants.delete(slow)
    sdk.runs.join(tid, run["run_id"])
    assert time.monotonic() - started < 10
    assert sdk.runs.get(tid, run["run_id"])["status"] == "interrupted"
    assert _status(lambda: sdk.assistants.get(slow)) == 404
    assert _status(lambda: sdk.assistants.delete(slow)) == 404
    assert sdk.threads.get(tid)["thread_id"] == tid  # kept without delete_threads

    reviewer = sdk.assistants.create("review")["assistant_id"]
    ran = sdk.threads.create()["thread_id"]
    sdk.runs.wait(ran, reviewer, input={"topic": "t"})
    other = sdk.threads.create()["thread_id"]
    sdk.runs.wait(other, "review", input={"topic": "t"})
    sdk.assistants.delete(reviewer, delete_threads=True)
    assert _status(lambda: sdk.threads.get(ran)) == 404
    assert sdk.threads.get(other)["thread_id"] == other


def test_a_graphs_own_assistant_cannot_be_updated_or_deleted(
        sdk: SyncLangGraphClient) -> None:
    own = sdk.assistants.get("review")
    for call in (lambda: sdk.assistants.update(own["assistant_id"], name="x"),
                 lambda: sdk.assistants.update("review", name="x"),
                 lambda: sdk.assistants.delete(own["assistant_id"])):
        with pytest.raises(ConflictError) as refused:
            call()
        assert "POST /assistants" in refused.value.response.text
    assert sdk.assistants.get("review") == own
    assert [v["version"] for v in sdk.assistants.get_versions("review")] == [1]
    assert sdk.assistants.set_latest("review", 1) == own


def test_mistakes_langgraph_lets_pass_are_422_naming_them(sdk: SyncLangGraphClient) -> None:
    http = sdk.http
    for body, named in (
            ({"graph_id": "echo", "config": {"configurables": {}}}, "configurables"),
            ({"graph_id": "echo", "metadata": {"run_id": "x"}}, "'run_id'"),
            ({"graph_id": "echo", "assistant_id": "mine"}, "must be a UUID")):
        with pytest.raises(httpx.HTTPStatusError) as refused:
            http.post("/assistants", json=body)
        assert refused.value.response.status_code == 422
        assert named in refused.value.response.text
    aid = sdk.assistants.create("echo")["assistant_id"]
    with pytest.raises(httpx.HTTPStatusError) as refused:
        http.patch(f"/assistants/{aid}", json={"name": None})
    assert "'name' cannot be null" in refused.value.response.text
    with pytest.raises(httpx.HTTPStatusError) as refused:
        http.post(f"/assistants/{aid}/latest", json={})
    assert refused.value.response.status_code == 422
    assert _status(lambda: sdk.assistants.search(graph_id="no-such-graph")) == 404


def test_an_assistant_made_at_one_server_is_seen_by_another_on_its_database(
        start_server: Callable[..., RunningServer]) -> None:
    first = start_server()
    made = first.client().assistants.create("review", name="shared")
    second = start_server(db=first.db).client()
    assert second.assistants.get(made["assistant_id"]) == made
    second.assistants.update(made["assistant_id"], name="changed")
    assert first.client().assistants.get(made["assistant_id"])["version"] == 2


def test_concurrent_updates_each_make_their_own_version(sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("steps")["assistant_id"]
    with ThreadPoolExecutor(max_workers=6) as pool:
        versions = list(pool.map(
            lambda i: sdk.assistants.update(aid, metadata={f"k{i}": i})["version"],
            range(12)))
    assert sorted(versions) == list(range(2, 14))
    assert len(sdk.assistants.get_versions(aid, limit=100)) == 13


def test_another_tenants_assistants_look_missing(
        start_server: Callable[..., RunningServer]) -> None:
    running = start_server(api_keys={"a": "key-a", "b": "key-b"})
    a, b = running.client("key-a"), running.client("key-b")
    made = a.assistants.create("review", metadata={"owner": "a"})
    assert _status(lambda: b.assistants.get(made["assistant_id"])) == 404
    assert _status(lambda: b.runs.wait(None, made["assistant_id"], input={})) == 404
    assert b.assistants.search(metadata={"owner": "a"}) == []
    mine = b.assistants.create("review", assistant_id=made["assistant_id"])
    assert mine["assistant_id"] == made["assistant_id"] and mine["metadata"] == {}
    assert a.assistants.get(made["assistant_id"]) == made


def test_drawings_schemas_and_subgraphs_of_every_graph_answer(
        sdk: SyncLangGraphClient) -> None:
    for own in sdk.assistants.search(limit=100):
        drawn = sdk.assistants.get_graph(own["assistant_id"])
        assert drawn["nodes"][0] == {"id": "__start__", "type": "runnable",
                                     "data": {"name": "__start__"}}
        assert {"id": "__end__"} in drawn["nodes"]
        schemas = sdk.assistants.get_schemas(own["assistant_id"])
        assert schemas["graph_id"] == own["graph_id"] and schemas["config_schema"] == {}
        assert schemas["state_schema"]["type"] == "object"
        assert sdk.assistants.get_subgraphs(own["assistant_id"], recurse=True) == {}
