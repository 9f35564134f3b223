"""The review-policy app the groups tests serve: a langgraph.json serving inbox_graphs.py's
"policy" graph (its input names the interrupt's review policy), and a thread paused at it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx

POLICY = "policy"
"""The served graph's assistant id."""


def policy_app(folder: Path, **settings: Any) -> Path:
    """Writes the app into the new folder `folder` and returns its langgraph.json; `settings`
    are more top-level keys of that file (e.g. hitlgraph={...})."""
    folder.mkdir()
    shutil.copyfile(Path(__file__).with_name("inbox_graphs.py"), folder / "inbox_graphs.py")
    path = folder / "langgraph.json"
    path.write_text(json.dumps({"graphs": {POLICY: "./inbox_graphs.py:policy_builder"},
                                **settings}), encoding="utf-8")
    return path


def paused_at_policy(http: httpx.Client, **ask: Any) -> tuple[str, str]:
    """A new thread whose run waits at an interrupt asked with the review policy `ask`, and
    that interrupt's id."""
    thread = str(http.post("/threads", json={}).json()["thread_id"])
    done = http.post(f"/threads/{thread}/runs/wait",
                     json={"assistant_id": POLICY, "input": {"ask": ask}})
    assert "__interrupt__" in done.json(), done.text
    [asked] = done.json()["__interrupt__"]
    return thread, str(asked["id"])
