"""Review groups at the server's door (issue 14): a resume from a caller outside the
interrupt's approvers (a list of principals, or a review group the caller is not in) answers
403 and queues nothing; a member's answer runs, the worker handing the engine the groups the
caller belonged to when the run was queued. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from _policy_app import POLICY, paused_at_policy, policy_app

from hitlgraph.server.auth import ApiKeyAuth

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
KEYS = {"acme/alice": "answers-key-alice", "acme/bob": "answers-key-bob",
        "acme/carol": "answers-key-carol"}
GROUPS = {"finance": ["acme/alice", "acme/carol"]}


@pytest.fixture
def policy_config(tmp_path: Path) -> Path:
    return policy_app(tmp_path / "answers_app")


def _as(server: RunningServer, who: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"x-api-key": KEYS[who]}, timeout=30)


def _paused(http: httpx.Client, **ask: Any) -> str:
    return paused_at_policy(http, **ask)[0]


def _answer(http: httpx.Client, thread: str, answer: Any) -> httpx.Response:
    return http.post(f"/threads/{thread}/runs/wait",
                     json={"assistant_id": POLICY, "command": {"resume": answer}})


@BOTH
@pytest.mark.parametrize("approvals", [1, 2])
def test_only_members_of_the_approvers_group_answer(
        start_server: Callable[..., RunningServer], policy_config: Path,
        approvals: int) -> None:
    server = start_server(config=policy_config, auth=ApiKeyAuth(KEYS, groups=GROUPS))
    with _as(server, "acme/alice") as alice, _as(server, "acme/bob") as bob, \
            _as(server, "acme/carol") as carol:
        thread = _paused(bob, approvers="finance", approvals=approvals)
        refused = _answer(bob, thread, "yes")
        assert refused.status_code == 403, refused.text
        assert "'bob' may not answer" in refused.json()["detail"]
        assert "members of group 'finance'" in refused.json()["detail"]
        assert bob.get(f"/threads/{thread}/decisions").json() == []
        assert [r["status"] for r in bob.get(f"/threads/{thread}/runs").json()] == ["success"]
        done = _answer(alice, thread, "yes")
        assert done.status_code == 200, done.text
        if approvals == 2:
            assert "__interrupt__" in done.json()
            done = _answer(carol, thread, "also yes")
            assert [d["by"] for d in done.json()["answer"]] == ["alice", "carol"]
        else:
            assert done.json()["answer"] == "yes"
        assert alice.get(f"/threads/{thread}").json()["status"] == "idle"


@BOTH
def test_listed_approvers_and_a_server_without_groups(
        start_server: Callable[..., RunningServer], policy_config: Path) -> None:
    server = start_server(config=policy_config, auth=ApiKeyAuth(KEYS))
    with _as(server, "acme/alice") as alice, _as(server, "acme/bob") as bob:
        listed = _paused(bob, approvers=["alice"])
        assert _answer(bob, listed, "no").status_code == 403
        assert _answer(alice, listed, "ok").json()["answer"] == "ok"
        grouped = _paused(bob, approvers="finance")
        refused = _answer(alice, grouped, "yes")
        assert refused.status_code == 403 and "'alice' may not answer" in refused.text
