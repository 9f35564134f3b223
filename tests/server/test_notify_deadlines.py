"""A deadline through the server, as a webhook sees it: the question is announced
(interrupt.created), warned about before its deadline (interrupt.warning), and expired by
the server's own timer with the policy's default answer (interrupt.expired, which says the
decision: by "policy", "answered"; no interrupt.decided besides), each once, signed, in that
order; /metrics counts the expiry. On a SQLite file and on PostgreSQL, with a receiver on
127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypedDict

import httpx
import pytest
from _harness import RunningServer
from _notify_receiver import SECRET, NotifyReceiver, notify_receiver
from prometheus_client.parser import text_string_to_metric_families

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import Expire
from hitlgraph.server._webhooks import ALLOW_HOSTS_ENV
from hitlgraph.types import interrupt

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
KINDS = ["interrupt.created", "interrupt.warning", "interrupt.expired", "interrupt.decided"]
SENT = KINDS[:3]


class Timed(TypedDict, total=False):
    approved: bool


def _ask(state: Timed) -> Timed:
    answer = interrupt({"question": "Publish?"}, expires_in=1.5, warn_before=1.2,
                       on_expire=Expire.answer({"approved": False}))
    return {"approved": bool(answer["approved"])}


def _timed() -> StateGraph[Timed]:
    builder = StateGraph(Timed)
    builder.add_node("ask", _ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifyReceiver]:
    monkeypatch.setenv(ALLOW_HOSTS_ENV, "127.0.0.1")
    with notify_receiver() as got:
        yield got


def _expired_count(http: httpx.Client) -> float:
    text = http.get("/metrics").text
    return next(s.value for family in text_string_to_metric_families(text)
                for s in family.samples if s.name == "hitlgraph_expired_interrupts_total")


@BOTH
def test_a_deadline_is_announced_warned_and_expired_once_each(
        start_server: Callable[..., RunningServer], receiver: NotifyReceiver) -> None:
    server = start_server(graphs={"timed": _timed()}, expire_seconds=0.1,
                          notify_seconds=0.1, webhooks=[
                              {"url": receiver.url, "secret": SECRET, "name": "desk",
                               "events": KINDS}])
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        out = http.post(f"/threads/{thread}/runs/wait",
                        json={"assistant_id": "timed", "input": {}}).json()
        assert "__interrupt__" in out, out
        [expired] = receiver.wait_for("interrupt.expired", timeout=30)
        time.sleep(1.0)  # notifier rounds 0.1 s apart, expiry ticks too: a copy would show
        got = [g for g in receiver.delivered() if g.body["thread_id"] == thread]
        assert [g.kind for g in got] == SENT
        assert all(g.signed for g in got)
        assert len({g.body["interrupt_id"] for g in got}) == 1
        assert (expired.body["data"]["by"], expired.body["data"]["outcome"]) == (
            "policy", "answered")
        for _ in range(200):  # bounded: 10 s, the metrics feed follows the same outbox
            if _expired_count(http) == 1:
                break
            time.sleep(0.05)
        assert _expired_count(http) == 1
        state = http.get(f"/threads/{thread}/state").json()
        assert state["values"] == {"approved": False}
