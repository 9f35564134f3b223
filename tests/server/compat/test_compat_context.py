"""Run-time context: the same flows at langgraph dev and hitlgraph serve, on graphs with a
context_schema (a TypedDict, and a dataclass whose defaults fill what a run leaves out).

What each run's node reports (lg_graphs.read_context) is compared: its `runtime.context`, and
the keys of config["configurable"] it sees. LangGraph's server gives a node only the context
keys the schema declares; when the run itself gives a context, the undeclared keys are left
out of config["configurable"] too (and so out of the checkpoints' metadata), but a run that
gives config["configurable"] keeps them all there. (hitlgraph's run record keeps the context
as its node gets it, the declared keys only; LangGraph's keeps every key given. The suite
compares a run's kwargs as its input and command only.)"""

from __future__ import annotations

import uuid

import pytest
from _compat import Observed, Pair
from langgraph_sdk.client import SyncLangGraphClient

GRAPHS = ("context", "context_record")


def _runs_on_a_thread(graph: str, client: SyncLangGraphClient, seen: Observed) -> None:
    tid = seen.call("create thread", client.threads.create)["thread_id"]
    seen.call("context, declared and undeclared keys", client.runs.wait, tid, graph,
              input={"asked": "q"}, context={"user": "ann", "extra": 1})
    seen.call("its checkpoint's metadata", lambda: client.threads.get_state(tid)["metadata"])
    seen.call("configurable, declared and undeclared keys", client.runs.wait, tid, graph,
              input={"asked": "q"}, config={"configurable": {"user": "bob", "extra": 2,
                                                             "model": "m"}})
    seen.call("state", client.threads.get_state, tid)
    seen.call("history", client.threads.get_history, tid, limit=3)
    seen.call("thread", client.threads.get, tid)
    seen.call("no context", client.runs.wait, tid, graph, input={"asked": "q"})
    seen.call("both", client.runs.wait, tid, graph, input={"asked": "q"},
              context={"user": "c"}, config={"configurable": {"user": "d"}})


@pytest.mark.parametrize("graph", GRAPHS)
def test_a_runs_context_reaches_its_node_alike(pair: Pair, graph: str) -> None:
    pair.compare(lambda client, seen: _runs_on_a_thread(graph, client, seen))


def _runs_of_assistants(graph: str, client: SyncLangGraphClient, seen: Observed) -> None:
    tag = {"flow": str(uuid.uuid4())}
    by_context = seen.call("assistant with context", client.assistants.create, graph,
                           context={"user": "asst", "extra": "a", "tone": "dry"},
                           metadata=tag)["assistant_id"]
    by_config = seen.call("assistant with configurable", client.assistants.create, graph,
                          config={"configurable": {"user": "cfg", "extra": "e"}},
                          metadata=tag)["assistant_id"]
    for label, aid in (("context", by_context), ("configurable", by_config)):
        seen.call(f"{label}: alone", client.runs.wait, None, aid, input={"asked": "q"})
        seen.call(f"{label}: with the run's context", client.runs.wait, None, aid,
                  input={"asked": "q"}, context={"tone": "run", "more": 3})
        seen.call(f"{label}: with the run's configurable", client.runs.wait, None, aid,
                  input={"asked": "q"}, config={"configurable": {"user": "run",
                                                                 "model": "x"}})
        tid = client.threads.create()["thread_id"]
        seen.call(f"{label}: on a thread, with context", client.runs.wait, tid, aid,
                  input={"asked": "q"}, context={"user": "t", "extra": "a"})
        seen.call(f"{label}: that checkpoint's metadata",
                  lambda t=tid: client.threads.get_state(t)["metadata"])


@pytest.mark.parametrize("graph", GRAPHS)
def test_an_assistants_context_reaches_its_runs_alike(pair: Pair, graph: str) -> None:
    pair.compare(lambda client, seen: _runs_of_assistants(graph, client, seen))
