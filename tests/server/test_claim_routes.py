"""POST /threads/{id}/interrupts/{interrupt_id}/claim | release | reassign: the caller (the API
key's principal) holds, lets go of, or hands on an open interrupt; 409 when someone else holds
it, 404 for what is not open and for another tenant's thread; each change in the decision log.
On a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from _harness import RunningServer

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
KEYS = {"acme/alice": "claim-key-alice", "acme/bob": "claim-key-bob",
        "other": "claim-key-other"}
ASK = {"assistant_id": "review", "input": {"topic": "claims"}}


def _as(server: RunningServer, who: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"x-api-key": KEYS[who]}, timeout=30)


def _paused(http: httpx.Client) -> tuple[str, str]:
    thread = str(http.post("/threads", json={}).json()["thread_id"])
    [asked] = http.post(f"/threads/{thread}/runs/wait", json=ASK).json()["__interrupt__"]
    return thread, str(asked["id"])


@BOTH
def test_claim_release_reassign_by_the_callers(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(api_keys=KEYS)
    with _as(server, "acme/alice") as alice, _as(server, "acme/bob") as bob:
        thread, iid = _paused(alice)
        path = f"/threads/{thread}/interrupts/{iid}"
        claimed = alice.post(f"{path}/claim", json={"reason": "mine"})
        assert claimed.status_code == 200, claimed.text
        assert (claimed.json()["outcome"], claimed.json()["by"], claimed.json()["thread_id"]) \
            == ("claimed", "alice", thread)
        taken = bob.post(f"{path}/claim", json={})
        assert taken.status_code == 409 and "'alice' holds it" in taken.json()["detail"]
        assert bob.post(f"{path}/release", json={}).status_code == 409
        handed = bob.post(f"{path}/reassign", json={"to": "bob"})
        assert handed.status_code == 200 and handed.json()["outcome"] == "reassigned"
        assert alice.post(f"{path}/claim", json={}).status_code == 409
        assert bob.post(f"{path}/release", json={}).json()["outcome"] == "released"
        assert alice.post(f"{path}/claim", json={}).status_code == 200
        log = alice.get(f"/threads/{thread}/decisions").json()
        assert [(d["outcome"], d["by"]) for d in reversed(log)] == [
            ("claimed", "alice"), ("reassigned", "bob"), ("released", "bob"),
            ("claimed", "alice")]


@BOTH
def test_another_tenant_and_closed_interrupts_are_not_found(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server(api_keys=KEYS)
    with _as(server, "acme/alice") as alice, _as(server, "other") as other:
        thread, iid = _paused(alice)
        path = f"/threads/{thread}/interrupts/{iid}"
        stranger = other.post(f"{path}/claim", json={})
        assert stranger.status_code == 404 and thread in stranger.json()["detail"]
        assert alice.post(f"/threads/{thread}/interrupts/nope/claim", json={}).status_code \
            == 404
        alice.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "review", "command": {"resume": {"approved": True}}})
        closed = alice.post(f"{path}/claim", json={})
        assert closed.status_code == 404 and "not open" in closed.json()["detail"]


def test_bodies_and_ids_are_checked(start_server: Callable[..., RunningServer]) -> None:
    server = start_server(api_keys=KEYS)
    with _as(server, "acme/alice") as alice:
        thread, iid = _paused(alice)
        path = f"/threads/{thread}/interrupts/{iid}"
        assert alice.post(f"{path}/reassign", json={}).status_code == 422
        assert alice.post(f"{path}/reassign", json={"to": ""}).status_code == 422
        assert alice.post(f"{path}/claim", json={"by": "mallory"}).status_code == 422
        assert alice.post(f"/threads/not-a-uuid/interrupts/{iid}/claim",
                          json={}).status_code == 422


def test_without_authentication_the_caller_is_anonymous(
        start_server: Callable[..., RunningServer]) -> None:
    server = start_server()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread, iid = _paused(http)
        claimed = http.post(f"/threads/{thread}/interrupts/{iid}/claim", json={})
        assert claimed.status_code == 200 and claimed.json()["by"] == "anonymous"
