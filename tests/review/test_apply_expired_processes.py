"""Two processes applying due policies at once, on one SQLite file and on PostgreSQL:
every interrupt gets exactly one decision (the default answers' resumes claim their answer
compare-and-set; cancels and escalations change the index entry compare-and-set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _expire_graphs import build

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.sqlite import SqliteSaver

HERE = Path(__file__).parent
RULES = ["answer", "cancel", "escalate"]
THREADS = 12


def _pause_all(saver: BaseCheckpointSaver) -> str:
    """Pause THREADS threads, each rule in turn; the time just after their deadlines."""
    for i in range(THREADS):
        app = build(RULES[i % 3]).compile(checkpointer=saver)
        app.invoke({}, {"configurable": {"thread_id": f"t{i}"}})
    latest = max(p.expires_at for p in saver.list_pending(limit=100))  # type: ignore[attr-defined]
    return (datetime.fromisoformat(latest) + timedelta(minutes=1)).isoformat()


def _race(kind: str, target: str, now: str, tmp_path: Path) -> list[tuple[str, str]]:
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    workers = [subprocess.Popen(
        [sys.executable, str(HERE / "_expire_worker.py"), kind, target, now, str(go)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready", worker.stderr
    go.touch()
    done: list[tuple[str, str]] = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        done.extend(tuple(json.loads(line)) for line in out.splitlines())
    return done


def _check(saver: Any, done: list[tuple[str, str]]) -> None:
    acted = Counter(thread for thread, result in done if result != "skipped")
    assert acted == Counter({f"t{i}": 1 for i in range(THREADS)}), done
    decided = Counter(d.thread_id for d in saver.list_decisions(limit=100))
    assert decided == Counter({f"t{i}": 1 for i in range(THREADS)})
    assert saver.verify_decisions() is None
    outcomes = Counter(d.outcome for d in saver.list_decisions(limit=100))
    assert outcomes == Counter({"answered": 4, "expired": 4, "reassigned": 4})


def test_two_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    path = str(tmp_path / "race.sqlite")
    with SqliteSaver.from_conn_string(path) as saver:
        now = _pause_all(saver)
    done = _race("sqlite", path, now, tmp_path)
    with SqliteSaver.from_conn_string(path) as saver:
        _check(saver, done)


def test_two_processes_on_postgres(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from hitlgraph.checkpoint.postgres import PostgresSaver

    conninfo = request.getfixturevalue("pg_conninfo")
    with PostgresSaver.from_conn_string(conninfo) as saver:
        now = _pause_all(saver)
    done = _race("postgres", conninfo, now, tmp_path)
    with PostgresSaver.from_conn_string(conninfo) as saver:
        _check(saver, done)
