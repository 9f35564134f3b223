"""Review groups at resume (issue 14): the engine checks each answer's `by` against the
interrupt's approvers, a group's members by the Groups the run's config carries
(Groups(...).on(config)); a refused answer writes nothing. Over memory, a SQLite file and
PostgreSQL, with both drivers."""

from __future__ import annotations

from typing import Any

import pytest
from _groups_graph import ask_graph

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.errors import ResumeError
from hitlgraph.review import DecisionLog, Groups
from hitlgraph.types import Command

FINANCE = Groups({"finance": ["alice", "bob"]})


def _config(groups: Groups | None = FINANCE) -> dict[str, Any]:
    config = {"configurable": {"thread_id": "t"}}
    return config if groups is None else groups.on(config)


@pytest.mark.parametrize("approvals", [1, 2])
def test_an_answer_from_outside_the_group_is_refused_and_writes_nothing(
        saver: BaseCheckpointSaver, run: Any, approvals: int) -> None:
    app = ask_graph(saver, approvals=approvals, approvers="finance")
    run.invoke(app, {}, _config())
    for by, groups, message in (
            ("carol", FINANCE, r"'carol' may not answer .* members of group 'finance'"),
            ("alice", None, r"no group membership to check 'alice'"),
            (None, FINANCE, r"say whose it is")):
        with pytest.raises(ResumeError, match=message):
            run.invoke(app, Command(resume="yes", by=by), _config(groups))
    assert isinstance(saver, DecisionLog)
    assert list(saver.list_decisions(thread_id="t")) == []
    assert len(run.get_state(app, _config()).interrupts) == 1
    out = run.invoke(app, Command(resume="yes", by="alice"), _config())
    if approvals == 2:
        assert "__interrupt__" in out
        out = run.invoke(app, Command(resume="yes", by="bob"), _config())
        assert [d.by for d in out["answer"]] == ["alice", "bob"]
    else:
        assert out["answer"] == "yes"


def test_a_listed_approver_needs_no_groups(saver: BaseCheckpointSaver, run: Any) -> None:
    app = ask_graph(saver, approvers=["alice"])
    run.invoke(app, {}, _config(None))
    with pytest.raises(ResumeError, match=r"'bob' may not answer .* approvers are 'alice'"):
        run.invoke(app, Command(resume="yes", by="bob"), _config(None))
    assert run.invoke(app, Command(resume="ok", by="alice"), _config(None))["answer"] == "ok"
