"""SQLite learns what a task's interrupt writes did to the index of open interrupts from
the statements that change it (RETURNING), not from a read after them: the entries dropped
and stored, and so the "interrupt.created" events, are the same as when it read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hitlgraph.checkpoint.base import empty_checkpoint
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.constants import INTERRUPT
from hitlgraph.types import Interrupt


@pytest.fixture
def saver(tmp_path: Path) -> Any:
    with SqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as made:
        yield made


def _base(saver: SqliteSaver) -> Any:
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    return saver.put(config, empty_checkpoint("1ef0000-0001", "2026-12-07T00:00:00+00:00"),
                     {"step": -1}, {})


def _ask(saver: SqliteSaver, base: Any, *ids: str) -> list[str]:
    """The task's interrupt writes; the statements that read the index meanwhile."""
    seen: list[str] = []
    saver.conn.set_trace_callback(seen.append)
    try:
        saver.put_writes(base, [(INTERRUPT, [Interrupt(value="q", id=i) for i in ids])],
                         "task-1", "ask")
    finally:
        saver.conn.set_trace_callback(None)
    return [s for s in seen if s.startswith("SELECT") and "pending_interrupts" in s]


def _created(saver: SqliteSaver) -> list[str]:
    return [e.interrupt_id for e in saver.list_review_events()
            if e.kind == "interrupt.created"]


def test_interrupt_writes_read_no_index_entry_back(saver: SqliteSaver) -> None:
    base = _base(saver)
    assert _ask(saver, base, "i1") == []
    assert [p.interrupt_id for p in saver.list_pending()] == ["i1"]
    assert _created(saver) == ["i1"]


def test_a_task_asking_again_announces_only_its_new_interrupts(saver: SqliteSaver) -> None:
    base = _base(saver)
    _ask(saver, base, "i1")
    assert _ask(saver, base, "i1", "i2") == []
    assert sorted(p.interrupt_id for p in saver.list_pending()) == ["i1", "i2"]
    assert _created(saver) == ["i1", "i2"]
    _ask(saver, base, "i2")  # i1 no longer asked: its entry goes, nothing is announced
    assert [p.interrupt_id for p in saver.list_pending()] == ["i2"]
    assert _created(saver) == ["i1", "i2"]
