"""`hitlgraph expire`, `claim`, `release` and `reassign` on a checkpoint file: what each
prints, its --json, and its exit codes."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("click", reason="the CLI tests need the cli extra: pip install -e '.[cli]'")

from click.testing import CliRunner, Result

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli import ExitCode, cli

HERE = Path(__file__).resolve().parent
GRAPHS = '''
from _expire_graphs import build

ANSWER = build("answer")
CANCEL = build("cancel")
'''
LATER = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(HERE / "_expire_graphs.py", tmp_path / "_expire_graphs.py")
    (tmp_path / "expiry_flows.py").write_text(GRAPHS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HITLGRAPH_DB", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _pause(thread: str, graph: str) -> str:
    """Run the graph on `thread` until it asks; the interrupt's id."""
    result = _cli("run", f"expiry_flows:{graph}", "--input", "{}", "--thread", thread,
                  "--no-input", "--json")
    assert result.exit_code == ExitCode.PAUSED, result.stdout + result.stderr
    with SqliteSaver.from_conn_string("hitlgraph.sqlite") as saver:
        [item] = saver.list_pending(thread_id=thread)
        return item.interrupt_id


def test_expire_resumes_and_cancels_what_is_due(workdir: Path) -> None:
    _pause("a", "ANSWER")
    _pause("c", "CANCEL")
    assert _cli("expire").stdout.strip() == "Nothing due."
    result = _cli("expire", "--now", LATER, "--json")
    assert result.exit_code == 0, result.stderr
    assert sorted((d["thread_id"], d["result"]) for d in json.loads(result.stdout)) == [
        ("a", "answered"), ("c", "cancelled")]
    state = json.loads(_cli("state", "a", "--json").stdout)
    assert "finished with" in json.dumps(state)
    assert json.loads(_cli("expire", "--now", LATER, "--json").stdout) == []


def test_expire_reports_a_bad_now(workdir: Path) -> None:
    _pause("a", "ANSWER")
    result = _cli("expire", "--now", "tomorrow")
    assert result.exit_code == ExitCode.USAGE and "--now='tomorrow'" in result.stderr


def test_claim_release_reassign(workdir: Path) -> None:
    iid = _pause("t", "CANCEL")
    claimed = json.loads(_cli("claim", "t", iid, "--as", "alice", "--json").stdout)
    assert (claimed["outcome"], claimed["to"]) == ("claimed", "alice")
    refused = _cli("claim", "t", iid, "--as", "bob")
    assert refused.exit_code == ExitCode.USAGE and "'alice' holds it" in refused.stderr
    assert _cli("release", "t", iid, "--as", "bob").exit_code == ExitCode.USAGE
    moved = _cli("reassign", "t", iid, "--to", "carol", "--as", "bob")
    assert moved.exit_code == 0 and "held by carol" in moved.stdout
    assert _cli("release", "t", iid, "--as", "dave", "--force").exit_code == 0
    missing = _cli("claim", "t", "no-such-interrupt", "--as", "alice")
    assert missing.exit_code == ExitCode.NOT_FOUND and "is not open" in missing.stderr
    audit: Any = json.loads(_cli("audit", "list", "--json").stdout)
    assert [row["outcome"] for row in audit] == ["released", "reassigned", "claimed"]
