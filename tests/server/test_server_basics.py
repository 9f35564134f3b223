"""The server speaks the LangGraph server API: health, assistants, threads."""

from __future__ import annotations

import httpx
from _harness import GRAPHS, RunningServer
from langgraph_sdk.client import SyncLangGraphClient


def test_ok_answers_true_and_openapi_is_served(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/ok").json() == {"ok": True}
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/threads/{thread_id}/runs/wait" in spec["paths"]


def test_each_graph_is_an_assistant_found_by_id_or_graph_id(client: SyncLangGraphClient) -> None:
    found = client.assistants.search()
    assert sorted(a["graph_id"] for a in found) == sorted(GRAPHS)
    review = next(a for a in found if a["graph_id"] == "review")
    assert client.assistants.get(review["assistant_id"]) == review
    assert client.assistants.get("review") == review
    drawn = client.assistants.get_graph("review")
    assert {n["id"] for n in drawn["nodes"]} >= {"write_draft", "review", "publish"}
    schemas = client.assistants.get_schemas("review")
    assert "topic" in schemas["state_schema"]["properties"]
