"""k-of-n approvals (hitlgraph's addition, issue 14): interrupt(value, approvals=k) stays open
until k distinct principals answer, or one answer matching `rejection` decides; until then the
node does not run again. Over memory, a SQLite file and PostgreSQL, with both drivers."""

from __future__ import annotations

import asyncio
import operator
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from pydantic import BaseModel

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.errors import InvalidAnswerError, ResumeError
from hitlgraph.func import entrypoint
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.review import DecisionLog
from hitlgraph.review._approvals import Approval, tally
from hitlgraph.server._give_back import answer_counts, give_back
from hitlgraph.types import Command, Send, interrupt


class State(TypedDict, total=False):
    decisions: list[Approval]
    after: str


def _graph(saver: BaseCheckpointSaver, runs: list[str], **policy: Any) -> Any:
    def ask(state: State) -> State:
        runs.append("ask")
        return {"decisions": interrupt("ship it?", **policy)}

    builder = StateGraph(State).add_node("ask", ask)
    builder.add_node("after", lambda s: {"after": "done"})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "after")
    builder.add_edge("after", END)
    return builder.compile(checkpointer=saver)


def _config(thread: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def test_two_of_three_waits_for_two_distinct_principals(saver: BaseCheckpointSaver,
                                                        run: Any) -> None:
    runs: list[str] = []
    app = _graph(saver, runs, approvals=2, approvers=["alice", "bob", "carol"])
    run.invoke(app, {}, _config())
    [asked] = run.get_state(app, _config()).interrupts
    first = run.invoke(app, Command(resume={"ok": True}, by="alice"), _config())
    assert first["__interrupt__"] == [asked] and "decisions" not in first
    assert run.get_state(app, _config()).interrupts == (asked,)
    assert run.get_state(app, _config()).next == ("ask",)
    assert runs == ["ask"], "the node ran again before the second answer"
    assert [p.interrupt_id for p in saver.list_pending(thread_id="t")  # type: ignore[attr-defined]
            ] == [asked.id]
    out = run.invoke(app, Command(resume={"ok": True, "note": "fine"}, by="bob"), _config())
    assert runs == ["ask", "ask"] and out["after"] == "done"
    first_ok, second_ok = out["decisions"]
    assert (first_ok.by, first_ok.answer) == ("alice", {"ok": True})
    assert (second_ok.by, second_ok.answer) == ("bob", {"ok": True, "note": "fine"})
    assert first_ok.at.tzinfo == timezone.utc and first_ok.at <= second_ok.at
    assert second_ok.at <= datetime.now(timezone.utc)
    assert run.get_state(app, _config()).interrupts == ()
    assert list(saver.list_pending(thread_id="t")) == []  # type: ignore[attr-defined]


def test_the_same_principal_twice_is_refused_naming_them(saver: BaseCheckpointSaver,
                                                         run: Any) -> None:
    runs: list[str] = []
    app = _graph(saver, runs, approvals=2)
    run.invoke(app, {}, _config())
    run.invoke(app, Command(resume="yes", by="alice"), _config())
    with pytest.raises(ResumeError, match="'alice' already answered"):
        run.invoke(app, Command(resume="yes again", by="alice"), _config())
    assert runs == ["ask"]
    out = run.invoke(app, Command(resume="yes", by="bob"), _config())
    assert [(d.by, d.answer) for d in out["decisions"]] == [("alice", "yes"), ("bob", "yes")]


@pytest.mark.parametrize(("by", "message"), [
    (None, r"needs 2 answers from distinct people, so each answer must say whose"),
    ("mallory", r"'mallory' may not answer interrupt '\w+' of thread 't': its approvers are "
                r"'alice', 'bob'"),
])
def test_an_answer_without_a_listed_principal_is_refused(
        saver: BaseCheckpointSaver, by: str | None, message: str) -> None:
    runs: list[str] = []
    app = _graph(saver, runs, approvals=2, approvers=["bob", "alice"])
    app.invoke({}, _config())
    with pytest.raises(ResumeError, match=message):
        app.invoke(Command(resume="yes", by=by), _config())
    assert len(app.get_state(_config()).interrupts) == 1 and runs == ["ask"]
    # nothing was counted: two listed approvers still decide
    app.invoke(Command(resume="yes", by="alice"), _config())
    assert len(app.invoke(Command(resume="yes", by="bob"), _config())["decisions"]) == 2


def test_a_rejection_decides_alone(saver: BaseCheckpointSaver, run: Any) -> None:
    runs: list[str] = []
    app = _graph(saver, runs, approvals=3, rejection={"approved": False})
    run.invoke(app, {}, _config())
    run.invoke(app, Command(resume={"approved": True}, by="alice"), _config())
    out = run.invoke(app, Command(resume={"approved": False, "why": "no"}, by="bob"),
                     _config())
    assert [(d.by, d.answer) for d in out["decisions"]] == [
        ("alice", {"approved": True}), ("bob", {"approved": False, "why": "no"})]
    assert runs == ["ask", "ask"]


def test_invoke_none_keeps_waiting_without_running_the_node(saver: BaseCheckpointSaver,
                                                            run: Any) -> None:
    runs: list[str] = []
    app = _graph(saver, runs, approvals=2)
    run.invoke(app, {}, _config())
    run.invoke(app, Command(resume="yes", by="alice"), _config())
    again = run.invoke(app, None, _config())
    assert len(again["__interrupt__"]) == 1 and runs == ["ask"]
    out = run.invoke(app, Command(resume="yes", by="bob"), _config())
    assert [d.by for d in out["decisions"]] == ["alice", "bob"]


def test_each_answer_is_logged_with_its_principal(saver: BaseCheckpointSaver) -> None:
    runs: list[str] = []
    app = _graph(saver, runs, approvals=2)
    app.invoke({}, _config())
    [asked] = app.get_state(_config()).interrupts
    app.invoke(Command(resume="yes", by="alice", reason="looks right"), _config())
    app.invoke(Command(resume="also yes", by="bob"), _config())
    assert isinstance(saver, DecisionLog)
    logged = sorted(saver.list_decisions(thread_id="t"), key=lambda d: d.at)
    assert [(d.interrupt_id, d.by, d.answer, d.reason) for d in logged] == [
        (asked.id, "alice", "yes", "looks right"), (asked.id, "bob", "also yes", None)]


class Verdict(BaseModel):
    ok: bool


def test_each_answer_is_checked_and_typed_by_the_response_schema(
        saver: BaseCheckpointSaver) -> None:
    runs: list[str] = []
    app = _graph(saver, runs, approvals=2, response_schema=Verdict)
    app.invoke({}, _config())
    with pytest.raises(InvalidAnswerError):
        app.invoke(Command(resume={"ok": "maybe"}, by="alice"), _config())
    app.invoke(Command(resume={"ok": True}, by="alice"), _config())
    out = app.invoke(Command(resume={"ok": False}, by="bob"), _config())
    assert [d.answer for d in out["decisions"]] == [Verdict(ok=True), Verdict(ok=False)]


def test_answers_so_far_survive_reopening_the_database(tmp_path: Path) -> None:
    runs: list[str] = []
    path = str(tmp_path / "approvals.db")
    with SqliteSaver.from_conn_string(path) as saver:
        app = _graph(saver, runs, approvals=3)
        app.invoke({}, _config())
        app.invoke(Command(resume=1, by="alice"), _config())
        app.invoke(Command(resume=2, by="bob"), _config())
    with SqliteSaver.from_conn_string(path) as saver:
        app = _graph(saver, runs, approvals=3)
        with pytest.raises(ResumeError, match=r"'bob' already answered .* \(2 so far\)"):
            app.invoke(Command(resume=3, by="bob"), _config())
        out = app.invoke(Command(resume=3, by="carol"), _config())
    assert [(d.by, d.answer) for d in out["decisions"]] == [
        ("alice", 1), ("bob", 2), ("carol", 3)]
    assert runs == ["ask", "ask"]


def test_a_subgraphs_interrupt_is_tallied_at_the_top(saver: BaseCheckpointSaver,
                                                     run: Any) -> None:
    runs: list[str] = []
    inner = _graph(None, runs, approvals=2)  # type: ignore[arg-type]
    outer = StateGraph(State).add_node("review", inner)
    outer.add_edge(START, "review")
    app = outer.compile(checkpointer=saver)
    run.invoke(app, {}, _config())
    [asked] = run.get_state(app, _config()).interrupts
    waiting = run.invoke(app, Command(resume="yes", by="alice"), _config())
    assert waiting["__interrupt__"] == [asked] and runs == ["ask"]
    with pytest.raises(ResumeError, match="'alice' already answered"):
        run.invoke(app, Command(resume="yes", by="alice"), _config())
    out = run.invoke(app, Command(resume={asked.id: "sure"}, by="bob"), _config())
    assert [(d.by, d.answer) for d in out["decisions"]] == [("alice", "yes"), ("bob", "sure")]
    assert out["after"] == "done" and runs == ["ask", "ask"]


def test_one_approval_keeps_langgraphs_plain_answer(saver: BaseCheckpointSaver) -> None:
    runs: list[str] = []
    app = _graph(saver, runs, approvals=1, rejection={"ok": False})
    app.invoke({}, _config())
    assert app.invoke(Command(resume={"ok": True}), _config())["decisions"] == {"ok": True}


def test_a_plain_answer_beside_a_partial_one_runs_only_its_own_node(
        saver: BaseCheckpointSaver, run: Any) -> None:
    runs: list[str] = []

    def pair(state: State) -> State:
        runs.append("pair")
        return {"after": interrupt("plain?")}

    builder = StateGraph(State)
    builder.add_node("ask", lambda s: {"decisions": interrupt("two?", approvals=2)})
    builder.add_node("pair", pair)
    builder.add_edge(START, "ask")
    builder.add_edge(START, "pair")
    app = builder.compile(checkpointer=saver)
    run.invoke(app, {}, _config())
    ids = {i.value: i.id for i in run.get_state(app, _config()).interrupts}
    out = run.invoke(app, Command(resume={ids["two?"]: "yes", ids["plain?"]: "ok"}, by="ann"),
                     _config())
    assert [i.value for i in out["__interrupt__"]] == ["two?"] and runs == ["pair", "pair"]
    assert run.get_state(app, _config()).values == {"after": "ok"}
    out = run.invoke(app, Command(resume="yes", by="ben"), _config())
    assert [d.by for d in out["decisions"]] == ["ann", "ben"] and runs == ["pair", "pair"]


def test_a_node_that_fails_after_deciding_is_retried_with_the_same_answers(
        saver: BaseCheckpointSaver) -> None:
    calls: list[list[str]] = []

    def ask(state: State) -> State:
        decisions = interrupt("ship it?", approvals=2)
        calls.append([d.by for d in decisions])
        if len(calls) == 1:
            raise RuntimeError("the payment service is down")
        return {"decisions": decisions}

    builder = StateGraph(State).add_node("ask", ask)
    builder.add_edge(START, "ask")
    app = builder.compile(checkpointer=saver)
    app.invoke({}, _config())
    app.invoke(Command(resume="yes", by="ann"), _config())
    with pytest.raises(RuntimeError, match="payment service"):
        app.invoke(Command(resume="yes", by="ben"), _config())
    out = app.invoke(None, _config())
    assert calls == [["ann", "ben"], ["ann", "ben"]]
    assert [d.by for d in out["decisions"]] == ["ann", "ben"]


def test_a_decision_given_back_by_a_cancelled_run_is_undone(saver: BaseCheckpointSaver
                                                            ) -> None:
    """(The server's give-back, called as its worker does once a cancelled run stopped.)"""
    runs: list[str] = []
    app = _graph(saver, runs, approvals=2)
    app.invoke({}, _config())
    app.invoke(Command(resume="yes", by="ann"), _config())
    start = saver.get_tuple(_config())
    assert start is not None
    [task] = [w[0] for w in start.pending_writes or () if w[1] == "__interrupt__"]
    [asked] = app.get_state(_config()).interrupts
    stored = _stored_log(start.pending_writes, task)
    assert asked.policy is not None
    log = [*stored, *tally(asked.policy, stored, asked.id, "yes", "ben", "t")]
    before = answer_counts(start.pending_writes)
    saver.put_writes(start.config, [("__resume__", log)], task, "ask")  # ben's, then cancelled
    assert asyncio.run(give_back(saver, app, _config(), start.checkpoint["id"], before, None))
    assert app.get_state(_config()).interrupts == (asked,) and runs == ["ask"]
    with pytest.raises(ResumeError, match="'ann' already answered"):
        app.invoke(Command(resume="again", by="ann"), _config())
    out = app.invoke(Command(resume="yes, still", by="ben"), _config())
    assert [(d.by, d.answer) for d in out["decisions"]] == [("ann", "yes"), ("ben", "yes, still")]


def _stored_log(pending_writes: Any, task: str) -> list[list[Any]]:
    """The task's stored resume log (the longest of its `__resume__` writes)."""
    logs = [w[2] for w in pending_writes or () if w[0] == task and w[1] == "__resume__"]
    return [list(entry) for entry in max(logs, key=len)]


def test_an_answer_after_the_state_was_edited_counts_as_one(saver: BaseCheckpointSaver,
                                                            run: Any) -> None:
    """update_state over a waiting k-of-n interrupt closes it (as any question); the next
    answer goes to the node, which asks again, so it counts as the new round's first."""
    runs: list[str] = []
    app = _graph(saver, runs, approvals=2)
    run.invoke(app, {}, _config())
    run.invoke(app, Command(resume="yes", by="ann"), _config())
    run.update_state(app, _config(), {"after": "edited"})
    again = run.invoke(app, Command(resume="yes", by="ben"), _config())
    assert [i.value for i in again["__interrupt__"]] == ["ship it?"]
    out = run.invoke(app, Command(resume="yes", by="cat"), _config())
    assert [d.by for d in out["decisions"]] == ["ben", "cat"]
    assert runs == ["ask", "ask", "ask"]


def test_sends_and_entrypoints_wait_for_their_approvals(saver: BaseCheckpointSaver) -> None:
    runs: list[Any] = []

    class Fan(TypedDict, total=False):
        out: Annotated[list[Any], operator.add]

    def worker(arg: dict[str, int]) -> Fan:
        runs.append(arg["i"])
        return {"out": [(arg["i"], [d.by for d in interrupt(f"q{arg['i']}", approvals=2)])]}

    builder = StateGraph(Fan).add_node("worker", worker)
    builder.add_conditional_edges(
        START, lambda s: [Send("worker", {"i": i}) for i in range(2)], ["worker"])
    fan = builder.compile(checkpointer=saver)
    fan.invoke({"out": []}, _config("fan"))
    ids = {i.value: i.id for i in fan.get_state(_config("fan")).interrupts}
    fan.invoke(Command(resume={ids["q0"]: 1, ids["q1"]: 1}, by="ann"), _config("fan"))
    half = fan.invoke(Command(resume={ids["q0"]: 1}, by="ben"), _config("fan"))
    assert half["out"] == [(0, ["ann", "ben"])] and runs == [0, 1, 0]
    done = fan.invoke(Command(resume={ids["q1"]: 1}, by="cat"), _config("fan"))
    assert done["out"] == [(0, ["ann", "ben"]), (1, ["ann", "cat"])] and runs == [0, 1, 0, 1]

    @entrypoint(checkpointer=saver)
    def flow(x: int) -> list[str]:
        runs.append("flow")
        return [d.by for d in interrupt("ok?", approvals=2)]

    flow.invoke(1, _config("flow"))
    assert "__interrupt__" in flow.invoke(Command(resume=1, by="ann"), _config("flow"))
    assert flow.invoke(Command(resume=1, by="ben"), _config("flow")) == ["ann", "ben"]
    assert runs[-2:] == ["flow", "flow"]
