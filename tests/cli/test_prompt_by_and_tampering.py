"""Who answered at the terminal (the decision log's `by` on the prompt path) and exit code 6
when the checkpoint database was changed behind hitlgraph's back."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path
from typing import Any, TypedDict

from conftest import Invoke
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


def _damage(workdir: Path, thread_id: str) -> None:
    with sqlite3.connect(workdir / "hitlgraph.sqlite") as conn:
        changed = conn.execute("UPDATE checkpoints SET record = x'c1c1c1' WHERE thread_id = ?",
                               (thread_id,)).rowcount
    assert changed > 0


def test_a_damaged_checkpoint_exits_6_naming_the_thread(hitlgraph: Invoke,
                                                        workdir: Path) -> None:
    out = hitlgraph.json("run", "flows:greet", "--input", "{}", "--no-input",
                         code=ExitCode.PAUSED)
    thread = str(out["thread_id"])
    _damage(workdir, thread)
    for args in (("threads",),
                 ("run", "flows:greet", "--thread", thread, "--input", "{}", "--no-input")):
        result = hitlgraph(*args)
        assert result.exit_code == ExitCode.TAMPERED == 6, (args, result.stdout)
        assert repr(thread) in result.stderr and "cannot be read" in result.stderr


def test_exit_code_6_is_in_the_help() -> None:
    assert "    6  tampered: a decision-log row or a checkpoint was changed" in exit_codes_help()
