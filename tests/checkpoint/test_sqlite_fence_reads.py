"""SQLite reads a write's fence token and the thread's latest checkpoint in one statement
(a put, a task's writes with a compare-and-set, a step whose writes cannot refuse
anything), and every rule holds as before: a stale token or another latest checkpoint is
refused, with nothing stored, and the refusal is the same one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hitlgraph.checkpoint.base import Fence, WriteRules, empty_checkpoint
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.errors import CheckpointConflictError, FencedWriteError


def _config(thread_id: str = "t") -> Any:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


def _checkpoint(n: int) -> Any:
    return empty_checkpoint(f"1ef0000-{n:04d}", "2026-12-07T00:00:00+00:00")


def _reads(seen: list[str]) -> list[str]:
    """The SELECTs of the statements seen."""
    return [s for s in seen if s.startswith("SELECT")]


@pytest.fixture
def saver(tmp_path: Path) -> Any:
    with SqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as made:
        yield made


def _traced(saver: SqliteSaver) -> list[str]:
    seen: list[str] = []
    saver.conn.set_trace_callback(seen.append)
    return seen


def test_a_fenced_put_reads_token_and_latest_in_one_statement(saver: SqliteSaver) -> None:
    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    fence = Fence("run-1", saver.advance_fence("run-1"))
    seen = _traced(saver)
    rules = WriteRules(expected_latest="1ef0000-0001", fence=fence)
    saver.put(rules.on(first), _checkpoint(2), {"step": 0}, {})
    assert len(_reads(seen)) == 1
    saved = saver.get_tuple(_config())
    assert saved is not None and saved.checkpoint["id"] == "1ef0000-0002"


def test_a_fenced_put_is_refused_as_before(saver: SqliteSaver) -> None:
    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    fence = Fence("run-1", saver.advance_fence("run-1"))
    never = Fence("run-2", 1)  # a key never advanced: no token stored
    with pytest.raises(CheckpointConflictError):
        saver.put(WriteRules(expected_latest="", fence=fence).on(first), _checkpoint(2),
                  {"step": 0}, {})
    with pytest.raises(FencedWriteError):
        saver.put(WriteRules(expected_latest="1ef0000-0001", fence=never).on(first),
                  _checkpoint(2), {"step": 0}, {})
    saver.advance_fence("run-1")
    with pytest.raises(FencedWriteError):  # the fence first, though the latest is wrong too
        saver.put(WriteRules(expected_latest="", fence=fence).on(first), _checkpoint(2),
                  {"step": 0}, {})
    saved = saver.get_tuple(_config())
    assert saved is not None and saved.checkpoint["id"] == "1ef0000-0001"


def test_guarded_writes_read_token_and_latest_in_one_statement(saver: SqliteSaver) -> None:
    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    fence = Fence("run-1", saver.advance_fence("run-1"))
    seen = _traced(saver)
    ruled = WriteRules(expected_latest="1ef0000-0001", fence=fence).on(first)
    saver.put_writes(ruled, [("a", 1)], "task-1")
    assert len([s for s in _reads(seen) if "fences" in s or "checkpoints" in s]) == 1
    saved = saver.get_tuple(_config())
    assert saved is not None and [w[1:] for w in saved.pending_writes] == [("a", 1)]


def test_guarded_writes_are_refused_as_before(saver: SqliteSaver) -> None:
    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    fence = Fence("run-1", saver.advance_fence("run-1"))
    saver.put(first, _checkpoint(2), {"step": 0}, {})  # the writes' checkpoint is not latest
    with pytest.raises(CheckpointConflictError):
        saver.put_writes(WriteRules(expected_latest="x", fence=fence).on(first), [("a", 1)],
                         "task-1")
    saver.advance_fence("run-1")
    with pytest.raises(FencedWriteError):
        saver.put_writes(WriteRules(expected_latest="x", fence=fence).on(first), [("a", 1)],
                         "task-1")
    saved = saver.get_tuple({"configurable": {**first["configurable"]}})
    assert saved is not None and saved.pending_writes == []


def _step(saver: SqliteSaver, fence: Fence) -> Any:
    base = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    ruled = WriteRules(expected_latest="1ef0000-0001", fence=fence).on(base)
    written = WriteRules(fence=fence).on(base)
    return saver.put_step([(written, [("a", 1)], "task-1", ""),
                           (written, [("b", 2)], "task-2", "")],
                          ruled, _checkpoint(2), {"step": 0}, {})


def test_a_step_reads_token_and_latest_in_one_statement(saver: SqliteSaver) -> None:
    fence = Fence("run-1", saver.advance_fence("run-1"))
    seen = _traced(saver)
    _step(saver, fence)
    step = seen[seen.index("BEGIN IMMEDIATE", seen.index("BEGIN IMMEDIATE") + 1):]
    assert len([s for s in _reads(step) if "fences" in s]) == 1
    saved = saver.get_tuple(_config())
    assert saved is not None and saved.checkpoint["id"] == "1ef0000-0002"
    parent = saver.get_tuple({"configurable": {**_config()["configurable"],
                                               "checkpoint_id": "1ef0000-0001"}})
    assert parent is not None
    assert sorted(w[1:] for w in parent.pending_writes) == [("a", 1), ("b", 2)]


def test_a_step_with_a_stale_fence_stores_none_of_its_writes(saver: SqliteSaver) -> None:
    fence = Fence("run-1", saver.advance_fence("run-1"))
    saver.advance_fence("run-1")
    with pytest.raises(FencedWriteError):
        _step(saver, fence)
    saved = saver.get_tuple(_config())
    assert saved is not None and saved.checkpoint["id"] == "1ef0000-0001"
    assert saved.pending_writes == []
