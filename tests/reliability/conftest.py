"""The fault suite's two tiers (see _tiers.py), a fresh PostgreSQL schema per test (and a
proxy in front of it), the database a test parametrized by `backend` runs on, and server
processes of its own.

Each test runs at a small count in every CI run ("fast", a few seconds) and at the issue's
full count when asked for: `python -m pytest tests/reliability -m reliability_full`. Without
that marker expression the full-count cases are collected and skipped, so the fast tier stays
fast and a full run is one command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _proxy import Proxy, through_proxy
from _rel_schema import fresh_schema
from _servers import ChildServers
from _tiers import FULL


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason=f"full counts: run with -m {FULL}")
    for item in items:
        if item.get_closest_marker(FULL) is not None:
            item.add_marker(skip)


@pytest.fixture
def pg_conninfo() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema (see _rel_schema.fresh_schema)."""
    with fresh_schema() as url:
        yield url


@pytest.fixture
def pg_proxy(pg_conninfo: str) -> Iterator[tuple[Proxy, str]]:
    """(a loopback proxy in front of PostgreSQL, the URL of `pg_conninfo`'s schema through
    it): for outages and cut answers (_proxy.py)."""
    with through_proxy(pg_conninfo) as found:
        yield found


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """For a test parametrized by `backend`: a SQLite file's path, or a fresh PostgreSQL
    schema's URL."""
    if backend == "sqlite":
        return str(tmp_path / "checkpoints.sqlite")
    return str(request.getfixturevalue("pg_conninfo"))


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ChildServers]:
    """Server processes (`_child.py serve`) the test starts; all killed at its end."""
    started = ChildServers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
