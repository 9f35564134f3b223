"""kill -9 at random times of a process running graphs with questions and a fan-out.

A child process (`_child.py drive`) takes each thread of the ledger graph from wherever it
stands to its end; the test kills it with SIGKILL at random moments, then lets a last child
finish. Every thread must end with the state a run without faults ends with, its history
must be one chain (each checkpoint the child of the one before), and the side-effect ledger
must hold every effect exactly once (the graph's effects carry idempotency keys, so a node
run again after a kill applies nothing twice; the attempts table counts the runs again).
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from _checks import drive, verify
from _tiers import tier


@pytest.mark.parametrize("kills", tier(2, 200))
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill9_at_random_times_loses_and_repeats_nothing(
        backend: str, kills: int, database: str, tmp_path: Path) -> None:
    # Enough work left for most kills to land mid-run: a child starts in about 0.3 s and
    # takes a 50-superstep thread to its end in a fraction of a second.
    threads = max(2, 2 * kills)
    ledger = tmp_path / "ledger.sqlite"
    rng = random.Random(kills)
    landed = 0
    for _ in range(kills):
        child = drive(database, threads, ledger)
        time.sleep(rng.uniform(0.3, 1.5))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            landed += 1
        child.wait(timeout=30)
    last = drive(database, threads, ledger, errors=True)
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err.decode()
    repeated = verify(database, threads, ledger, tmp_path)
    print(f"\n{backend}: {landed} of {kills} kills landed mid-run; {repeated} node runs "
          "repeated after kills; 0 effects lost, 0 duplicated; history linear")
