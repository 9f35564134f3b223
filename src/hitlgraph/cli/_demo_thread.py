"""Which thread `hitlgraph demo` uses: its id is kept in the checkpoint file itself (a small
table of its own), so that `hitlgraph demo` in a new process picks up a paused demo."""

from __future__ import annotations

import sqlite3
from typing import Any

__all__ = ["forget_demo_thread", "recall_demo_thread", "remember_demo_thread"]

_TABLE = "hitlgraph_cli_demo"


def _conn(saver: Any) -> sqlite3.Connection:
    conn = getattr(saver, "conn", None)
    if not isinstance(conn, sqlite3.Connection):
        raise TypeError("The demo keeps its thread id in a SqliteSaver's database.")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} "
                 "(name TEXT PRIMARY KEY, thread_id TEXT NOT NULL)")
    return conn


def recall_demo_thread(saver: Any) -> str | None:
    """The id of the last demo thread started with this database, or None."""
    with saver.lock:
        row = _conn(saver).execute(
            f"SELECT thread_id FROM {_TABLE} WHERE name = 'demo'").fetchone()
    return str(row[0]) if row else None


def remember_demo_thread(saver: Any, thread_id: str) -> None:
    """Make `thread_id` the demo thread of this database."""
    with saver.lock:
        _conn(saver).execute(
            f"INSERT INTO {_TABLE} (name, thread_id) VALUES ('demo', ?) "
            "ON CONFLICT(name) DO UPDATE SET thread_id = excluded.thread_id", (thread_id,))


def forget_demo_thread(saver: Any) -> None:
    """Forget the demo thread (the next `hitlgraph demo` starts a new one)."""
    with saver.lock:
        _conn(saver).execute(f"DELETE FROM {_TABLE} WHERE name = 'demo'")
