"""A paused or killed run goes on in another process, from the checkpoints on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.errors import CheckpointConflictError, ResumeError
from hitlgraph.types import Command

sys.path.insert(0, str(Path(__file__).parent))
from _graphs import review_graph

WORKER = str(Path(__file__).with_name("_graphs.py"))


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the child processes keep their checkpoints: a SQLite file, or PostgreSQL (the
    test database of HITLGRAPH_TEST_POSTGRES_DSN: skipped without it, failed under CI=true)."""
    if request.param == "sqlite":
        return str(tmp_path / "threads.sqlite")
    dsn = os.environ.get("HITLGRAPH_TEST_POSTGRES_DSN")
    if not dsn:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: HITLGRAPH_TEST_POSTGRES_DSN is not set (source scripts/services)")
        pytest.skip("HITLGRAPH_TEST_POSTGRES_DSN is not set: source scripts/services")
    return dsn


def fresh(name: str) -> str:
    """A thread id no earlier run used (PostgreSQL keeps threads between tests)."""
    return f"{name}-{uuid.uuid4().hex[:12]}"


def child(*args: str, wait: bool = True) -> Any:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, WORKER, *args]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_pause_in_one_process_resume_in_another(db: str) -> None:
    thread = fresh("t1")
    assert child("pause", db, thread) == "[{'draft': 'HELLO'}]"
    assert child("resume", db, thread, "", "approve") == (
        "OK ['write', 'review:approve', 'publish:approve']"
    )
    # the same as a run that was answered in one go, in this process
    graph = review_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "x"}}
    graph.invoke({"draft": "hello", "log": []}, config)
    assert graph.invoke(Command(resume="approve"), config)["log"] == [
        "write", "review:approve", "publish:approve"]


def test_killed_run_continues_from_last_checkpoint_without_losing_or_repeating_steps(
    tmp_path: Path, db: str,
) -> None:
    thread = fresh("k1")
    markers = tmp_path / "markers"
    markers.mkdir()
    proc = child("steps", db, thread, str(markers), "40", wait=False)
    deadline = time.monotonic() + 60
    while not (markers / "step-8").exists():
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert child("continue", db, thread, str(markers), "40") == repr(list(range(1, 41)))


def test_two_processes_resuming_one_interrupt_exactly_one_proceeds(
    tmp_path: Path, db: str
) -> None:
    thread = fresh("r1")
    child("pause", db, thread)
    go = tmp_path / "go"
    racers = [child("resume", db, thread, str(go), answer, wait=False) for answer in ("a", "b")]
    time.sleep(0.5)  # both are waiting at the barrier (nothing asserts on time)
    go.write_text("go")
    outputs = sorted(p.communicate(timeout=120)[0].strip() for p in racers)
    winners = [o for o in outputs if o.startswith("OK")]
    losers = [o for o in outputs if o.startswith("ERROR")]
    assert len(winners) == 1 and len(losers) == 1, outputs
    # the loser either lost the compare-and-set, or started after the winner had finished
    assert "moved on" in losers[0], losers


def test_two_threads_resuming_one_interrupt_in_memory_exactly_one_proceeds() -> None:
    import threading

    saver = InMemorySaver()
    graph = review_graph().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "m1"}}
    graph.invoke({"draft": "x", "log": []}, config)
    start = threading.Barrier(2)
    results: list[str] = []

    def resume(answer: str) -> None:
        start.wait()
        try:
            out = graph.invoke(Command(resume=answer), config)
            results.append("OK " + out["verdict"])
        except (CheckpointConflictError, ResumeError) as exc:
            results.append("ERROR " + str(exc))

    threads = [threading.Thread(target=resume, args=(a,)) for a in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[:2] for r in results) == ["ER", "OK"], results
    assert any("moved on" in r or "answered already" in r for r in results), results
    verdict = graph.get_state(config).values["verdict"]
    assert f"OK {verdict}" in results


@pytest.mark.parametrize("answer", ["approve"])
def test_resume_after_another_resume_finished_says_nothing_is_pending(
    db: str, answer: str
) -> None:
    thread = fresh("d1")
    child("pause", db, thread)
    assert child("resume", db, thread, "", answer).startswith("OK")
    second = child("resume", db, thread, "", "again")
    assert second.startswith("ERROR ResumeError") and "no interrupt waiting" in second
    assert "answered already" in second
