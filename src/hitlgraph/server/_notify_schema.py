"""The notification tables of the server's database, and their own migrations.

- hg_notify_events(seq) -> kind, at, tenant, thread_id, graph_id, data: the server's own
  outbox, for the events the checkpointer's review outbox does not hold (`run.finished`).
  A trigger on hg_runs (step 1) writes a run's `run.finished` there in the transaction that
  records the run's end, so a process killed right after that commit loses nothing; it
  writes only once some webhook has a cursor over this outbox (none: no one reads it).
- hg_notify_cursors(webhook, source) -> seq, lease: how far each webhook got in each outbox
  ("review": the checkpointer's, "run": the one above), and which process is sending it now.
- hg_notify_deliveries(id) -> webhook, source, seq, kind, attempts, outcome, status_code,
  error, at: the delivery log, one row per event sent (or given up on); each webhook's is
  trimmed to its newest rows through the index on (webhook, id) (step 2).

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

__all__ = ["EVENTS_LOCK", "MIGRATIONS_TABLE", "is_current", "migrate"]

MIGRATIONS_TABLE: Final = "hg_notify_migrations"
_MIGRATION_LOCK: Final = 0x6e6f7469  # "noti": apart from the store's own lock (0)
EVENTS_LOCK: Final = f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {_MIGRATION_LOCK + 1})"
"""Held by a transaction appending to hg_notify_events on PostgreSQL (the run.finished
trigger) until it commits, so that seq order is commit order and a reader after seq N never
skips a late commit."""

_RUN_DATA: Final = (
    "'run_id', NEW.run_id, 'status', CASE WHEN NEW.status = 'interrupted' AND "
    "NEW.cancel_action = 'rollback' THEN 'rollback' ELSE NEW.status END, "
    "'started_at', OLD.updated_at, 'ended_at', NEW.updated_at, 'error', {error}")
"""run.finished's data, as SQL (key, value, ...): a cancel with "rollback" ends the run
"interrupted" and deletes it in the same transaction, and reads as "rollback"; the run's
updated_at was set by its claim (its start) and now by its end."""

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
), (
    # 1: run.finished from the run's end itself (a worker's end: running -> another status).
    f"""CREATE TRIGGER hg_notify_run_finished AFTER UPDATE OF status ON hg_runs
    WHEN OLD.status = 'running' AND NEW.status NOT IN ('running', 'pending')
        AND EXISTS (SELECT 1 FROM hg_notify_cursors WHERE source = 'run')
    BEGIN
        INSERT INTO hg_notify_events (kind, at, tenant, thread_id, graph_id, data)
        VALUES ('run.finished', NEW.updated_at, NEW.tenant, NEW.thread_id, NEW.graph_id,
                json_object({_RUN_DATA.format(error="json(NEW.error)")}));
    END""",
), (
    # 2: the delivery log's rows of one webhook in id order, to trim it to its newest.
    "CREATE INDEX hg_notify_deliveries_by_webhook ON hg_notify_deliveries (webhook, id)",
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
), (
    # 1: as SQLite's, under EVENTS_LOCK.
    f"""CREATE FUNCTION hg_notify_run_finished() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM hg_notify_cursors WHERE source = 'run') THEN
            {EVENTS_LOCK.replace("SELECT", "PERFORM")};
            INSERT INTO hg_notify_events (kind, at, tenant, thread_id, graph_id, data)
            VALUES ('run.finished', to_json(NEW.updated_at) #>> '{{}}', NEW.tenant,
                    NEW.thread_id, NEW.graph_id,
                    json_build_object({_RUN_DATA.format(error="NEW.error::json")})::text);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER hg_notify_run_finished AFTER UPDATE OF status ON hg_runs FOR EACH ROW
    WHEN (OLD.status = 'running' AND NEW.status NOT IN ('running', 'pending'))
    EXECUTE FUNCTION hg_notify_run_finished()""",
), (
    # 2: as SQLite's.
    "CREATE INDEX hg_notify_deliveries_by_webhook ON hg_notify_deliveries (webhook, id)",
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
