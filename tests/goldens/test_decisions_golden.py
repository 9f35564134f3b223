"""A database made before the decision log existed (schema 3) gets it when first opened
(migration 4): an empty, intact log, which then records the threads' next decisions."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _review_graph import build

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite._schema import MIGRATIONS
from hitlgraph.types import Command

GOLDEN = Path(__file__).parent / "sqlite_schema3_paused.sqlite"


def _copy(tmp_path: Path) -> str:
    path = tmp_path / "paused.sqlite"
    shutil.copy(GOLDEN, path)
    return str(path)


def test_the_golden_file_is_of_schema_3() -> None:
    conn = sqlite3.connect(GOLDEN)
    assert conn.execute("SELECT MAX(v) FROM hitlgraph_checkpoint_migrations").fetchone() == (3,)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "pending_interrupts" in tables and "decisions" not in tables


def test_schema3_file_gets_an_empty_intact_decision_log(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with SqliteSaver.from_conn_string(path) as saver:
        assert list(saver.list_decisions()) == []
        assert saver.verify_decisions() is None
    assert sqlite3.connect(path).execute(
        "SELECT MAX(v) FROM hitlgraph_checkpoint_migrations").fetchone() == (len(MIGRATIONS) - 1,)


def test_a_thread_paused_before_the_log_existed_logs_its_answer(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(_copy(tmp_path)) as saver:
        app = build().compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "served"}}
        app.invoke(Command(resume="yes", by="alice", reason="checked"), config)
        [found] = saver.list_decisions()
        assert (found.seq, found.thread_id, found.node, found.answer, found.by, found.reason,
                found.outcome) == (1, "served", "ask", "yes", "alice", "checked", "answered")
        assert saver.verify_decisions() is None
