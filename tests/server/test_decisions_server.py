"""The decision log through the server: GET /threads/{id}/decisions lists who answered (the
API key's tenant, never a name the client sends), what update_state resolved; tenant-scoped.
Two API keys decide, through the SDK and plain HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from _harness import RunningServer
from _review_http import answer, keyed_http, ok, paused_thread

KEY_A = "decisions-key-a"
KEY_B = "decisions-key-b"


def test_two_keys_decide_and_each_sees_its_own(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(api_keys={"team-a": KEY_A, "team-b": KEY_B})
    with keyed_http(server, KEY_A) as a, keyed_http(server, KEY_B) as b:
        thread_a, thread_b = paused_thread(a), paused_thread(b)
        sdk_b = server.client(api_key=KEY_B)
        sdk_b.runs.wait(thread_b, "review", command={"resume": {"approved": False}})
        ok(answer(a, thread_a, {"approved": True}))
        [mine] = ok(a.get(f"/threads/{thread_a}/decisions"))
        [theirs] = ok(b.get(f"/threads/{thread_b}/decisions"))
        assert (mine["thread_id"], mine["by"], mine["answer"], mine["node"], mine["outcome"]) \
            == (thread_a, "team-a", {"approved": True}, "review", "answered")
        assert (theirs["thread_id"], theirs["by"], theirs["answer"]) == (
            thread_b, "team-b", {"approved": False})
        assert b.get(f"/threads/{thread_a}/decisions").status_code == 404
        assert ok(a.get(f"/threads/{thread_a}/decisions",
                         params={"since": "2999-01-01T00:00:00Z"})) == []
        assert a.get(f"/threads/{thread_a}/decisions",
                     params={"since": "soon"}).status_code == 422
        found = ok(a.post("/decisions/search", json={}))
        assert [(d["thread_id"], d["by"]) for d in found] == [(thread_a, "team-a")]
        assert ok(b.post("/decisions/search", json={"by": "team-b"}))[0]["thread_id"] \
            == thread_b
        assert ok(a.post("/decisions/search", json={"thread_id": thread_b})) == []
        assert ok(a.post("/decisions/search", json={"by": "team-b"})) == []
        assert a.post("/decisions/search", json={"limit": 0}).status_code == 422


@pytest.mark.parametrize("principal", ["team-a", "acme/alice"],
                         ids=["a tenant's key", "a user's key"])
def test_a_name_sent_by_the_client_is_refused(
        start_server: Callable[..., RunningServer], principal: str) -> None:
    server = start_server(api_keys={principal: KEY_A})
    with keyed_http(server, KEY_A) as a:
        thread = paused_thread(a)
        refused = answer(a, thread, {"approved": True}, by="someone-else")
        assert refused.status_code == 422
        assert ok(a.get(f"/threads/{thread}/decisions")) == []


def test_update_state_over_the_question_is_logged_resolved(server: RunningServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = paused_thread(http)
        ok(http.post(f"/threads/{thread}/state", json={
            "values": {"approved": True}, "as_node": "review"}))
        [found] = ok(http.get(f"/threads/{thread}/decisions"))
        assert (found["outcome"], found["node"], found["by"], found["answer"]) == (
            "resolved", "review", None, None)
