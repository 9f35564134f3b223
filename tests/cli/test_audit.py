"""`hitlgraph audit list` and `audit verify`, and the `by` the CLI records when it answers."""

from __future__ import annotations

import getpass
import json
import sqlite3
from pathlib import Path

from _cli_invoke import Invoke

from hitlgraph.cli._audit import TAMPERED
from hitlgraph.cli._errors import ExitCode


def _answer(hitlgraph: Invoke, name: str, *extra: str) -> str:
    out = hitlgraph.json("run", "flows:greet", "--input", "{}", "--no-input",
                         code=ExitCode.PAUSED)
    thread = str(out["thread_id"])
    hitlgraph.json("resume", thread, "--value", name, *extra)
    return thread


def test_audit_list_shows_who_answered_and_why(hitlgraph: Invoke) -> None:
    first = _answer(hitlgraph, "Ada", "--by", "alice", "--reason", "asked in person")
    second = _answer(hitlgraph, "Bob", "--by", "bob")
    rows = hitlgraph.json("audit", "list")
    assert [(r["thread_id"], r["by"], r["answer"], r["reason"], r["node"], r["outcome"])
            for r in rows] == [(second, "bob", "Bob", None, "ask_name", "answered"),
                               (first, "alice", "Ada", "asked in person", "ask_name",
                                "answered")]
    assert [r["seq"] for r in hitlgraph.json("audit", "list", "--by", "alice")] == [1]
    assert [r["seq"] for r in hitlgraph.json("audit", "list", "--thread", second)] == [2]
    assert [r["seq"] for r in hitlgraph.json("audit", "list", "--limit", "1")] == [2]
    assert hitlgraph.json("audit", "list", "--since", "2999-01-01T00:00:00Z") == []
    table = hitlgraph("audit", "list")
    assert table.exit_code == 0 and "alice" in table.stdout and "asked in person" in table.stdout


def test_the_cli_records_the_user_name_without_by(hitlgraph: Invoke) -> None:
    _answer(hitlgraph, "Ada")
    [row] = hitlgraph.json("audit", "list")
    assert row["by"] == getpass.getuser()


def test_reason_without_value_is_a_usage_error(hitlgraph: Invoke) -> None:
    out = hitlgraph.json("run", "flows:greet", "--input", "{}", "--no-input",
                         code=ExitCode.PAUSED)
    result = hitlgraph("resume", str(out["thread_id"]), "--by", "alice", "--reason", "why",
                       "--no-input")
    assert result.exit_code == ExitCode.USAGE
    assert "--reason TEXT says why --value is given: give --value ANSWER too" in result.stderr


def test_a_bad_since_is_a_usage_error(hitlgraph: Invoke) -> None:
    _answer(hitlgraph, "Ada")
    result = hitlgraph("audit", "list", "--since", "yesterday")
    assert result.exit_code == ExitCode.USAGE and "'yesterday'" in result.stderr


def test_audit_verify_passes_then_names_the_changed_or_removed_row(
        hitlgraph: Invoke, workdir: Path) -> None:
    for name in ("Ada", "Bob", "Cy"):
        _answer(hitlgraph, name)
    assert hitlgraph.json("audit", "verify") == {"intact": True, "decisions": 3,
                                                 "first_bad": None}
    ok = hitlgraph("audit", "verify")
    assert ok.exit_code == 0 and "intact: 3 decisions" in ok.stdout
    with sqlite3.connect(workdir / "hitlgraph.sqlite") as conn:
        conn.execute("UPDATE decisions SET answer = '\"Eve\"' WHERE seq = 2")
    bad = hitlgraph("audit", "verify")
    assert bad.exit_code == TAMPERED
    assert "decision 2 was changed" in bad.stdout
    with sqlite3.connect(workdir / "hitlgraph.sqlite") as conn:
        conn.execute("UPDATE decisions SET answer = '\"Bob\"' WHERE seq = 2")
        conn.execute("DELETE FROM decisions WHERE seq = 1")
    result = hitlgraph("audit", "verify", "--json")
    assert result.exit_code == TAMPERED
    assert json.loads(result.stdout)["first_bad"] == {"seq": 1, "problem": "removed"}
    assert "decision 1 was removed" in result.stderr


def test_audit_without_a_database_says_so(hitlgraph: Invoke) -> None:
    result = hitlgraph("audit", "verify", "--db", "missing.sqlite")
    assert result.exit_code == ExitCode.NOT_FOUND and "missing.sqlite" in result.stderr
