"""LangGraph's interrupts guide, over HTTP with the official SDK client."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from _harness import RunningServer
from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.errors import NotFoundError


def _status(exc: pytest.ExceptionInfo[httpx.HTTPStatusError]) -> int:
    return exc.value.response.status_code


def _start_review(client: SyncLangGraphClient) -> tuple[str, dict]:
    thread = client.threads.create()
    result = client.runs.wait(thread["thread_id"], "review", input={"topic": "tests"})
    return thread["thread_id"], result


def test_run_until_interrupt_shows_it_and_resume_finishes(client: SyncLangGraphClient) -> None:
    thread_id, result = _start_review(client)
    (asked,) = result["__interrupt__"]
    assert asked["value"] == {"question": "Publish this draft?", "draft": "Tips for tests"}
    assert result["draft"] == "Tips for tests"

    thread = client.threads.get(thread_id)
    assert thread["status"] == "interrupted"
    (task_interrupts,) = thread["interrupts"].values()
    assert task_interrupts[0]["id"] == asked["id"]
    waiting = client.threads.search(status="interrupted")
    assert [t["thread_id"] for t in waiting] == [thread_id]

    state = client.threads.get_state(thread_id)
    assert state["next"] == ["review"]
    assert state["interrupts"][0]["id"] == asked["id"]
    (task,) = state["tasks"]
    assert task["name"] == "review" and task["interrupts"][0]["value"] == asked["value"]
    assert state["checkpoint"]["thread_id"] == thread_id

    final = client.runs.wait(thread_id, "review", command={"resume": {"approved": True}})
    assert final["published"] == "TIPS FOR TESTS"
    assert "__interrupt__" not in final
    assert client.threads.get(thread_id)["status"] == "idle"
    assert client.threads.get_state(thread_id)["next"] == []


def test_resume_by_interrupt_id_answers_that_interrupt(client: SyncLangGraphClient) -> None:
    thread_id, result = _start_review(client)
    iid = result["__interrupt__"][0]["id"]
    final = client.runs.wait(thread_id, "review",
                             command={"resume": {iid: {"approved": True, "text": "new"}}})
    assert final["published"] == "NEW"


def test_second_resume_of_an_answered_interrupt_is_409(client: SyncLangGraphClient) -> None:
    thread_id, _ = _start_review(client)
    client.runs.wait(thread_id, "review", command={"resume": {"approved": False}})
    with pytest.raises(httpx.HTTPStatusError) as caught:
        client.runs.wait(thread_id, "review", command={"resume": {"approved": True}})
    assert _status(caught) == 409
    assert "no interrupt waiting" in caught.value.response.text
    assert client.threads.get_state(thread_id)["values"]["approved"] is False


def test_resume_of_a_finished_thread_is_409(client: SyncLangGraphClient) -> None:
    thread = client.threads.create()
    client.runs.wait(thread["thread_id"], "steps", input={"value": "x"})
    with pytest.raises(httpx.HTTPStatusError) as caught:
        client.runs.wait(thread["thread_id"], "steps", command={"resume": "anything"})
    assert _status(caught) == 409


def test_bad_answer_fails_the_run_and_keeps_the_interrupt_answerable(
        client: SyncLangGraphClient) -> None:
    thread_id, result = _start_review(client)
    iid = result["__interrupt__"][0]["id"]
    # The SDK turns the "__error__" the server answers into an Exception.
    with pytest.raises(Exception, match="ValueError: The answer must be"):
        client.runs.wait(thread_id, "review", command={"resume": "yes please"})
    failed = client.runs.wait(thread_id, "review", command={"resume": "no"}, raise_error=False)
    assert failed["__error__"]["error"] == "ValueError"
    assert client.threads.get(thread_id)["status"] == "error"
    state = client.threads.get_state(thread_id)
    assert [i["id"] for i in state["interrupts"]] == [iid]
    assert state["tasks"][0]["error"]

    final = client.runs.wait(thread_id, "review", command={"resume": {"approved": True}})
    assert final["published"] == "TIPS FOR TESTS"


def test_update_state_at_a_breakpoint_then_continue(client: SyncLangGraphClient) -> None:
    thread = client.threads.create()
    tid = thread["thread_id"]
    paused = client.runs.wait(tid, "steps", input={"value": "first"},
                              interrupt_before=["step_b"])
    assert paused["log"] == ["a"]
    assert client.threads.get(tid)["status"] == "interrupted"
    assert client.threads.get_state(tid)["next"] == ["step_b"]

    saved = client.threads.update_state(tid, {"value": "edited"})
    assert saved["checkpoint"]["thread_id"] == tid and saved["checkpoint"]["checkpoint_id"]
    state = client.threads.get_state(tid)
    assert state["values"]["value"] == "edited" and state["next"] == ["step_b"]

    final = client.runs.wait(tid, "steps", input=None)
    assert final["log"] == ["a", "b saw edited", "c"]
    history = client.threads.get_history(tid, limit=50)
    assert history[0]["checkpoint"]["checkpoint_id"] == client.threads.get_state(tid)[
        "checkpoint"]["checkpoint_id"]
    assert any(h["metadata"]["source"] == "update" for h in history)


def test_stream_through_an_interrupt_and_resume(client: SyncLangGraphClient) -> None:
    thread = client.threads.create()
    tid = thread["thread_id"]
    parts = list(client.runs.stream(tid, "review", input={"topic": "streams"},
                                    stream_mode=["values", "updates"]))
    assert parts[0].event == "metadata" and uuid.UUID(parts[0].data["run_id"])
    events = [p.event for p in parts[1:]]
    assert set(events) == {"values", "updates"}
    updates = [p.data for p in parts if p.event == "updates"]
    assert updates[0] == {"write_draft": {"draft": "Tips for streams"}}
    assert updates[-1]["__interrupt__"][0]["value"]["question"] == "Publish this draft?"
    assert parts[-1].event == "values" and "__interrupt__" in parts[-1].data
    run = client.runs.get(tid, parts[0].data["run_id"])
    assert run["status"] == "success"

    resumed = list(client.runs.stream(tid, "review", command={"resume": {"approved": True}},
                                      stream_mode="updates"))
    assert [p.data for p in resumed[1:]] == [
        {"review": {"approved": True, "draft": "Tips for streams"}},
        {"publish": {"published": "TIPS FOR STREAMS"}}]


def test_stream_of_a_failing_resume_ends_with_an_error_event(
        client: SyncLangGraphClient) -> None:
    thread_id, _ = _start_review(client)
    parts = list(client.runs.stream(thread_id, "review", command={"resume": 42}))
    assert parts[-1].event == "error"
    assert parts[-1].data["error"] == "ValueError"


def test_join_of_an_unknown_run_is_404(client: SyncLangGraphClient) -> None:
    thread = client.threads.create()
    with pytest.raises(httpx.HTTPStatusError) as caught:
        client.runs.join(thread["thread_id"], str(uuid.uuid4()))
    assert _status(caught) == 404
    with pytest.raises(NotFoundError):
        client.runs.get(thread["thread_id"], str(uuid.uuid4()))


@pytest.mark.parametrize("servers", [1, 2], ids=["one-server", "two-servers-one-file"])
def test_of_concurrent_resumes_exactly_one_wins(
        start_server: Callable[..., RunningServer], servers: int) -> None:
    first = start_server()
    urls = [first] + [start_server(db=first.db) for _ in range(servers - 1)]
    client = first.client()
    thread_id, _ = _start_review(client)
    clients = [urls[i % len(urls)].client() for i in range(4)]

    def resume(c: SyncLangGraphClient) -> object:
        try:
            return c.runs.wait(thread_id, "review", command={"resume": {"approved": True}})
        except httpx.HTTPStatusError as exc:
            return exc.response

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(resume, clients))
    wins = [o for o in outcomes if isinstance(o, dict)]
    losses = [o for o in outcomes if isinstance(o, httpx.Response)]
    assert len(wins) == 1 and wins[0]["published"] == "TIPS FOR TESTS"
    assert len(losses) == 3 and all(r.status_code == 409 for r in losses)
    assert all("no interrupt waiting" in r.text for r in losses)
    # A loser queued behind the winner fails when it runs; one arriving later is refused
    # before a run is made. Either way the thread took exactly one answer.
    statuses = [r["status"] for r in client.runs.list(thread_id, limit=20)]
    assert statuses.count("success") == 2 and set(statuses) <= {"success", "error"}
