"""GET /inbox/pending, the inbox page's one data route: the saver's index of open interrupts
(policy, deadline, assignee) for the caller's tenant only, in deadline order, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import test_server_inbox as inbox
from _harness import RunningServer
from test_server_inbox import _interrupted

inbox_config = inbox.inbox_config

KEYS = {"acme": "key-acme", "other": "key-other"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_the_pending_route_lists_the_callers_tenants_interrupts_by_deadline(
        start_server: Callable[..., RunningServer], inbox_config: Path) -> None:
    server = start_server(config=inbox_config, api_keys=KEYS)
    acme = server.client(api_key="key-acme")
    later = _interrupted(acme, "policy", {"ask": {"assignee": "ann", "expires_in": 600}})
    plain = _interrupted(acme, "review", {"topic": "no policy"})
    sooner = _interrupted(acme, "policy", {"ask": {"group": "ops", "expires_in": 60}})
    theirs = _interrupted(server.client(api_key="key-other"), "review", {"topic": "x"})
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/inbox/pending").status_code == 401
        mine = http.get("/inbox/pending", headers={"x-api-key": "key-acme"}).json()
        other = http.get("/inbox/pending", headers={"x-api-key": "key-other"}).json()
        first = http.get("/inbox/pending?limit=1", headers={"x-api-key": "key-acme"}).json()
        for bad in ("0", "1001", "x"):
            assert http.get(f"/inbox/pending?limit={bad}", headers={"x-api-key": "key-acme"}
                            ).status_code == 422, bad
    assert [r["thread_id"] for r in mine] == [sooner, later, plain]
    assert [r["thread_id"] for r in first] == [sooner]
    assert [r["thread_id"] for r in other] == [theirs]
    by_thread = {r["thread_id"]: r for r in mine}
    record = by_thread[later]
    assert (record["node"], record["graph_id"], record["assignee"], record["group"],
            record["approvals"]) == ("ask_with_policy", "policy", "ann", None, 1)
    assert record["policy"]["expires_in"] == 600
    assert record["expires_at"] > record["created_at"]
    assert by_thread[sooner]["group"] == "ops"
    assert (by_thread[plain]["policy"], by_thread[plain]["expires_at"]) == (None, None)


def test_without_authentication_the_pending_route_lists_every_interrupt(
        start_server: Callable[..., RunningServer], inbox_config: Path) -> None:
    server = start_server(config=inbox_config)
    thread_id = _interrupted(server.client(), "review", {"topic": "open"})
    [record] = httpx.get(f"{server.url}/inbox/pending", timeout=30).json()
    assert (record["thread_id"], record["node"], record["policy"]) == (thread_id, "review", None)
