"""Principals within a tenant: an API key names "tenant/user", the users of one tenant share
its threads, and each answer is logged as the person who gave it (the decision log's `by`,
the run's "decided_by"), never as a name the client sends."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from _harness import RunningServer
from _review_http import answer, keyed_http, ok, paused_thread
from starlette.requests import Request

from hitlgraph.server.auth import ApiKeyAuth, Principal, parse_api_keys, parse_principal

ALICE, BOB, CAROL, TEAM = "key-of-alice", "key-of-bob", "key-of-carol", "key-of-team"
KEYS = {"acme/alice": ALICE, "acme/bob": BOB, "acme": TEAM, "other/carol": CAROL}


def test_two_users_of_one_tenant_are_logged_by_name(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(api_keys=KEYS)
    with keyed_http(server, ALICE) as alice, keyed_http(server, BOB) as bob, \
            keyed_http(server, TEAM) as team, keyed_http(server, CAROL) as carol:
        first, second, third = paused_thread(alice), paused_thread(alice), paused_thread(bob)
        # Bob answers a thread Alice started (one tenant, shared threads), through the SDK.
        server.client(api_key=BOB).runs.wait(first, "review",
                                             command={"resume": {"approved": True}})
        ok(answer(alice, second, {"approved": False}))
        ok(answer(team, third, {"approved": True}))
        by_thread = {d["thread_id"]: d["by"] for d in ok(bob.post("/decisions/search",
                                                                   json={}))}
        assert by_thread == {first: "bob", second: "alice", third: "acme"}
        assert [d["thread_id"] for d in ok(team.post("/decisions/search",
                                                      json={"by": "alice"}))] == [second]
        [logged] = ok(alice.get(f"/threads/{first}/decisions"))
        assert (logged["by"], logged["answer"]) == ("bob", {"approved": True})
        [run] = [r for r in ok(alice.get(f"/threads/{first}/runs"))
                 if r["kwargs"].get("command")]
        assert run["kwargs"]["decided_by"] == "bob"
        # Another tenant sees none of it, whoever its user is.
        assert carol.get(f"/threads/{first}/decisions").status_code == 404
        assert ok(carol.post("/decisions/search", json={"by": "bob"})) == []


async def _dana(request: Request) -> Principal | None:
    return Principal("acme", "dana") if request.headers.get("x-api-key") == "dana" else None


def test_an_auth_callable_may_return_a_principal(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(auth=_dana)
    with keyed_http(server, "dana") as dana:
        thread = paused_thread(dana)
        ok(answer(dana, thread, {"approved": True}))
        [logged] = ok(dana.get(f"/threads/{thread}/decisions"))
        assert logged["by"] == "dana"
    assert httpx.get(f"{server.url}/threads/{thread}", timeout=30).status_code == 401


def test_principal_names_parse_and_bad_ones_are_refused_naming_them() -> None:
    assert parse_principal("acme") == Principal("acme")
    assert parse_principal("acme/alice") == Principal("acme", "alice")
    assert Principal("acme").decider == "acme" and Principal("").decider is None
    assert parse_api_keys("acme/alice:k1,acme:k2,k3") == {"acme/alice": "k1", "acme": "k2",
                                                         "default": "k3"}
    for bad in ("acme/", "/alice", "acme/al/ice", "", " /x"):
        with pytest.raises(ValueError, match=repr(bad)):
            parse_principal(bad)
    with pytest.raises(ValueError, match="'acme/al/ice'"):
        ApiKeyAuth({"acme/al/ice": "k"})
