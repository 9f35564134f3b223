"""Review groups in the server (issue 14): the authenticated principal carries its groups (from
ApiKeyAuth's groups, or a Principal an auth callable returns), and a claim of an interrupt
asked for a group by someone outside it is refused with 403, writing nothing. On a SQLite file
and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from _policy_app import paused_at_policy, policy_app
from inbox_graphs import PolicyState, ask_with_policy
from starlette.requests import Request

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.server._typed_answers import approver_refusal
from hitlgraph.server.auth import ApiKeyAuth, Principal, checked, parse_groups

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
KEYS = {"acme/alice": "groups-key-alice", "acme/bob": "groups-key-bob",
        "acme/carol": "groups-key-carol"}
GROUPS = {"finance": ["acme/alice", "acme/carol"], "ops": ["acme/bob"]}


@pytest.fixture
def policy_config(tmp_path: Path) -> Path:
    return policy_app(tmp_path / "groups_app")


def _as(server: RunningServer, key: str, header: str = "x-api-key") -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={header: key}, timeout=30)


@BOTH
def test_only_members_claim_an_interrupt_asked_for_their_group(
        start_server: Callable[..., RunningServer], policy_config: Path) -> None:
    server = start_server(config=policy_config, auth=ApiKeyAuth(KEYS, groups=GROUPS))
    with _as(server, KEYS["acme/bob"]) as bob, _as(server, KEYS["acme/alice"]) as alice:
        thread, iid = paused_at_policy(bob, group="finance")
        path = f"/threads/{thread}/interrupts/{iid}"
        refused = bob.post(f"{path}/claim", json={})
        assert refused.status_code == 403, refused.text
        assert "'bob' cannot claim" in refused.json()["detail"]
        assert "it is for group 'finance'" in refused.json()["detail"]
        assert alice.get(f"/threads/{thread}/decisions").json() == []
        claimed = alice.post(f"{path}/claim", json={})
        assert claimed.status_code == 200 and claimed.json()["by"] == "alice"
        # reassigning stays open to anyone; a claim of an interrupt for no group too
        other, other_iid = paused_at_policy(bob, expires_in=600)
        assert bob.post(f"/threads/{other}/interrupts/{other_iid}/claim",
                        json={}).status_code == 200


def _bearer(request: Request) -> Principal | None:
    """An auth callable naming the caller's groups itself."""
    token = request.headers.get("authorization", "")
    return {"Bearer ann": Principal("acme", "ann", frozenset({"finance"})),
            "Bearer ben": Principal("acme", "ben", frozenset())}.get(token)


def test_an_auth_callable_gives_the_principal_its_groups(
        start_server: Callable[..., RunningServer], policy_config: Path) -> None:
    server = start_server(config=policy_config, auth=_bearer)
    with _as(server, "Bearer ben", "authorization") as ben, \
            _as(server, "Bearer ann", "authorization") as ann:
        thread, iid = paused_at_policy(ben, group="finance")
        path = f"/threads/{thread}/interrupts/{iid}/claim"
        assert ben.post(path, json={}).status_code == 403
        assert ann.post(path, json={}).json()["by"] == "ann"


def test_claims_are_not_checked_where_the_auth_layer_keeps_no_groups(
        start_server: Callable[..., RunningServer], policy_config: Path) -> None:
    server = start_server(config=policy_config, auth=ApiKeyAuth(KEYS))
    with _as(server, KEYS["acme/bob"]) as bob:
        thread, iid = paused_at_policy(bob, group="finance")
        claimed = bob.post(f"/threads/{thread}/interrupts/{iid}/claim", json={})
        assert claimed.status_code == 200 and claimed.json()["by"] == "bob"


@pytest.mark.parametrize(("groups", "message"), [
    (["finance"], r"must map each review group to a list of principals"),
    ({"": ["acme/alice"]}, r"has the group name ''"),
    ({"finance": "acme/alice"}, r"members of group 'finance' must be a list"),
    ({"finance": ["acme/"]}, r"group 'finance' lists 'acme/'"),
    ({"finance": [7]}, r"group 'finance' lists 7"),
])
def test_bad_group_config_is_refused_naming_the_value(groups: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_groups(groups, "hitlgraph.review.groups")


def test_a_group_member_without_a_key_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match=r"group 'finance' lists 'acme/alic', which has no "
                                         r"API key"):
        ApiKeyAuth(KEYS, groups={"finance": ["acme/alic"]})


def test_a_principals_groups_are_checked() -> None:
    assert checked(Principal("acme", "ann", ["finance"])).groups  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"groups of principal 'acme/ann' must be a set"):
        checked(Principal("acme", "ann", "finance"))  # type: ignore[arg-type]


def test_approver_refusal_names_who_may_answer() -> None:
    saver = InMemorySaver()
    builder = StateGraph(PolicyState).add_node("ask_with_policy", ask_with_policy)
    builder.add_edge(START, "ask_with_policy")
    builder.add_edge("ask_with_policy", END)
    app = builder.compile(checkpointer=saver)
    app.invoke({"ask": {"approvers": "finance"}}, {"configurable": {"thread_id": "t"}})
    [asked] = app.get_state({"configurable": {"thread_id": "t"}}).interrupts

    def refusal(resume: Any, by: str | None, member_of: frozenset[str] | None) -> str | None:
        return asyncio.run(approver_refusal(saver, "t", "t", resume, by, member_of))

    assert refusal("yes", "alice", frozenset({"finance"})) is None
    assert refusal({asked.id: "yes"}, "alice", frozenset({"finance"})) is None
    for by, groups in (("bob", frozenset({"ops"})), ("alice", None), (None, None)):
        found = refusal("yes", by, groups)
        assert found is not None and "Nothing ran and the thread still waits" in found
    assert "'bob' may not answer" in (refusal({asked.id: 1}, "bob", frozenset()) or "")
    assert refusal({"0" * 32: 1}, "bob", frozenset()) is None  # another interrupt's id
