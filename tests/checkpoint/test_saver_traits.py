"""What a saver can do is found once per class (traits_of), from the methods it has."""

from __future__ import annotations

from pathlib import Path

from hitlgraph.checkpoint.base import BaseCheckpointSaver, traits_of
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver


class _Plain(BaseCheckpointSaver):
    """A saver with LangGraph's interface only."""


def test_a_saver_with_langgraphs_interface_only_has_no_extra_traits() -> None:
    traits = traits_of(_Plain())
    assert not (traits.step_writes or traits.async_step_writes or traits.batches
                or traits.in_process or traits.fences)


def test_memory_saver_is_in_process_with_steps_and_fences() -> None:
    traits = traits_of(InMemorySaver())
    assert traits.in_process and traits.step_writes and traits.fences
    assert not traits.batches


def test_sqlite_savers_write_steps_batch_and_fence(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as saver:
        traits = traits_of(saver)
    assert traits.step_writes and traits.batches and traits.fences and not traits.in_process
    assert traits_of(AsyncSqliteSaver.__new__(AsyncSqliteSaver)).async_step_writes


def test_traits_are_computed_once_per_class() -> None:
    assert traits_of(InMemorySaver()) is traits_of(InMemorySaver())
