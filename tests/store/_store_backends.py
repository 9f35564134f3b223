"""The names of the store backends the tests run over (see conftest.make_backend)."""

from __future__ import annotations

BACKEND_NAMES = ["memory-sync", "memory-async", "sqlite-sync", "sqlite-async",
                 "postgres-sync", "postgres-async", "pgvector-sync", "pgvector-async"]
"""postgres-*: the server without the vector extension (no similarity checks); pgvector-*:
the server with it (every check)."""
