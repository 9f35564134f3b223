"""Fixtures for the saver tests: a fresh PostgreSQL schema per test.

PostgreSQL tests use the database named by HITLGRAPH_TEST_POSTGRES_DSN (`source
scripts/services` starts a private server and sets it). Without it they skip, except under
CI=true, where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from _saver_params import fresh_schema
from _services import require_postgres


@pytest.fixture
def postgres_dsn() -> str:
    return require_postgres()


@pytest.fixture
def require_postgres_fn() -> Callable[[], str]:
    """`require_postgres` itself, for the test of its rules."""
    return require_postgres


@pytest.fixture
def pg_conninfo(postgres_dsn: str) -> Iterator[str]:
    """A conninfo for a fresh, empty schema of the test database (dropped after the test)."""
    with fresh_schema("hg_test") as conninfo:
        yield conninfo
