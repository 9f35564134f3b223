"""Schema migrations, written once: an append-only list per dialect whose index is the
version, recorded in a table, applied in one write transaction."""

from __future__ import annotations

from hitlgraph.checkpoint._store.dialect import Dialect
from hitlgraph.checkpoint._store.ops import Ops, Statement
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["latest_version", "migrate", "schema_version"]


def latest_version(dialect: Dialect) -> int:
    """The schema version this code writes."""
    return len(dialect.migrations) - 1


def _max_version(dialect: Dialect) -> Ops[int]:
    rows = yield Statement(dialect.max_migration)
    return -1 if not rows or rows[0][0] is None else int(rows[0][0])


def schema_version(dialect: Dialect) -> Ops[int]:
    """The highest migration applied, -1 for none (a read)."""
    rows = yield Statement(dialect.migrations_exist)
    if not rows or not rows[0][0]:
        return -1
    return (yield from _max_version(dialect))


def migrate(dialect: Dialect, serde: SerializerProtocol) -> Ops[int]:
    """Apply the migrations the database lacks (run it in one write transaction); `serde`
    reads stored values for the steps that need them.

    Safe to run again and from several processes at once: the write lock (and the dialect's
    migration lock) serializes them, and the second finds nothing left to do. Returns the
    schema version.
    """
    if dialect.migration_lock is not None:
        yield dialect.migration_lock
    yield Statement(dialect.create_migrations)
    current = yield from _max_version(dialect)
    for version in range(current + 1, len(dialect.migrations)):
        for step in dialect.migrations[version]:
            if isinstance(step, str):
                yield Statement(step)
            else:
                yield from step(dialect, serde)
        yield Statement(dialect.insert_migration, (version,))
    return latest_version(dialect)
