"""A database written by an older schema must keep working: the saver migrates it in place, and
a thread paused in it reads back whole and resumes to the same result as a run without pause."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _review_graph import EXPECTED_FINAL, build

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite._sql import MIGRATIONS
from hitlgraph.types import Command

GOLDEN = Path(__file__).parent / "sqlite_schema0.sqlite"
CONFIG = {"configurable": {"thread_id": "golden"}}


def _copy(tmp_path: Path) -> str:
    path = tmp_path / "old.sqlite"
    shutil.copy(GOLDEN, path)
    return str(path)


def test_schema0_file_is_migrated_to_the_latest_schema(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with SqliteSaver.from_conn_string(path):
        pass
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT MAX(v) FROM hitlgraph_checkpoint_migrations").fetchone() == (
        len(MIGRATIONS) - 1,
    )


def test_paused_thread_in_schema0_file_reads_back_and_resumes(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(_copy(tmp_path)) as saver:
        app = build().compile(checkpointer=saver)
        state = app.get_state(CONFIG)
        assert state.next == ("ask",)
        assert [i.value for i in state.interrupts] == [{"question": "ok?", "items": 9}]
        assert state.values["log"] == EXPECTED_FINAL[:-1]
        history = list(app.get_state_history(CONFIG))
        assert [s.metadata["step"] for s in history] == list(range(len(history) - 2, -2, -1))
        # The parallel step's checkpoint still has both tasks' writes.
        parallel = next(s for s in history if set(s.next) == {"left", "right"})
        found = saver.get_tuple(parallel.config)
        assert found is not None
        assert sorted(v for _, c, v in found.pending_writes if c == "log") == [["left"], ["right"]]
        assert app.invoke(Command(resume="yes"), CONFIG)["log"] == EXPECTED_FINAL


def test_schema0_result_matches_a_fresh_run(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "new.sqlite")) as saver:
        app = build().compile(checkpointer=saver)
        app.invoke({"log": []}, CONFIG)
        assert app.invoke(Command(resume="yes"), CONFIG)["log"] == EXPECTED_FINAL
