"""The notification tables of the server's database, and their own migrations.

- hg_notify_events(seq) -> kind, at, tenant, thread_id, graph_id, data: the server's own
  outbox, for the events the checkpointer's review outbox does not hold (`run.finished`).
- hg_notify_cursors(webhook, source) -> seq, lease: how far each webhook got in each outbox
  ("review": the checkpointer's, "run": the one above), and which process is sending it now.
- hg_notify_deliveries(id) -> webhook, source, seq, kind, attempts, outcome, status_code,
  error, at: the delivery log, one row per event sent (or given up on).

They are kept apart from the store's tables (`store/_schema.py`) with a migration list of
their own, recorded in `hg_notify_migrations`, applied the same way: append-only, one
transaction, under PostgreSQL's advisory lock, so several processes starting at once apply
each step once.
"""

from __future__ import annotations

from typing import Final

from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._postgres_sql import LOCK_CLASS

__all__ = ["EVENTS_LOCK", "MIGRATIONS_TABLE", "is_current", "migrate", "postgres"]

MIGRATIONS_TABLE: Final = "hg_notify_migrations"
_MIGRATION_LOCK: Final = 0x6e6f7469  # "noti": apart from the store's own lock (0)
EVENTS_LOCK: Final = f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {_MIGRATION_LOCK + 1})"
"""Held by a transaction appending to hg_notify_events on PostgreSQL until it commits, so
that seq order is commit order and a reader after seq N never skips a late commit."""

_SQLITE: Final = ((
    """CREATE TABLE hg_notify_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, at TEXT NOT NULL,
        tenant TEXT NOT NULL, thread_id TEXT NOT NULL, graph_id TEXT, data TEXT NOT NULL)""",
    """CREATE TABLE hg_notify_cursors (
        webhook TEXT NOT NULL, source TEXT NOT NULL, seq INTEGER NOT NULL,
        lease_owner TEXT, lease_until REAL, PRIMARY KEY (webhook, source))""",
    """CREATE TABLE hg_notify_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT, webhook TEXT NOT NULL, source TEXT NOT NULL,
        seq INTEGER NOT NULL, kind TEXT NOT NULL, attempts INTEGER NOT NULL,
        outcome TEXT NOT NULL, status_code INTEGER, error TEXT, at TEXT NOT NULL)""",
    "CREATE INDEX hg_notify_deliveries_by_event ON hg_notify_deliveries (webhook, source, seq)",
),)
"""SQLite's steps: append only (the index of a step is its version)."""

_POSTGRES: Final = ((
    """CREATE TABLE hg_notify_events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind TEXT NOT NULL,
        at TEXT NOT NULL, tenant TEXT NOT NULL, thread_id TEXT NOT NULL, graph_id TEXT,
        data TEXT NOT NULL)""",
    """CREATE TABLE hg_notify_cursors (
        webhook TEXT NOT NULL, source TEXT NOT NULL, seq BIGINT NOT NULL,
        lease_owner TEXT, lease_until TIMESTAMPTZ, PRIMARY KEY (webhook, source))""",
    """CREATE TABLE hg_notify_deliveries (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, webhook TEXT NOT NULL,
        source TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL,
        attempts INTEGER NOT NULL, outcome TEXT NOT NULL, status_code INTEGER, error TEXT,
        at TEXT NOT NULL)""",
    "CREATE INDEX hg_notify_deliveries_by_event ON hg_notify_deliveries (webhook, source, seq)",
),)
"""PostgreSQL's steps: append only."""


def postgres(d: Dialect) -> bool:
    """Whether `d` is PostgreSQL's dialect (the one that takes advisory locks)."""
    return d.lock_migrations is not None


def _steps(d: Dialect) -> tuple[tuple[str, ...], ...]:
    return _POSTGRES if postgres(d) else _SQLITE


def is_current(d: Dialect) -> Op[bool]:
    """Whether every step has run."""
    ((found,),) = yield d.has_table, {"table": MIGRATIONS_TABLE}
    if not found:
        return False
    ((top,),) = yield f"SELECT MAX(v) FROM {MIGRATIONS_TABLE}", {}
    return top is not None and int(top) >= len(_steps(d)) - 1


def migrate(d: Dialect) -> Op[None]:
    """Apply the steps not recorded yet, in order, recording each."""
    if postgres(d):
        yield f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {_MIGRATION_LOCK})", {}
    yield f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (v INTEGER PRIMARY KEY)", {}
    done = {int(v) for (v,) in (yield f"SELECT v FROM {MIGRATIONS_TABLE}", {})}
    for version, statements in enumerate(_steps(d)):
        if version in done:
            continue
        for statement in statements:
            yield statement, {}
        yield f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (:v)", {"v": version}
