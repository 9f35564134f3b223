"""Who answered at the terminal (the decision log's `by` on the prompt path) and exit code 6
when the checkpoint database was changed behind hitlgraph's back."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path
from typing import Any, TypedDict

import pytest
from _cli_invoke import Invoke

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._errors import ExitCode, exit_codes_help
from hitlgraph.cli._session import drive
from hitlgraph.cli._threads import PendingInterrupt
from hitlgraph.errors import InvalidAnswerError
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import interrupt


def test_an_answer_typed_at_the_prompt_is_logged_as_the_os_user(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:greet", "--input", "{}", input="Ada\n")
    assert result.exit_code == ExitCode.OK, result.stdout
    [row] = hitlgraph.json("audit", "list")
    assert (row["by"], row["answer"], row["outcome"]) == (getpass.getuser(), "Ada", "answered")


def test_a_prompt_resume_is_logged_as_the_os_user(hitlgraph: Invoke) -> None:
    out = hitlgraph.json("run", "flows:greet", "--input", "{}", "--no-input",
                         code=ExitCode.PAUSED)
    result = hitlgraph("resume", str(out["thread_id"]), input="Bob\n")
    assert result.exit_code == ExitCode.OK, result.stdout
    [row] = hitlgraph.json("audit", "list")
    assert (row["by"], row["answer"]) == (getpass.getuser(), "Bob")


def test_by_names_who_answers_at_the_prompt_of_run_and_resume(hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:greet", "--input", "{}", "--by", "carol", input="Ada\n")
    assert result.exit_code == ExitCode.OK, result.stdout
    out = hitlgraph.json("run", "flows:greet", "--input", "{}", "--no-input",
                         code=ExitCode.PAUSED)
    result = hitlgraph("resume", str(out["thread_id"]), "--by", "dana", input="Bob\n")
    assert result.exit_code == ExitCode.OK, result.stdout
    rows = hitlgraph.json("audit", "list")
    assert [(r["by"], r["answer"]) for r in rows] == [("dana", "Bob"), ("carol", "Ada")]


def test_an_empty_by_is_refused_before_anything_runs(hitlgraph: Invoke,
                                                      workdir: Path) -> None:
    result = hitlgraph("run", "flows:greet", "--input", "{}", "--by", " ", input="Ada\n")
    assert result.exit_code == ExitCode.USAGE
    assert "--by must name someone" in result.stderr
    assert not (workdir / "hitlgraph.sqlite").exists()


class _Names:
    """An Asker that answers every question with the next name."""

    def __init__(self, *names: str) -> None:
        self.names = list(names)

    def answer(self, item: PendingInterrupt, index: int = 1, total: int = 1, *,
               schema: dict[str, Any] | None = None) -> Any:
        return self.names.pop(0)

    def go_on(self, next_nodes: tuple[str, ...]) -> None:
        raise AssertionError(f"no breakpoint expected, got {next_nodes}")

    def failed(self, error: Exception) -> None:
        raise error

    def refused(self, error: InvalidAnswerError, tries_left: int) -> None:
        raise error


class _Two(TypedDict, total=False):
    first: str
    second: str


def test_drive_logs_each_prompt_answer_as_given_by(workdir: Path) -> None:
    def ask(state: _Two) -> _Two:
        return {"first": interrupt("first?"), "second": interrupt("second?")}

    builder = StateGraph(_Two).add_node("ask", ask).add_edge(START, "ask")
    with SqliteSaver.from_conn_string(str(workdir / "by.sqlite")) as saver:
        graph = builder.compile(checkpointer=saver)
        outcome = drive(graph, {}, "t-by", asker=_Names("x", "y"), by="carol")
        assert outcome.done
        rows = list(saver.list_decisions(thread_id="t-by"))
    assert [(r.by, r.answer) for r in rows] == [("carol", "y"), ("carol", "x")]


_DAMAGE = {
    "checkpoint": "UPDATE checkpoints SET record = x'c1c1c1' WHERE thread_id = ?",
    "writes": "UPDATE writes SET writes = x'c1c1' WHERE thread_id = ?",
    "index": "UPDATE pending_interrupts SET value = x'c1c1' WHERE thread_id = ?",
    "decision": "UPDATE decisions SET answer = '{not json' WHERE thread_id = ?",
}
"""Hand edits of the CLI's SQLite file: each makes some stored rows of a thread unreadable."""


def _damage(workdir: Path, what: str, thread_id: str) -> None:
    conn = sqlite3.connect(workdir / "hitlgraph.sqlite")
    try:
        with conn:
            changed = conn.execute(_DAMAGE[what], (thread_id,)).rowcount
    finally:
        conn.close()
    assert changed > 0, (what, thread_id)


def _paused_and_answered(hitlgraph: Invoke) -> tuple[str, str, str]:
    """(a thread paused at its question, that question's id, a thread answered by 'Ada')."""
    paused = hitlgraph.json("run", "flows:greet", "--input", "{}", "--no-input",
                            code=ExitCode.PAUSED)
    answered = hitlgraph.json("run", "flows:greet", "--input", "{}", "--no-input",
                              code=ExitCode.PAUSED)
    hitlgraph.json("resume", str(answered["thread_id"]), "--value", "Ada")
    return (str(paused["thread_id"]), str(paused["interrupts"][0]["id"]),
            str(answered["thread_id"]))


_COMMANDS = [
    ("checkpoint", ("threads",)),
    ("checkpoint", ("state", "{paused}")),
    ("checkpoint", ("state", "{paused}", "--graph", "flows:greet")),
    ("checkpoint", ("history", "{paused}")),
    ("checkpoint", ("resume", "{paused}", "--value", "Bob")),
    ("checkpoint", ("resume", "{paused}")),
    ("checkpoint", ("run", "flows:greet", "--thread", "{paused}", "--input", "{{}}",
                    "--no-input")),
    ("checkpoint", ("claim", "{paused}", "{interrupt}", "--as", "ann")),
    ("writes", ("state", "{paused}")),
    ("writes", ("resume", "{paused}", "--value", "Bob")),
    ("index", ("threads", "--pending")),
    ("decision", ("audit", "list")),
    ("decision", ("audit", "verify")),
]


@pytest.mark.parametrize(("what", "args"), _COMMANDS,
                         ids=[f"{what}:{' '.join(x for x in a if '{' not in x)}"
                              for what, a in _COMMANDS])
def test_damaged_rows_exit_6_naming_what_cannot_be_read(hitlgraph: Invoke, workdir: Path,
                                                        what: str, args: tuple[str, ...]
                                                        ) -> None:
    paused, interrupt_id, answered = _paused_and_answered(hitlgraph)
    _damage(workdir, what, answered if what == "decision" else paused)
    argv = [a.format(paused=paused, interrupt=interrupt_id) for a in args]
    result = hitlgraph(*argv, input="Bob\n")
    assert result.exit_code == ExitCode.TAMPERED == 6, (argv, result.stdout, result.stderr)
    shown = result.stdout + result.stderr
    assert "Traceback" not in shown
    if what == "decision":
        assert "decision" in shown and ("cannot be read" in shown or "changed" in shown)
    else:
        assert repr(paused) in result.stderr and "cannot be read" in result.stderr


def test_a_value_a_node_cannot_store_is_the_graphs_error_not_tampering(
        hitlgraph: Invoke) -> None:
    result = hitlgraph("run", "flows:unstorable", "--input", "{}", "--no-input")
    assert result.exit_code == ExitCode.GRAPH_ERROR, (result.stdout, result.stderr)
    assert "'log'" in result.stderr


def test_exit_code_6_is_in_the_help() -> None:
    assert ("    6  tampered: a checkpoint or decision-log row was changed, removed or cannot "
            "be read") in exit_codes_help()
