"""What the differential suite shares: a recorder of what a client observes, and the masking
that makes two servers' observations comparable (ids and timestamps differ by nature)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

_ID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?$")

DEPLOYMENT_KEYS = frozenset({
    "langgraph_api_url", "langgraph_api_version", "langgraph_host", "langgraph_plan",
    "langgraph_request_id", "langgraph_version", "__request_start_time_ms__",
    "__after_seconds__",
})
"""Metadata and config keys that describe LangGraph's own deployment (its version, plan, host
and URL, a request id, its request timing): left out on both sides, since hitlgraph is not
that deployment."""


def mask(value: Any) -> Any:
    """`value` with each distinct id replaced by `<id N>` (N in order of first appearance, so
    two places holding the same id still hold the same mask) and timestamps by `<time>`, in
    keys too; dict keys are visited in sorted order, and DEPLOYMENT_KEYS are dropped."""
    seen: dict[str, str] = {}

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            # Plain keys in sorted order, then keys that are ids in the server's own order.
            plain = sorted(k for k in item if not _ID.match(k) and k not in DEPLOYMENT_KEYS)
            ids = [k for k in item if _ID.match(k)]
            return {walk(key): walk(item[key]) for key in [*plain, *ids]}
        if isinstance(item, list):
            return [walk(part) for part in item]
        if isinstance(item, str):
            if _ID.match(item):
                return seen.setdefault(item, f"<id {len(seen)}>")
            if _TIME.match(item):
                return "<time>"
        return item

    return walk(value)


@dataclass
class Observed:
    """What one flow saw from one server, step by step."""

    steps: list[tuple[str, Any]] = field(default_factory=list)

    def call(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call an SDK method and record its result, or its HTTP status and the JSON type of
        its `detail` for an error answer (the wording of details is not compared)."""
        try:
            result = fn(*args, **kwargs)
        except httpx.HTTPStatusError as exc:
            self.steps.append((label, _error(exc.response)))
            return None
        self.steps.append((label, result))
        return result

    def run(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Like `call` for an SDK method answering a run (or a list of runs): the run's
        `kwargs` are compared as its input and command only. The rest of them is each
        server's private record of how to execute the run (LangGraph's holds its request
        time, auth internals and options hitlgraph has no use for)."""
        result = self.call(label, fn, *args, **kwargs)
        if result is not None:
            self.steps[-1] = (label, _runs_view(result))
        return result

    def masked(self) -> list[tuple[str, Any]]:
        """The steps, masked together (an id seen in two steps keeps one mask)."""
        labels = [label for label, _ in self.steps]
        values = mask([value for _, value in self.steps])
        return list(zip(labels, values, strict=True))


def _runs_view(value: Any) -> Any:
    if isinstance(value, list):
        return [_runs_view(item) for item in value]
    if isinstance(value, dict) and isinstance(value.get("kwargs"), dict):
        kwargs = value["kwargs"]
        return {**value, "kwargs": {"input": kwargs.get("input"),
                                    "command": kwargs.get("command")}}
    return value


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except json.JSONDecodeError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    return {"status": response.status_code, "detail_type": type(detail).__name__}


def first_difference(ours: list[tuple[str, Any]], theirs: list[tuple[str, Any]]) -> str:
    """A readable account of where two masked observations first differ ('' if equal)."""
    for (label, mine), (_, reference) in zip(ours, theirs, strict=True):
        if mine != reference:
            return (f"step {label!r} differs:\n"
                    f"hitlgraph: {json.dumps(mine, indent=1, sort_keys=True)}\n"
                    f"langgraph: {json.dumps(reference, indent=1, sort_keys=True)}")
    return ""


@dataclass
class Pair:
    """Two running servers serving the same graphs."""

    hitlgraph: str
    langgraph: str

    def compare(self, flow: Callable[[SyncLangGraphClient, Observed], None]) -> None:
        """Run `flow` at both and assert that they observed the same, once masked."""
        ours, theirs = Observed(), Observed()
        for url, observed in ((self.hitlgraph, ours), (self.langgraph, theirs)):
            with get_sync_client(url=url, timeout=30) as client:
                flow(client, observed)
        difference = first_difference(ours.masked(), theirs.masked())
        assert not difference, difference


def at_both(pair: Pair, flow: Callable[[SyncLangGraphClient], Any]) -> tuple[Any, Any]:
    """(what hitlgraph's server gave, what LangGraph's gave) for a flow whose results are
    asserted one by one (a deliberate difference) rather than compared whole."""
    results = []
    for url in (pair.hitlgraph, pair.langgraph):
        with get_sync_client(url=url, timeout=30) as client:
            results.append(flow(client))
    return results[0], results[1]


def status_of(call: Callable[[], Any]) -> int:
    """The HTTP status an SDK call got (200 when it raised nothing)."""
    try:
        call()
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    return 200


ENDED = frozenset({"success", "interrupted", "error", "timeout"})


def ended(client: SyncLangGraphClient, thread_id: str, run_id: str, *,
          may_go: bool = False) -> dict[str, Any] | None:
    """The run once it has ended. A join right after creating a run answers at LangGraph's
    server from the run's live stream when it is still going, and from the thread when it has
    ended (a paused run's join then carries its interrupts alone): flows that join a run
    which pauses wait for its end first, so both servers answer the same way every time.
    `may_go`: the run may be deleted when it ends (a stateless run, with its thread, at
    LangGraph's server): None then."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            run = client.runs.get(thread_id, run_id)
        except httpx.HTTPStatusError as exc:
            if not may_go or exc.response.status_code != 404:
                raise
            run = None
        if run is None or run["status"] in ENDED:
            # LangGraph's server marks the run ended a moment before its stream is gone.
            time.sleep(0.3)
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end within 30 s")
