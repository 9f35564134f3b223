"""Review notifications through the server: webhooks in the settings, sent the review events of
the checkpointer's outbox, signed (HMAC-SHA256 over timestamp and body), retried after a 500,
logged, and never lost by a kill -9 between the commit and the delivery. The receiver is a
real HTTP server on 127.0.0.1 (allowed through HITLGRAPH_WEBHOOK_ALLOW_HOSTS)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _harness import RunningServer, ServerProcess
from _notify_receiver import SECRET, NotifyReceiver, notify_receiver

from hitlgraph.server._notify_config import webhooks_of
from hitlgraph.server._notify_store import NotifyTables
from hitlgraph.server._webhooks import ALLOW_HOSTS_ENV
from hitlgraph.server.config import ConfigError, load_config
from hitlgraph.server.store.postgres import PostgresStore
from hitlgraph.server.store.sqlite import SqliteStore

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
ASK = {"assistant_id": "review", "input": {"topic": "hooks"}}


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifyReceiver]:
    monkeypatch.setenv(ALLOW_HOSTS_ENV, "127.0.0.1")
    with notify_receiver() as got:
        yield got


def _hook(receiver: NotifyReceiver, **extra: Any) -> dict[str, Any]:
    return {"url": receiver.url, "secret": SECRET, "name": "desk", **extra}


def _start(start_server: Callable[..., RunningServer], receiver: NotifyReceiver,
           **hook: Any) -> RunningServer:
    return start_server(webhooks=[_hook(receiver, **hook)], notify_seconds=0.1,
                        notify_backoff_seconds=0.05)


def _paused(http: httpx.Client) -> str:
    thread = str(http.post("/threads", json={}).json()["thread_id"])
    assert "__interrupt__" in http.post(f"/threads/{thread}/runs/wait", json=ASK).json()
    return thread


def _deliveries(db: str, webhook: str) -> list[Any]:
    async def read() -> list[Any]:
        store = PostgresStore.from_conn_string(db) if db.startswith("postgresql") \
            else SqliteStore(db)
        try:
            return await NotifyTables(store).deliveries(webhook)
        finally:
            await store.close()
    return asyncio.run(read())


@BOTH
def test_review_events_are_signed_and_name_the_thread(
        start_server: Callable[..., RunningServer], receiver: NotifyReceiver) -> None:
    server = _start(start_server, receiver,
                    events=["interrupt.created", "interrupt.decided", "run.finished"])
    with httpx.Client(base_url=server.url, timeout=30) as http:
        thread = _paused(http)
        [created] = receiver.wait_for("interrupt.created")
        assert created.signed and created.delivery == f"review-{created.body['seq']}"
        assert (created.body["thread_id"], created.body["graph_id"], created.body["tenant"]) \
            == (thread, "review", "")
        assert created.body["data"]["node"] == "review"
        assert created.body["data"]["value"]["question"] == "Publish this draft?"
        http.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "review", "command": {"resume": {"approved": True}}})
        [decided] = receiver.wait_for("interrupt.decided")
        assert decided.signed and decided.body["data"]["outcome"] == "answered"
        assert decided.body["interrupt_id"] == created.body["interrupt_id"]
    assert all(g.signed for g in receiver.got)


def test_a_500_answered_twice_is_tried_again(
        start_server: Callable[..., RunningServer], receiver: NotifyReceiver) -> None:
    receiver.answers = [500, 500]
    server = _start(start_server, receiver, events=["interrupt.created"])
    with httpx.Client(base_url=server.url, timeout=30) as http:
        _paused(http)
    [created] = receiver.wait_for("interrupt.created")
    tries = [g for g in receiver.got if g.kind == "interrupt.created"]
    assert [g.status for g in tries] == [500, 500, 200]
    assert {g.delivery for g in tries} == {created.delivery}
    [logged] = _deliveries(str(server.db), "desk")
    assert (logged.kind, logged.attempts, logged.outcome, logged.status_code) == (
        "interrupt.created", 3, "delivered", 200)


def test_a_receiver_that_keeps_failing_is_logged_and_passed(
        start_server: Callable[..., RunningServer], receiver: NotifyReceiver) -> None:
    receiver.then = 503
    server = start_server(webhooks=[_hook(receiver, events=["interrupt.created"])],
                          notify_seconds=0.1, notify_backoff_seconds=0.01, notify_attempts=2)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        _paused(http)
        _paused(http)
    for _ in range(600):  # bounded: 30 s
        logged = _deliveries(str(server.db), "desk")
        if len(logged) == 2:
            break
        asyncio.run(asyncio.sleep(0.05))
    assert [(d.outcome, d.attempts, d.status_code) for d in logged] == [("failed", 2, 503)] * 2
    assert len(receiver.got) == 4


def test_an_internal_host_not_allowed_is_refused_and_logged(
        start_server: Callable[..., RunningServer], monkeypatch: pytest.MonkeyPatch) -> None:
    with notify_receiver() as receiver:
        monkeypatch.delenv(ALLOW_HOSTS_ENV, raising=False)
        server = _start(start_server, receiver, events=["interrupt.created"])
        with httpx.Client(base_url=server.url, timeout=30) as http:
            _paused(http)
        for _ in range(600):  # bounded: 30 s
            logged = _deliveries(str(server.db), "desk")
            if logged:
                break
            asyncio.run(asyncio.sleep(0.05))
        assert logged[0].outcome == "refused" and ALLOW_HOSTS_ENV in str(logged[0].error)
        assert receiver.got == []


@pytest.mark.parametrize("hooks, message", [
    ("nope", "must be a list"),
    ([{"url": "ftp://x.example/hook", "secret": SECRET}], "http:// or https://"),
    ([{"url": "https://x.example/hook", "secret": "short"}], "at least 8 characters"),
    ([{"url": "https://x.example/h", "secret": SECRET, "events": ["run.done"]}], "'run.done'"),
    ([{"url": "https://x.example/h", "secret": SECRET, "retries": 3}], "'retries'"),
    ([{"url": "https://x.example/h", "secret": SECRET}] * 2, "several webhooks named"),
])
def test_a_bad_webhook_setting_names_what_is_wrong(hooks: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        webhooks_of(hooks, "hooks")


def test_langgraph_json_gives_webhooks(tmp_path: Path) -> None:
    path = tmp_path / "langgraph.json"
    hook = {"url": "https://x.example/h", "secret": SECRET, "events": ["run.finished"]}
    path.write_text(json.dumps({"graphs": {"g": "./g.py:g"},
                                "hitlgraph": {"webhooks": [hook]}}), encoding="utf-8")
    [loaded] = load_config(path).webhooks
    assert (loaded.url, loaded.events, loaded.name.startswith("url-")) == (
        hook["url"], frozenset({"run.finished"}), True)
    path.write_text(json.dumps({"graphs": {"g": "./g.py:g"}, "hitlgraph": {"webhooks": [
        {**hook, "url": "nope"}]}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hitlgraph.webhooks.*\[0\]\.url"):
        load_config(path)


@BOTH
def test_kill_9_between_commit_and_delivery_loses_nothing(
        start_process: Callable[..., ServerProcess], database: str, config_file: Path,
        receiver: NotifyReceiver) -> None:
    """The first server commits the interrupt (its event in the outbox) but every try to send
    it fails; killed with SIGKILL, the next server sends the same event (same seq)."""
    data = json.loads(config_file.read_text(encoding="utf-8"))
    data["hitlgraph"] = {"webhooks": [_hook(receiver, events=["interrupt.created"])]}
    config_file.write_text(json.dumps(data), encoding="utf-8")
    receiver.then = 500
    first = start_process(database)
    with httpx.Client(base_url=first.url, timeout=30) as http:
        _paused(http)
    for _ in range(600):  # bounded: 30 s, until the first server is trying to send it
        if receiver.got:
            break
        asyncio.run(asyncio.sleep(0.05))
    failed = receiver.got[0]
    assert failed.status == 500 and failed.kind == "interrupt.created"
    first.kill()
    receiver.then = 200
    start_process(database)
    [sent] = receiver.wait_for("interrupt.created", timeout=60)
    assert sent.delivery == failed.delivery and sent.body == failed.body and sent.signed


@BOTH
def test_the_notifier_loop_is_gone_once_the_apps_lifespan_has_exited(database: str) -> None:
    # A loop outliving its app would go on reading tables a test may have dropped since.
    from typing import TypedDict

    from hitlgraph.graph import START, StateGraph
    from hitlgraph.server import ServerSettings, create_app

    class State(TypedDict):
        v: str

    builder = StateGraph(State)
    builder.add_node("n", lambda state: state)
    builder.add_edge(START, "n")
    app = create_app(ServerSettings(graphs={"g": builder}, db=database, read_env=False))

    def ours() -> list[str]:
        return sorted(task.get_name() for task in asyncio.all_tasks()
                      if task.get_name().startswith("hitlgraph-"))

    async def main() -> tuple[list[str], list[str]]:
        async with app.router.lifespan_context(app):
            during = ours()
        return during, ours()

    during, after = asyncio.run(main())
    assert "hitlgraph-notify" in during
    assert after == []
