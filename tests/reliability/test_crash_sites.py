"""Crashes and lost connections at named sites (hitlgraph._faults): before a checkpoint is
written and before a task's writes are stored, at each site's first occurrences. After a
clean run every thread ends as without faults, history is linear, and the ledger holds every
effect once (see _checks.verify)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _checks import faulted_then_finished, verify
from _tiers import tier

SITES = ["checkpoint.before_put", "checkpoint.before_writes"]


@pytest.mark.parametrize("occurrences", tier((2, 7), (1, 2, 3, 4, 5)))
@pytest.mark.parametrize("action", ["kill", "raise"])
@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_fault_at_a_persistence_site_loses_and_repeats_nothing(
        backend: str, site: str, action: str, occurrences: tuple[int, ...], database: str,
        tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    faulted_then_finished(database, ledger, [f"{site}:{action}@{nth}" for nth in occurrences])
    verify(database, 1, ledger, tmp_path)


def test_a_misspelled_fault_stops_the_process_at_import() -> None:
    found = subprocess.run([sys.executable, "-c", "import hitlgraph._faults"],
                           env={"HITLGRAPH_FAULTS": "checkpoint.nowhere:kill", "PATH": ""},
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 1 and "checkpoint.before_put" in found.stderr, found.stderr
