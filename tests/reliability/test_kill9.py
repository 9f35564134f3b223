"""kill -9 at random times of a process running graphs with questions and a fan-out.

A child process (`_child.py drive`) takes each thread of the ledger graph from wherever it
stands to its end; the test kills it with SIGKILL at random moments, then lets a last child
finish. Every thread must end with the state a run without faults ends with, its history
must be one chain (each checkpoint the child of the one before), and the side-effect ledger
must hold every effect exactly once (the graph's effects carry idempotency keys, so a node
run again after a kill applies nothing twice; the attempts table counts the runs again).
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _child
import pytest
from _tiers import tier

from hitlgraph.checkpoint.memory import InMemorySaver

HERE = Path(__file__).parent


def _spawn(db: str, threads: int, ledger: Path, *, errors: bool = False
           ) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEDGER": str(ledger)}
    return subprocess.Popen([sys.executable, str(HERE / "_child.py"), "drive", db, str(threads)],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if errors else subprocess.DEVNULL)


def _fault_free(threads: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> dict[str, dict[str, Any]]:
    monkeypatch.setenv("LEDGER", str(tmp_path / "reference-ledger.sqlite"))
    graph = _child.builder().compile(checkpointer=InMemorySaver())
    finals = {}
    for t in range(threads):
        _child.finish_thread(graph, f"t{t}")
        finals[f"t{t}"] = graph.get_state({"configurable": {"thread_id": f"t{t}"}}).values
    return finals


def _database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return str(tmp_path / "checkpoints.sqlite")
    return str(request.getfixturevalue("pg_conninfo"))


@pytest.mark.parametrize("kills", tier(2, 200))
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill9_at_random_times_loses_and_repeats_nothing(
        backend: str, kills: int, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    threads = 2 if kills < 10 else 4
    db = _database(backend, tmp_path, request)
    ledger = tmp_path / "ledger.sqlite"
    rng = random.Random(kills)
    landed = 0
    for _ in range(kills):
        child = _spawn(db, threads, ledger)
        time.sleep(rng.uniform(0.6, 2.5))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            landed += 1
        child.wait(timeout=30)
    last = _spawn(db, threads, ledger, errors=True)
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err.decode()

    finals = _fault_free(threads, tmp_path, monkeypatch)
    with _child.open_saver(db) as saver:
        graph = _child.builder().compile(checkpointer=saver)
        for thread_id, expected in finals.items():
            config = {"configurable": {"thread_id": thread_id}}
            assert graph.get_state(config).values == expected
            history = list(saver.list(config))
            root = [h for h in history if h.config["configurable"]["checkpoint_ns"] == ""]
            for newer, older in itertools.pairwise(root):
                assert newer.parent_config is not None
                assert newer.parent_config["configurable"]["checkpoint_id"] == (
                    older.config["configurable"]["checkpoint_id"]), "history forked"
            assert root[-1].parent_config is None
    with sqlite3.connect(ledger) as conn:
        effects = {row[0] for row in conn.execute("SELECT key FROM effects")}
        attempts = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    conn.close()
    wanted = set().union(*(_child.expected_effects(t) for t in finals))
    assert wanted - effects == set(), "effects lost"
    assert effects - wanted == set(), "unexpected effects"
    print(f"\n{backend}: {landed} kills landed of {kills}; {len(wanted)} effects, "
          f"{attempts - len(wanted)} node runs repeated after kills, 0 lost, 0 duplicated")
