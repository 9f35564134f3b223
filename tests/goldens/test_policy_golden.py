"""A database of schema 5 (its index of open interrupts without review policies) gets the
policy columns when first opened (migration 6): the policies of its open interrupts are read
from their stored writes, their deadlines counted from when each was indexed."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from make_policy_golden import ask_with_policy, build

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite._schema import MIGRATIONS
from hitlgraph.review import Expire
from hitlgraph.types import Command

GOLDEN = Path(__file__).parent / "sqlite_schema5_paused.sqlite"


def _copy(tmp_path: Path) -> str:
    path = tmp_path / "paused.sqlite"
    shutil.copy(GOLDEN, path)
    return str(path)


def test_schema5_file_gets_the_policies_of_its_open_interrupts(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    assert sqlite3.connect(path).execute(
        "SELECT MAX(v) FROM hitlgraph_checkpoint_migrations").fetchone() == (5,)
    with SqliteSaver.from_conn_string(path) as saver:
        found = {p.thread_id: p for p in saver.list_pending()}
        held, plain = found["with-policy"], found["plain"]
        assert held.policy is not None
        assert held.policy.on_expire == Expire.answer({"approved": False})
        created = datetime.fromisoformat(held.created_at)
        assert held.expires_at is not None and held.warn_at is not None
        assert datetime.fromisoformat(held.expires_at) - created == timedelta(hours=1)
        assert datetime.fromisoformat(held.warn_at) - created == timedelta(minutes=50)
        assert (held.assignee, held.group, held.approvals) == ("bob", "support", 1)
        assert (plain.policy, plain.expires_at, plain.assignee) == (None, None, None)
        assert [p.thread_id for p in saver.list_pending(assignee="bob")] == ["with-policy"]
        assert [p.thread_id for p in saver.list_pending(order="deadline")] == [
            "with-policy", "plain"]
        assert [e.seq for e in saver.list_review_events()] == [1, 2]
    assert sqlite3.connect(path).execute(
        "SELECT MAX(v) FROM hitlgraph_checkpoint_migrations").fetchone() == (len(MIGRATIONS) - 1,)


def test_the_migrated_index_follows_the_threads(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(_copy(tmp_path)) as saver:
        app = build(ask_with_policy).compile(checkpointer=saver)
        app.invoke(Command(resume={"approved": True}, by="alice"),
                   {"configurable": {"thread_id": "with-policy"}})
        assert [p.thread_id for p in saver.list_pending()] == ["plain"]
        [decided] = saver.list_review_events(after=2)
        assert (decided.kind, decided.thread_id, decided.data["by"]) == (
            "interrupt.decided", "with-policy", "alice")
