"""Where hitlgraph serve differs from langgraph dev on purpose: LangGraph's server silently
accepts a caller's mistake (or loses an answer), and ours refuses it with a clear 4xx, or it
shows less than the thread holds and ours shows it (a copy's state). Each
test drives both servers, checks that LangGraph still behaves as the README's table says, and
asserts our behaviour."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from _compat import Pair, at_both, ended, status_of
from langgraph_sdk.client import SyncLangGraphClient


def _paused(client: SyncLangGraphClient) -> str:
    tid: str = client.threads.create()["thread_id"]
    client.runs.wait(tid, "review", input={"topic": "deliberate"})
    return tid


def test_a_second_resume_of_an_answered_interrupt_is_409(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> tuple[int, Any]:
        tid = _paused(client)
        client.runs.wait(tid, "review", command={"resume": {"approved": True}})
        again = status_of(lambda: client.runs.wait(tid, "review",
                                                 command={"resume": {"approved": False}}))
        return again, client.threads.get_state(tid)["values"]["approved"]

    ours, theirs = at_both(pair, flow)
    assert theirs == (200, True)  # LangGraph: accepted, and nothing happens
    assert ours == (409, True)


def test_joining_a_run_that_does_not_exist_is_404(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> int:
        tid = client.threads.create()["thread_id"]
        return status_of(lambda: client.runs.join(tid, str(uuid.uuid4())))

    ours, theirs = at_both(pair, flow)
    assert theirs == 200  # LangGraph: 200 with {"__error__": ... "404: Run not found"}
    assert ours == 404


def test_a_failing_answer_leaves_the_interrupt_open_for_a_new_answer(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> Any:
        tid = _paused(client)
        client.runs.wait(tid, "review", command={"resume": "not a dict"}, raise_error=False)
        client.runs.wait(tid, "review", command={"resume": {"approved": True}},
                         raise_error=False)
        return client.threads.get_state(tid)["values"].get("published")

    ours, theirs = at_both(pair, flow)
    assert theirs is None  # LangGraph replays the failing answer: the thread stays stuck
    assert ours == "TIPS FOR DELIBERATE"


def test_input_beside_a_command_is_refused(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> int:
        tid = _paused(client)
        return status_of(lambda: client.runs.wait(tid, "review", input={"topic": "other"},
                                                command={"resume": {"approved": True}}))

    ours, theirs = at_both(pair, flow)
    assert theirs == 200  # LangGraph ignores the input
    assert ours == 422


@pytest.mark.parametrize("field", ["values", "status"])
def test_a_copied_thread_shows_the_state_it_copied(pair: Pair, field: str) -> None:
    def flow(client: SyncLangGraphClient) -> Any:
        copy = client.threads.copy(_paused(client))["thread_id"]
        return client.threads.get(copy).get(field), client.threads.get_state(copy)["next"]

    ours, theirs = at_both(pair, flow)
    # LangGraph copies the checkpoints but its thread row says idle, with no values.
    assert theirs[0] == {"values": None, "status": "idle"}[field] and theirs[1] == ["review"]
    assert ours[0] == {"values": {"topic": "deliberate", "draft": "Tips for deliberate"},
                       "status": "interrupted"}[field] and ours[1] == ["review"]


def test_a_copy_of_a_paused_thread_shows_its_state_at_once(pair: Pair) -> None:
    """LangGraph's server answers a thread copy as a new idle thread without values, and
    keeps it so until a run, although the copy holds the paused state (its get_state shows
    the interrupt, and a resume answers it). hitlgraph's copy shows that state at once, so a
    search for interrupted threads finds it."""
    def flow(client: SyncLangGraphClient) -> tuple[Any, ...]:
        made = client.threads.copy(_paused(client))
        copy = client.threads.get(made["thread_id"])
        paused = client.threads.get_state(made["thread_id"])["next"]
        return made["status"], copy["status"], "values" in copy, paused

    ours, theirs = at_both(pair, flow)
    assert theirs == ("idle", "idle", False, ["review"])
    assert ours == ("interrupted", "interrupted", True, ["review"])


def test_joining_an_ended_stateless_run_answers_its_output(pair: Pair) -> None:
    def flow(client: SyncLangGraphClient) -> tuple[int, Any]:
        run = client.runs.create(None, "steps", input={"value": "gone"})
        ended(client, run["thread_id"], run["run_id"], may_go=True)
        try:
            return 200, client.runs.join(run["thread_id"], run["run_id"])
        except httpx.HTTPStatusError as exc:
            return exc.response.status_code, None

    ours, theirs = at_both(pair, flow)
    # LangGraph deleted the run with its temporary thread: "not found", in a 200's body
    assert theirs[0] == 200 and "404" in theirs[1]["__error__"]["message"]
    assert ours[0] == 200 and ours[1]["value"] == "gone"
