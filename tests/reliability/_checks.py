"""What every crash test checks after its last run: each thread ends with the state of a run
without faults, its history is one chain, and the side-effect ledger holds each effect once."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import _child

from hitlgraph.checkpoint.memory import InMemorySaver

__all__ = ["drive", "fault_free_values", "faulted_then_finished", "verify"]

HERE = Path(__file__).parent


def drive(db: str, threads: int, ledger: Path, *, faults: str = "", errors: bool = False
          ) -> subprocess.Popen[bytes]:
    """`_child.py drive` in a new process, with $HITLGRAPH_FAULTS set to `faults`."""
    env = {**os.environ, "LEDGER": str(ledger), "HITLGRAPH_FAULTS": faults}
    return subprocess.Popen([sys.executable, str(HERE / "_child.py"), "drive", db, str(threads)],
                            env=env, cwd=ledger.parent, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if errors else subprocess.DEVNULL)


def faulted_then_finished(db: str, ledger: Path, faults: list[str]) -> None:
    """`drive` one thread once per fault in `faults` (each `SITE:ACTION@N`, ACTION kill or
    raise), checking that each run ended the way its fault ends a process, then once without
    faults, which must finish the thread."""
    for fault in faults:
        child = drive(db, 1, ledger, faults=fault, errors=True)
        _, err = child.communicate(timeout=300)
        if ":kill" in fault:
            assert child.returncode == -9, err.decode()
        else:
            assert child.returncode == 1 and b"InjectedFault" in err, err.decode()
    last = drive(db, 1, ledger, errors=True)
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err.decode()


def _fault_free(threads: int, ledger: Path) -> dict[str, dict[str, Any]]:
    previous = os.environ.get("LEDGER")
    os.environ["LEDGER"] = str(ledger)
    try:
        graph = _child.builder().compile(checkpointer=InMemorySaver())
        finals = {}
        for t in range(threads):
            _child.finish_thread(graph, f"t{t}")
            finals[f"t{t}"] = graph.get_state({"configurable": {"thread_id": f"t{t}"}}).values
        return finals
    finally:
        if previous is None:
            del os.environ["LEDGER"]
        else:
            os.environ["LEDGER"] = previous


def fault_free_values(ledger: Path) -> dict[str, Any]:
    """The values a thread of the ledger graph ends with when nothing fails (its effects are
    recorded in `ledger`, a file of its own)."""
    return _fault_free(1, ledger)["t0"]


def verify(db: str, threads: int, ledger: Path, scratch: Path) -> int:
    """Check the three promises; returns how many node runs were repeated (a crash between
    a node's effect and its checkpoint makes the node run again)."""
    finals = _fault_free(threads, scratch / "reference-ledger.sqlite")
    with _child.open_saver(db) as saver:
        graph = _child.builder().compile(checkpointer=saver)
        for thread_id, expected in finals.items():
            config = {"configurable": {"thread_id": thread_id}}
            assert graph.get_state(config).values == expected
            root = [h for h in saver.list(config)
                    if h.config["configurable"]["checkpoint_ns"] == ""]
            for newer, older in itertools.pairwise(root):
                assert newer.parent_config is not None
                assert newer.parent_config["configurable"]["checkpoint_id"] == (
                    older.config["configurable"]["checkpoint_id"]), "history forked"
            assert root[-1].parent_config is None
    with sqlite3.connect(ledger) as conn:
        effects = {row[0] for row in conn.execute("SELECT key FROM effects")}
        attempts = int(conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])
    conn.close()
    wanted = set().union(*(_child.expected_effects(t) for t in finals))
    assert wanted - effects == set(), "effects lost"
    assert effects - wanted == set(), "unexpected effects"
    return attempts - len(wanted)
