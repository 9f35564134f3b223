"""GET /inbox/pending shows the principals a k-of-n interrupt counts so far
(approvals_given, from the saver's index); a second answer from the same principal is 409
and counts nothing. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from _harness import RunningServer

KEYS = {"acme/alice": "given-key-alice", "acme/bob": "given-key-bob"}


BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _server(start_server: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    folder = tmp_path / "given_app"
    folder.mkdir()
    shutil.copyfile(Path(__file__).with_name("inbox_graphs.py"), folder / "inbox_graphs.py")
    config = folder / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"policy": "./inbox_graphs.py:policy_builder"}}),
                      encoding="utf-8")
    return start_server(config=config, api_keys=KEYS)


@BOTH
def test_the_inbox_lists_who_approved_so_far(start_server: Callable[..., RunningServer],
                                            tmp_path: Path) -> None:
    server = _server(start_server, tmp_path)
    with httpx.Client(base_url=server.url, headers={"x-api-key": KEYS["acme/alice"]},
                      timeout=30) as alice:
        thread = alice.post("/threads", json={}).json()["thread_id"]
        run = {"assistant_id": "policy"}
        alice.post(f"/threads/{thread}/runs/wait", json={**run, "input": {"ask": {
            "approvals": 3}}})
        [asked] = alice.get("/inbox/pending").json()
        assert (asked["approvals"], asked["approvals_given"]) == (3, [])
        alice.post(f"/threads/{thread}/runs/wait", json={**run, "command": {"resume": "ok"}})
        [asked] = alice.get("/inbox/pending").json()
        assert asked["approvals_given"] == ["alice"]


@BOTH
def test_a_second_answer_from_the_same_principal_is_409_and_counts_nothing(
        start_server: Callable[..., RunningServer], tmp_path: Path) -> None:
    server = _server(start_server, tmp_path)
    run = {"assistant_id": "policy"}
    with httpx.Client(base_url=server.url, headers={"x-api-key": KEYS["acme/alice"]},
                      timeout=30) as alice, \
            httpx.Client(base_url=server.url, headers={"x-api-key": KEYS["acme/bob"]},
                         timeout=30) as bob:
        thread = alice.post("/threads", json={}).json()["thread_id"]
        alice.post(f"/threads/{thread}/runs/wait", json={**run, "input": {"ask": {
            "approvals": 2}}})
        alice.post(f"/threads/{thread}/runs/wait", json={**run, "command": {"resume": "ok"}})
        again = alice.post(f"/threads/{thread}/runs/wait",
                           json={**run, "command": {"resume": "ok"}})
        assert again.status_code == 409, again.text
        assert "'alice' already answered" in again.json()["detail"]
        [asked] = alice.get("/inbox/pending").json()
        assert asked["approvals_given"] == ["alice"]
        bob.post(f"/threads/{thread}/runs/wait", json={**run, "command": {"resume": "ok"}})
        assert alice.get("/inbox/pending").json() == []
        assert alice.get(f"/threads/{thread}").json()["status"] == "idle"
