"""GET /inbox/pending shows the principals a k-of-n interrupt counts so far
(approvals_given, from the saver's index), on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from _harness import RunningServer

KEYS = {"acme/alice": "given-key-alice", "acme/bob": "given-key-bob"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_the_inbox_lists_who_approved_so_far(start_server: Callable[..., RunningServer],
                                            tmp_path: Path) -> None:
    folder = tmp_path / "given_app"
    folder.mkdir()
    shutil.copyfile(Path(__file__).with_name("inbox_graphs.py"), folder / "inbox_graphs.py")
    config = folder / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"policy": "./inbox_graphs.py:policy_builder"}}),
                      encoding="utf-8")
    server = start_server(config=config, api_keys=KEYS)
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
