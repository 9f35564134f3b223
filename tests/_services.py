"""What the tests need from outside Python (a PostgreSQL server), and the rule for when it is
missing: locally the tests that need it skip; under CI=true they fail, because CI must never
pass by skipping them. `source scripts/services` provides it."""

from __future__ import annotations

import os

import pytest

DSN_VAR = "HITLGRAPH_TEST_POSTGRES_DSN"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing(message: str) -> None:
    """A test's outside need is not met: skip it locally, fail it under CI=true."""
    if in_ci():
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def require_postgres() -> str:
    """The test database's DSN; skips the test without one (fails it in CI)."""
    dsn = os.environ.get(DSN_VAR, "").strip()
    if not dsn:
        missing(f"{DSN_VAR} is not set: run `source scripts/services` (it starts a private "
                "PostgreSQL server) or point it at a scratch database.")
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        if in_ci():
            pytest.fail(f"CI=true: psycopg is missing ({exc}): pip install -e '.[dev]'",
                        pytrace=False)
        pytest.skip(f"psycopg is missing: pip install -e '.[postgres]' ({exc})")
    return dsn


PGVECTOR_VAR = "HITLGRAPH_TEST_PGVECTOR_DSN"


def require_pgvector() -> str:
    """The DSN of the test server with pgvector, its extension created in the `public`
    schema (which the stores' schemas search after their own); skips without one, and
    fails under CI=true, where scripts/services always starts it."""
    require_postgres()
    dsn = os.environ.get(PGVECTOR_VAR, "").strip()
    if not dsn:
        missing(f"{PGVECTOR_VAR} is not set: install the pgvector-server extra and run "
                "`source scripts/services` (it starts a PostgreSQL with pgvector).")
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
    return dsn
