"""Assistants: the same flows at langgraph dev and hitlgraph serve, then the places where
hitlgraph serve differs on purpose (each checked at both servers where that leaves the shared
servers as they were).

Both servers live for the whole session, so each flow tags what it makes with metadata of
its own and searches by it: assistants other tests make stay out of its answers."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from _compat import Observed, Pair, at_both, status_of
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient


def _tag() -> dict[str, str]:
    """Metadata only this flow's assistants carry (a new value at each server: masked)."""
    return {"flow": str(uuid.uuid4())}


def _crud(client: SyncLangGraphClient, seen: Observed) -> None:
    tag = _tag()
    made = seen.call("create", client.assistants.create, "review",
                     config={"tags": ["t"], "configurable": {"model": "m1"}},
                     metadata={**tag, "team": "a"}, name="Reviewer", description="first")
    aid = made["assistant_id"]
    seen.call("get", client.assistants.get, aid)
    seen.call("create again, do_nothing", client.assistants.create, "steps",
              assistant_id=aid, if_exists="do_nothing", name="other")
    seen.call("create again, raise", client.assistants.create, "review", assistant_id=aid)
    seen.call("update metadata and name", client.assistants.update, aid,
              metadata={"team": "b"}, name="Renamed")
    seen.call("update description", client.assistants.update, aid, description="second")
    seen.call("versions", client.assistants.get_versions, aid)
    seen.call("versions by metadata, paged", client.assistants.get_versions, aid,
              metadata={"team": "b"}, limit=1, offset=1)
    seen.call("set latest 1", client.assistants.set_latest, aid, 1)
    seen.call("get after set latest", client.assistants.get, aid)
    seen.call("update after set latest", client.assistants.update, aid, graph_id="steps")
    seen.call("versions after", lambda: [v["version"] for v in
                                         client.assistants.get_versions(aid)])


def test_create_get_update_versions_and_set_latest_observe_the_same(pair: Pair) -> None:
    pair.compare(_crud)


def _config_and_context(client: SyncLangGraphClient, seen: Observed) -> None:
    tag = _tag()
    seen.call("create with context", client.assistants.create, "echo",
              context={"tone": "dry"}, metadata=tag)
    made = seen.call("create with configurable", client.assistants.create, "echo",
                     config={"configurable": {"model": "m1"}}, metadata=tag)
    aid = made["assistant_id"]
    seen.call("update the context", client.assistants.update, aid, context={"tone": "warm"})
    seen.call("update the config", client.assistants.update, aid,
              config={"recursion_limit": 7, "configurable": {"model": "m2"}})
    seen.call("create with both", client.assistants.create, "echo",
              config={"configurable": {"model": "x"}}, context={"tone": "x"})
    seen.call("update with both", client.assistants.update, aid,
              config={"configurable": {"model": "x"}}, context={"tone": "x"})


def test_config_and_context_are_kept_equal_alike(pair: Pair) -> None:
    pair.compare(_config_and_context)


def _search_and_count(client: SyncLangGraphClient, seen: Observed) -> None:
    tag = _tag()
    for name, graph in (("Bravo", "review"), ("alpha", "steps"), ("Charlie", "steps")):
        seen.call(f"create {name}", client.assistants.create, graph, name=name,
                  metadata={**tag, "graph": graph})
    seen.call("search by metadata", client.assistants.search, metadata=tag)
    seen.call("search by metadata and graph", client.assistants.search,
              metadata=tag, graph_id="steps")
    seen.call("search by name", client.assistants.search, metadata=tag, name="ARL")
    for sort_by in ("name", "created_at", "updated_at", "graph_id"):
        for order in ("asc", "desc"):
            seen.call(f"sorted by {sort_by} {order}", lambda s=sort_by, o=order: [
                a["name"] for a in client.assistants.search(metadata=tag, sort_by=s,
                                                            sort_order=o)])
    seen.call("asc without sort_by", lambda: [a["name"] for a in client.assistants.search(
        metadata=tag, sort_order="asc")])
    seen.call("a page, selected", client.assistants.search, metadata=tag, limit=2, offset=1,
              select=["name", "graph_id"])
    seen.call("a page as object", client.assistants.search, metadata=tag, limit=2,
              select=["name"], response_format="object")
    seen.call("graph's own assistants", client.assistants.search, graph_id="steps",
              metadata={"created_by": "system"})
    seen.call("count", client.assistants.count, metadata=tag)
    seen.call("count by graph", client.assistants.count, metadata=tag, graph_id="steps")
    seen.call("count by name", client.assistants.count, metadata=tag, name="a")
    seen.call("search an unknown graph", client.assistants.search, graph_id="no-such-graph")
    seen.call("count an unknown graph", client.assistants.count, graph_id="no-such-graph")


def test_search_and_count_answer_alike(pair: Pair) -> None:
    pair.compare(_search_and_count)


def _runs(client: SyncLangGraphClient, seen: Observed) -> None:
    tag = _tag()
    by_config = seen.call("create by config", client.assistants.create, "echo",
                          config={"configurable": {"model": "m1", "shared": "assistant"}},
                          metadata={**tag, "created_by": "me"})["assistant_id"]
    by_context = seen.call("create by context", client.assistants.create, "echo",
                           context={"tone": "dry", "shared": "assistant"},
                           metadata=tag)["assistant_id"]
    for label, aid in (("config", by_config), ("context", by_context)):
        seen.call(f"{label}: its values reach the graph", client.runs.wait, None, aid,
                  input={"asked": "q"})
        seen.call(f"{label}: the run's config wins", client.runs.wait, None, aid,
                  input={"asked": "q"}, config={"configurable": {"shared": "run"}})
        seen.call(f"{label}: the run's context wins", client.runs.wait, None, aid,
                  input={"asked": "q"}, context={"shared": "run"})
        seen.call(f"{label}: both in a run", client.runs.wait, None, aid,
                  input={"asked": "q"}, config={"configurable": {"shared": "run"}},
                  context={"shared": "run"})
        tid = seen.call("create thread", client.threads.create, metadata={"mine": 1})[
            "thread_id"]
        run = seen.run(f"{label}: background run", client.runs.create, tid, aid,
                       input={"asked": "q"}, metadata={"origin": "compat"})
        seen.call(f"{label}: join", client.runs.join, tid, run["run_id"])
        seen.run(f"{label}: the run", client.runs.get, tid, run["run_id"])
        seen.call(f"{label}: the thread's metadata", lambda t=tid: client.threads.get(t)[
            "metadata"])
        seen.call(f"{label}: the thread's state", client.threads.get_state, tid)
    seen.call("an updated assistant runs its new version", client.assistants.update,
              by_config, config={"configurable": {"model": "m2"}})
    seen.call("run the update", client.runs.wait, None, by_config, input={"asked": "q"})
    # (Its context differs: test_set_latest_restores_the_versions_context_and_graph.)
    seen.call("set latest 1", lambda: {k: v for k, v in client.assistants.set_latest(
        by_config, 1).items() if k != "context"})
    seen.call("run version 1", client.runs.wait, None, by_config, input={"asked": "q"})
    seen.call("run an unknown assistant", client.runs.wait, None, str(uuid.uuid4()),
              input={"asked": "q"})


def test_a_created_assistants_config_and_context_reach_its_runs_alike(pair: Pair) -> None:
    pair.compare(_runs)


def _sorted_edges(drawn: dict[str, Any]) -> dict[str, Any]:
    """A drawing with its edges in one order: LangGraph's server lists them in an order of
    its own that says nothing."""
    return {**drawn, "edges": sorted(drawn["edges"], key=json.dumps)}


def _graphs(client: SyncLangGraphClient, seen: Observed) -> None:
    made = seen.call("create", client.assistants.create, "nested", metadata=_tag())
    for graph in ("review", "echo", "nested"):
        aid = client.assistants.search(graph_id=graph, metadata={"created_by": "system"})[0][
            "assistant_id"]
        seen.call(f"{graph}: drawing", lambda a=aid: _sorted_edges(client.assistants.get_graph(
            a)))
        seen.call(f"{graph}: schemas", client.assistants.get_schemas, aid)
        seen.call(f"{graph}: subgraphs", client.assistants.get_subgraphs, aid)
        seen.call(f"{graph}: subgraphs, recursing", client.assistants.get_subgraphs, aid,
                  recurse=True)
        seen.call(f"{graph}: subgraph 'inner'", client.assistants.get_subgraphs, aid,
                  namespace="inner")
    aid = made["assistant_id"]
    seen.call("created: drawing", lambda: _sorted_edges(client.assistants.get_graph(aid)))
    seen.call("created: schemas", client.assistants.get_schemas, aid)
    seen.call("created: subgraphs", client.assistants.get_subgraphs, aid)
    missing = str(uuid.uuid4())
    seen.call("unknown: drawing", client.assistants.get_graph, missing)
    seen.call("unknown: schemas", client.assistants.get_schemas, missing)


def test_drawings_schemas_and_subgraphs_answer_alike(pair: Pair) -> None:
    pair.compare(_graphs)


def _delete(client: SyncLangGraphClient, seen: Observed) -> None:
    made = seen.call("create", client.assistants.create, "review", metadata=_tag())
    aid = made["assistant_id"]
    tid = client.threads.create()["thread_id"]
    seen.call("run to the interrupt", client.runs.wait, tid, aid, input={"topic": "t"})
    kept = client.threads.create()["thread_id"]
    seen.call("delete", client.assistants.delete, aid)
    seen.call("get", client.assistants.get, aid)
    seen.call("versions", client.assistants.get_versions, aid)
    seen.call("update", client.assistants.update, aid, name="x")
    seen.call("set latest", client.assistants.set_latest, aid, 1)
    seen.call("delete again", client.assistants.delete, aid)
    seen.call("run it", client.runs.wait, None, aid, input={"topic": "t"})
    seen.call("the thread it ran stays", lambda: client.threads.get(tid)["status"])
    doomed = seen.call("create another", client.assistants.create, "review",
                       metadata=_tag())["assistant_id"]
    on_doomed = client.threads.create()["thread_id"]
    seen.call("run the other", client.runs.wait, on_doomed, doomed, input={"topic": "t"})
    seen.call("delete with its threads", client.assistants.delete, doomed,
              delete_threads=True)
    seen.call("its thread is gone", client.threads.get, on_doomed)
    seen.call("another thread stays", lambda: client.threads.get(kept)["status"])


def test_delete_answers_alike(pair: Pair) -> None:
    pair.compare(_delete)


# -- deliberate differences ----------------------------------------------------------------------
# Each leaves both servers as it found them, so that later flows still see equal servers.



def test_set_latest_restores_the_versions_context_and_graph(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> tuple[Any, ...]:
        aid = client.assistants.create("echo", context={"model": "m1"},
                                       metadata=_tag())["assistant_id"]
        client.assistants.update(aid, graph_id="review", context={"model": "m2"})
        back = client.assistants.set_latest(aid, 1)
        client.assistants.delete(aid)
        return back["graph_id"], back["config"], back["context"]

    ours, theirs = at_both(pair, flow)
    # LangGraph's server restores config but keeps the newer graph and context.
    assert theirs == ("review", {"configurable": {"model": "m1"}}, {"model": "m2"})
    assert ours == ("echo", {"configurable": {"model": "m1"}}, {"model": "m1"})


@pytest.mark.parametrize(("body", "why"), [
    ({"graph_id": "echo", "config": {"configurables": {"model": "m1"}}}, "config key"),
    ({"graph_id": "echo", "metadata": {"assistant_id": "mine"}}, "reserved metadata"),
    ({"graph_id": "echo", "colour": "blue"}, "unknown field"),
])
def test_a_create_mistake_is_422(pair: Pair, body: dict[str, Any], why: str) -> None:
    def flow(client: SyncLangGraphClient) -> int:
        try:
            made = client.http.post("/assistants", json=body)
        except httpx.HTTPStatusError as exc:
            return exc.response.status_code
        client.assistants.delete(made["assistant_id"])
        return 200

    ours, theirs = at_both(pair, flow)
    assert theirs == 200, why  # LangGraph keeps the key, or drops it silently
    assert ours == 422, why


def test_set_latest_without_a_version_is_422(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> int:
        aid = client.assistants.create("echo", metadata=_tag())["assistant_id"]
        status = status_of(lambda: client.http.post(f"/assistants/{aid}/latest", json={}))
        client.assistants.delete(aid)
        return status

    ours, theirs = at_both(pair, flow)
    assert theirs == 404  # "Version None not found"
    assert ours == 422


def test_a_graphs_own_assistant_cannot_be_updated_or_deleted(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> int:
        aid = client.assistants.search(graph_id="echo", metadata={"created_by": "system"})[0][
            "assistant_id"]
        status = status_of(lambda: client.assistants.update(aid, description="changed"))
        if status == 200:  # back to version 1, as the other server has it
            client.assistants.set_latest(aid, 1)
        return status

    ours, theirs = at_both(pair, flow)
    assert theirs == 200  # LangGraph's server makes a version 2 of it
    assert ours == 409
    # Deleting one at LangGraph's server would leave its graph without an assistant for
    # the rest of the session's tests (runs by graph id answer 404 until it restarts), so
    # only ours is asked here.
    with get_sync_client(url=pair.hitlgraph, timeout=30) as client:
        assert status_of(lambda: client.assistants.delete("echo")) == 409
        assert client.assistants.get("echo")["version"] == 1


def test_a_graph_id_names_its_assistant_on_every_route(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> list[int]:
        return [status_of(lambda: client.assistants.get("steps")),
                status_of(lambda: client.assistants.get_schemas("steps")),
                status_of(lambda: client.assistants.get_versions("steps"))]

    ours, theirs = at_both(pair, flow)
    assert theirs == [422, 422, 422]  # LangGraph: a graph id only in runs and drawings
    assert ours == [200, 200, 200]
