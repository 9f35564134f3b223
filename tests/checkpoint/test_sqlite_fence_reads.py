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


def test_fenced_writes_without_a_latest_read_no_token(saver: SqliteSaver) -> None:
    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    fence = Fence("run-1", saver.advance_fence("run-1"))
    seen = _traced(saver)
    saver.put_writes(WriteRules(fence=fence).on(first), [("a", 1)], "task-1")
    assert _reads(seen) == []  # the insert checked the fence
    saver.put_writes(WriteRules(fence=fence).on(first), [("a", 1), ("b", 2)],
                     "task-1")  # merged into the task's row: "b" is new
    assert len(_reads(seen)) == 2  # inserted nothing: the token, then the row to merge into
    saved = saver.get_tuple(_config())
    assert saved is not None and [w[1:] for w in saved.pending_writes] == [("a", 1), ("b", 2)]


@pytest.mark.parametrize("stored_before", [False, True])
def test_fenced_writes_without_a_latest_are_refused_as_before(saver: SqliteSaver,
                                                              stored_before: bool) -> None:
    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    fence = Fence("run-1", saver.advance_fence("run-1"))
    if stored_before:
        saver.put_writes(WriteRules(fence=fence).on(first), [("a", 1)], "task-1")
    saver.advance_fence("run-1")
    with pytest.raises(FencedWriteError) as refused:
        saver.put_writes(WriteRules(fence=fence).on(first), [("b", 2)], "task-1")
    assert (refused.value.token, refused.value.current) == (fence.token, fence.token + 1)
    with pytest.raises(FencedWriteError):  # a key never advanced: no token stored
        saver.put_writes(WriteRules(fence=Fence("run-2", 1)).on(first), [("b", 2)], "task-1")
    saved = saver.get_tuple(_config())
    assert saved is not None
    assert [w[1:] for w in saved.pending_writes] == ([("a", 1)] if stored_before else [])


def test_a_stale_fence_is_refused_before_a_taken_answer(saver: SqliteSaver) -> None:
    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    fence = Fence("run-1", saver.advance_fence("run-1"))
    saver.put_writes(WriteRules(fence=fence).on(first), [("__resume__", ["yes"])], "task-1")
    with pytest.raises(CheckpointConflictError):  # the answer slot is taken
        saver.put_writes(WriteRules(fence=fence).on(first), [("__resume__", ["no"])],
                         "task-1")
    saver.advance_fence("run-1")
    with pytest.raises(FencedWriteError):
        saver.put_writes(WriteRules(fence=fence).on(first), [("__resume__", ["no"])],
                         "task-1")


def _decide(saver: SqliteSaver, fence: Fence, answers: list[tuple[str, str]]) -> list[str]:
    """Answer interrupts asked at the latest checkpoint under `fence`, as the server's
    resume does (fence and expected latest); the statements of that put_writes."""
    from hitlgraph.checkpoint._decisions import DecisionNote

    at = saver.get_tuple(_config())
    assert at is not None
    ruled = WriteRules(expected_latest=at.config["configurable"]["checkpoint_id"],
                       fence=fence).on(at.config)
    seen = _traced(saver)
    try:
        saver.put_writes(DecisionNote("answered", tuple(answers), by="carol").on(ruled),
                         [("__resume__", [[iid, answer, True] for iid, answer in answers])],
                         "task-1", "n")
    finally:
        saver.conn.set_trace_callback(None)
    return seen


def test_a_decision_reads_fence_latest_and_chain_head_in_one_statement(
        saver: SqliteSaver) -> None:
    from hitlgraph.types import Interrupt

    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    saver.put_writes(first, [("__interrupt__", [Interrupt("q", id="i1")])], "task-1", "n")
    fence = Fence("run-1", saver.advance_fence("run-1"))
    seen = _decide(saver, fence, [("i1", "yes")])
    assert len([s for s in _reads(seen) if "fences" in s or "decisions_head" in s]) == 1
    assert [(d.seq, d.interrupt_id, d.answer) for d in saver.list_decisions()] == [
        (1, "i1", "yes")]
    assert saver.verify_decisions() is None


def test_a_decision_under_a_stale_fence_logs_nothing(saver: SqliteSaver) -> None:
    from hitlgraph.types import Interrupt

    first = saver.put(_config(), _checkpoint(1), {"step": -1}, {})
    saver.put_writes(first, [("__interrupt__", [Interrupt("q", id="i1")])], "task-1", "n")
    fence = Fence("run-1", saver.advance_fence("run-1"))
    saver.advance_fence("run-1")
    with pytest.raises(FencedWriteError):
        _decide(saver, fence, [("i1", "yes")])
    assert list(saver.list_decisions()) == []
    _decide(saver, Fence("run-1", fence.token + 1), [("i1", "no")])
    with pytest.raises(CheckpointConflictError):  # another answer to the same interrupt
        _decide(saver, Fence("run-1", fence.token + 1), [("i1", "yes")])
    assert [(d.seq, d.answer) for d in saver.list_decisions()] == [(1, "no")]
    assert saver.verify_decisions() is None
