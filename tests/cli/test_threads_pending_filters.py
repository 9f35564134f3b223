"""`hitlgraph threads --pending --assignee/--group/--unassigned/--overdue`: the filters of the
database's index of open interrupts (interrupt(..., assignee=, group=, expires_in=)), each of
which implies --pending."""

from __future__ import annotations

import time
from pathlib import Path

from _cli_invoke import Invoke

from hitlgraph.cli._errors import ExitCode

POLICY_FLOWS = '''
from typing import TypedDict

from hitlgraph.graph import START, StateGraph
from hitlgraph.types import interrupt


class Ask(TypedDict, total=False):
    who: str
    group: str
    seconds: float
    answer: str


def ask(state: Ask) -> Ask:
    answer = interrupt("ok?", assignee=state.get("who"), group=state.get("group"),
                       expires_in=state.get("seconds"))
    return {"answer": answer}


asking = StateGraph(Ask).add_node("ask", ask).add_edge(START, "ask").compile()
'''


def _pause(hitlgraph: Invoke, thread: str, given: str) -> None:
    result = hitlgraph("run", "policy_flows:asking", "--thread", thread, "--input", given,
                       "--no-input")
    assert result.exit_code == ExitCode.PAUSED, result.stdout


def test_pending_filters_select_by_assignee_group_and_deadline(hitlgraph: Invoke,
                                                               workdir: Path) -> None:
    (workdir / "policy_flows.py").write_text(POLICY_FLOWS)
    _pause(hitlgraph, "t-alice", '{"who": "alice", "seconds": 3600}')
    _pause(hitlgraph, "t-ops", '{"group": "ops"}')
    _pause(hitlgraph, "t-late", '{"who": "bob", "group": "ops", "seconds": 0.01}')
    time.sleep(0.05)

    def listed(*args: str) -> list[str]:
        return [t["thread_id"] for t in hitlgraph.json("threads", *args)]

    assert sorted(listed("--pending")) == ["t-alice", "t-late", "t-ops"]
    assert listed("--assignee", "alice") == ["t-alice"]
    assert sorted(listed("--pending", "--group", "ops")) == ["t-late", "t-ops"]
    assert listed("--unassigned") == ["t-ops"]
    assert listed("--overdue") == ["t-late"]
    assert listed("--group", "ops", "--overdue") == ["t-late"]
    assert listed("--assignee", "carol") == []
    table = hitlgraph("threads", "--assignee", "alice")
    assert table.exit_code == 0 and "t-alice" in table.stdout and "t-ops" not in table.stdout
