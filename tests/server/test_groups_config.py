"""Review groups from the server's config (issue 14): "hitlgraph": {"review": {"groups":
{"finance": ["acme/alice"]}}} in langgraph.json (or ServerSettings.review_groups) gives the
API keys' principals their groups, checked when the server starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer
from _policy_app import policy_app

from hitlgraph.server import ServerSettings, create_app
from hitlgraph.server.config import ConfigError

KEYS = {"acme/alice": "config-key-alice", "acme/bob": "config-key-bob"}


def _config(tmp_path: Path, review: Any) -> Path:
    return policy_app(tmp_path / "config_app", hitlgraph={"api_keys": KEYS, "review": review})


def test_groups_in_langgraph_json_reach_the_principals(
        start_server: Callable[..., RunningServer], tmp_path: Path) -> None:
    server = start_server(config=_config(tmp_path, {"groups": {"finance": ["acme/alice"]}}))
    with httpx.Client(base_url=server.url, headers={"x-api-key": KEYS["acme/bob"]},
                      timeout=30) as bob, \
            httpx.Client(base_url=server.url, headers={"x-api-key": KEYS["acme/alice"]},
                         timeout=30) as alice:
        thread = bob.post("/threads", json={}).json()["thread_id"]
        done = bob.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "policy", "input": {"ask": {"group": "finance"}}}).json()
        path = f"/threads/{thread}/interrupts/{done['__interrupt__'][0]['id']}/claim"
        assert bob.post(path, json={}).status_code == 403
        assert alice.post(path, json={}).status_code == 200


@pytest.mark.parametrize(("review", "message"), [
    ({"group": {}}, r'"hitlgraph.review" in .* must be \{"groups"'),
    ({"groups": {"finance": "acme/alice"}}, r"members of group 'finance' must be a list"),
    ({"groups": {"finance": ["acme/alicia"]}}, r"lists 'acme/alicia', which has no API key"),
])
def test_bad_review_config_stops_the_server_naming_the_value(
        tmp_path: Path, review: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app(ServerSettings(config=_config(tmp_path, review), db=tmp_path / "x.sqlite",
                                  read_env=False))
