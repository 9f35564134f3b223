"""A `saver` fixture over the sync savers (memory, a SQLite file, PostgreSQL on a fresh schema:
skipped without HITLGRAPH_TEST_POSTGRES_DSN, failed in CI) for the review features' tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from _saver_params import SYNC_SAVERS, fresh_schema, open_saver
from hitlgraph.checkpoint.base import BaseCheckpointSaver


@pytest.fixture
def pg_conninfo() -> Iterator[str]:
    """A conninfo whose search_path is a fresh schema of the test database (dropped after)."""
    with fresh_schema("hg_review") as conninfo:
        yield conninfo


@pytest.fixture(params=SYNC_SAVERS)
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver]:
    with open_saver(request.param, tmp_path / "review.db", "hg_review") as found:
        yield found
