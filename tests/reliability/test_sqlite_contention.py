"""Four processes writing checkpoints to one SQLite file at once: no call fails with
"database is locked" (the saver's busy timeout and short write transactions absorb the
contention), and every thread reads back whole afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _tiers import tier

from hitlgraph.checkpoint.sqlite import SqliteSaver

HERE = Path(__file__).parent
PROCESSES = 4


@pytest.mark.parametrize("writes", tier(60, 1000))
def test_four_processes_on_one_file_never_see_database_is_locked(writes: int,
                                                                  tmp_path: Path) -> None:
    db = str(tmp_path / "contended.sqlite")
    with SqliteSaver.from_conn_string(db):
        pass  # migrated once, so the children contend on writes only
    started = time.monotonic()
    children = [subprocess.Popen([sys.executable, str(HERE / "_child.py"), "contend", db,
                                  str(writes)], cwd=tmp_path, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
                for _ in range(PROCESSES)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    elapsed = time.monotonic() - started
    assert sum(r["locked"] for r in results) == 0, results
    assert sum(r["other"] for r in results) == 0, results
    with SqliteSaver.from_conn_string(db) as saver:
        stored = sum(1 for _ in saver.list(None))
    assert stored >= PROCESSES * writes
    print(f"\n{PROCESSES} processes x {writes} checkpoint writes: {stored} stored, "
          f"0 'database is locked', {elapsed:.1f} s")
