"""POST /threads/search with status "interrupted" (what waits for a person), side by side:
which threads, in which order, a page at a time, and the paging headers.

Each flow's threads carry metadata of their own (both servers live for the whole session), so
every search here also filters by metadata. The flow pauses threads at an interrupt() and at a
breakpoint, leaves one finished and one never run, and patches one thread's metadata after it
paused: LangGraph's server sorts by the thread's updated_at, which the patch moves."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from _compat import Observed, Pair, at_both
from langgraph_sdk.client import SyncLangGraphClient

Search = Callable[..., dict[str, Any]]


def _searcher(client: SyncLangGraphClient, mark: dict[str, str]) -> Search:
    """POST /threads/search with `mark` in its metadata filter: the threads found (ids) and
    the paging headers."""
    def search(**body: Any) -> dict[str, Any]:
        body["metadata"] = {**mark, **body.get("metadata", {})}
        answer = client.http.client.post("/threads/search", json=body)
        answer.raise_for_status()
        return {"ids": [t["thread_id"] for t in answer.json()],
                "headers": {k.lower(): v for k, v in answer.headers.items()
                            if k.lower().startswith("x-pagination")}}
    return search


def _paused_threads(client: SyncLangGraphClient, seen: Observed) -> Search:
    """Six threads, four of them paused (the first patched afterwards); their ids are the
    flow's first step, so the masks of later steps name them in order."""
    mark = {"flow": str(uuid.uuid4())}
    made = [client.threads.create(metadata={**mark, "n": n})["thread_id"] for n in range(6)]
    client.runs.wait(made[0], "review", input={"topic": "a"})
    client.runs.wait(made[1], "steps", input={"value": "v"}, interrupt_before=["step_b"])
    client.runs.wait(made[2], "review", input={"topic": "b"})
    client.runs.wait(made[3], "steps", input={"value": "v"})
    client.runs.wait(made[4], "review", input={"topic": "a"})
    client.threads.update(made[0], metadata={"kind": "patched"})
    seen.call("the threads, in the order made", lambda: made)
    return _searcher(client, mark)


def _pages(client: SyncLangGraphClient, seen: Observed) -> None:
    search = _paused_threads(client, seen)
    for offset in (0, 2, 4, 10):
        seen.call(f"interrupted, 2 from {offset}", search, status="interrupted", limit=2,
                  offset=offset)
    for limit in (3, 4, 5):
        seen.call(f"interrupted, {limit} at once", search, status="interrupted", limit=limit)
    seen.call("any status, 4 at once", search, limit=4)
    seen.call("any status, 7 at once", search, limit=7)
    seen.call("idle", search, status="idle")
    seen.call("interrupted, with more metadata", search, status="interrupted",
              metadata={"kind": "patched"})
    seen.call("how many are interrupted", client.threads.count,
              metadata={"n": 0, "kind": "patched"}, status="interrupted")


def test_the_interrupted_threads_come_in_the_same_pages_and_headers(pair: Pair) -> None:
    pair.compare(_pages)


def _sorted(client: SyncLangGraphClient, seen: Observed) -> None:
    search = _paused_threads(client, seen)
    for sort_by in ("created_at", "updated_at", "thread_id"):
        for order in ("asc", "desc", None):
            body = {"sort_by": sort_by} | ({"sort_order": order} if order else {})
            seen.call(f"by {sort_by} {order}", search, status="interrupted", **body)
    seen.call("sort_order without sort_by", search, status="interrupted", sort_order="asc")


def test_the_interrupted_threads_sort_alike(pair: Pair) -> None:
    pair.compare(_sorted)


def _sorted_by_state_or_status(client: SyncLangGraphClient, seen: Observed) -> None:
    search = _paused_threads(client, seen)
    for sort_by in ("state_updated_at", "status"):
        for order in ("asc", "desc"):
            seen.call(f"by {sort_by} {order}", search, status="interrupted", sort_by=sort_by,
                      sort_order=order)


def test_the_interrupted_threads_sort_by_state_and_status_alike(pair: Pair) -> None:
    pair.compare(_sorted_by_state_or_status)


def test_a_values_filter_answers_where_langgraph_dev_fails(pair: Pair) -> None:
    """A values filter: LangGraph's in-memory server answers 500 as soon as any thread has
    no values yet (a thread never run: its containment check iterates None). hitlgraph
    answers the threads whose values contain it."""
    def flow(client: SyncLangGraphClient) -> Any:
        mark = {"flow": str(uuid.uuid4())}
        made = [client.threads.create(metadata=mark)["thread_id"] for _ in range(2)]
        client.runs.wait(made[0], "review", input={"topic": "a"})
        try:
            found = _searcher(client, mark)(status="interrupted", values={"topic": "a"})
        except httpx.HTTPStatusError as exc:
            return exc.response.status_code
        return found["ids"] == made[:1]

    ours, theirs = at_both(pair, flow)
    assert ours is True
    assert theirs == 500
