"""`select` and `extract`, side by side: the fields a thread search and a thread's run list
answer, what a search extracts from each thread, and the refusals of names neither has."""

from __future__ import annotations

import uuid

from _compat import Observed, Pair
from langgraph_sdk.client import SyncLangGraphClient


def _selected(client: SyncLangGraphClient, seen: Observed) -> None:
    mark = {"flow": str(uuid.uuid4())}
    tid = client.threads.create(metadata=mark)["thread_id"]
    client.runs.wait(tid, "review", input={"topic": "picked"})
    seen.call("the thread's id", lambda: tid)
    seen.call("search, two fields", client.threads.search, metadata=mark,
              select=["thread_id", "status"])
    seen.call("search, a field threads lack", client.threads.search, metadata=mark,
              select=["thread_id", "error"])
    seen.call("search, extracting", client.threads.search, metadata=mark,
              select=["thread_id"], extract={
                  "topic": "values.topic", "graph": "metadata.graph_id",
                  "asked": "interrupts", "missing": "values.nothing.deeper",
                  "first": "values.topic[0]", "private": "values._x"})
    seen.call("search, extracting without select", lambda: [
        sorted(t) for t in client.threads.search(metadata=mark,
                                                 extract={"topic": "values.topic"})])
    seen.call("search, extracting from elsewhere", client.threads.search, metadata=mark,
              extract={"x": "status"})
    seen.call("search, extracting as a field's name", client.threads.search, metadata=mark,
              extract={"values": "values.topic"})
    seen.call("search, an alias that is no identifier", client.threads.search, metadata=mark,
              extract={"a-b": "values.topic"})
    seen.call("runs, two fields", client.runs.list, tid, select=["run_id", "status"])
    seen.call("runs, a field runs lack", client.runs.list, tid, select=["run_id", "nope"])


def test_select_and_extract_answer_alike(pair: Pair) -> None:
    pair.compare(_selected)
