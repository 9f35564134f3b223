"""Crashes and lost connections at named sites (hitlgraph._faults): before a checkpoint is
written and before a task's writes are stored, at each site's first occurrences. After a
clean run every thread ends as without faults, history is linear, and the ledger holds every
effect once (see _checks.verify)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _checks import drive, verify
from _tiers import tier

SITES = ["checkpoint.before_put", "checkpoint.before_writes"]


def _finish(db: str, ledger: Path) -> None:
    last = drive(db, 1, ledger, errors=True)
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err.decode()


@pytest.mark.parametrize("occurrences", tier((2, 7), (1, 2, 3, 4, 5)))
@pytest.mark.parametrize("action", ["kill", "raise"])
@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_fault_at_a_persistence_site_loses_and_repeats_nothing(
        backend: str, site: str, action: str, occurrences: tuple[int, ...], database: str,
        tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    for nth in occurrences:
        child = drive(database, 1, ledger, faults=f"{site}:{action}@{nth}", errors=True)
        _, err = child.communicate(timeout=300)
        if action == "kill":
            assert child.returncode == -9, err.decode()
        else:
            assert child.returncode == 1 and b"InjectedFault" in err, err.decode()
    _finish(database, ledger)
    verify(database, 1, ledger, tmp_path)


def test_a_misspelled_fault_stops_the_process_at_import() -> None:
    found = subprocess.run([sys.executable, "-c", "import hitlgraph._faults"],
                           env={"HITLGRAPH_FAULTS": "checkpoint.nowhere:kill", "PATH": ""},
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 1 and "checkpoint.before_put" in found.stderr, found.stderr
