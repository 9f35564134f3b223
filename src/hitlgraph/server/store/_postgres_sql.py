"""The PostgreSQL store's SQL text, migrations, notify channels and row decoding.

Tables (prefixed `hg_`, in the connection's `search_path` schema, beside the checkpoint
saver's `hitlgraph_*` tables when they share a database):

- hg_threads(tenant, thread_id) -> metadata, status, values, interrupts, graph_id, times
- hg_runs(run_id) -> seq (queue order), tenant, thread_id, status, kwargs, lease_owner,
  lease_until, fencing, attempt, start_point, ...
- hg_run_events(run_id, seq) -> event, data: the run's stream chunks, seq counting from 1
- hg_assistants(tenant, assistant_id) -> graph_id, config, context, metadata, name, version, ...
- hg_assistant_versions(tenant, assistant_id, version) -> what that version held

JSON data (metadata, values, kwargs, outputs, event data) is kept as JSON *text*, not jsonb:
jsonb refuses the string "\\u0000" and reorders keys, and the server only ever hands these
values back as they came. Leases use the database's clock (`now()`), so servers on machines
whose clocks disagree still agree on when a lease ran out.

Every statement is a constant string; values travel only as bound parameters.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Final

from hitlgraph.server.store._assistants import COLUMNS as ASSISTANT_COLUMNS
from hitlgraph.server.store.base import RunRow, ThreadRow

MIGRATIONS_TABLE: Final = "hg_server_migrations"

LOCK_CLASS: Final = 0x68677376
"""First key of the advisory lock serializing migrations ("hgsv"): apart from the checkpoint
saver's lock class, whose second keys are hashes of thread ids."""
MIGRATION_LOCK: Final = 0

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 0: the initial schema.
    (
        """CREATE TABLE IF NOT EXISTS hg_threads (
            tenant TEXT COLLATE "C" NOT NULL,
            thread_id TEXT COLLATE "C" NOT NULL,
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'idle',
            "values" TEXT,
            interrupts TEXT NOT NULL DEFAULT '{}',
            graph_id TEXT,
            PRIMARY KEY (tenant, thread_id)
        )""",
        """CREATE TABLE IF NOT EXISTS hg_runs (
            run_id TEXT COLLATE "C" PRIMARY KEY,
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            tenant TEXT COLLATE "C" NOT NULL,
            thread_id TEXT COLLATE "C" NOT NULL,
            assistant_id TEXT NOT NULL,
            graph_id TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            status TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            kwargs TEXT NOT NULL DEFAULT '{}',
            multitask_strategy TEXT NOT NULL,
            lease_owner TEXT,
            lease_until TIMESTAMPTZ,
            fencing BIGINT NOT NULL DEFAULT 0,
            attempt INTEGER NOT NULL DEFAULT 0,
            cancel_action TEXT,
            output TEXT,
            error TEXT,
            temporary BOOLEAN NOT NULL DEFAULT FALSE,
            on_completion TEXT NOT NULL DEFAULT 'keep',
            start_point TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS hg_runs_thread ON hg_runs (tenant, thread_id, seq)",
        # The claim query scans only the active runs, oldest first.
        "CREATE INDEX IF NOT EXISTS hg_runs_active ON hg_runs (seq) "
        "WHERE status IN ('pending', 'running')",
        """CREATE TABLE IF NOT EXISTS hg_run_events (
            run_id TEXT COLLATE "C" NOT NULL,
            seq INTEGER NOT NULL,
            event TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        )""",
    ),
    # 1: a thread's last error and when its state last changed (LangGraph's Thread fields).
    (
        "ALTER TABLE hg_threads ADD COLUMN IF NOT EXISTS state_updated_at TIMESTAMPTZ",
        "ALTER TABLE hg_threads ADD COLUMN IF NOT EXISTS error TEXT",
    ),
    # 2: assistants made through the API, and every version of each.
    (
        """CREATE TABLE IF NOT EXISTS hg_assistants (
            tenant TEXT COLLATE "C" NOT NULL,
            assistant_id TEXT COLLATE "C" NOT NULL,
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            graph_id TEXT NOT NULL,
            config TEXT NOT NULL,
            context TEXT NOT NULL,
            metadata TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            version INTEGER NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (tenant, assistant_id)
        )""",
        """CREATE TABLE IF NOT EXISTS hg_assistant_versions (
            tenant TEXT COLLATE "C" NOT NULL,
            assistant_id TEXT COLLATE "C" NOT NULL,
            version INTEGER NOT NULL,
            graph_id TEXT NOT NULL,
            config TEXT NOT NULL,
            context TEXT NOT NULL,
            metadata TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            created_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (tenant, assistant_id, version)
        )""",
    ),
)
"""Append-only: the index of an entry is its schema version. Never edit or reorder an entry;
add a new one. Each statement must be safe inside a transaction."""

LOCK: Final = "SELECT pg_advisory_xact_lock(%s::integer, %s::integer)"
CREATE_MIGRATIONS: Final = (
    f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
    "(v INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)
SCHEMA_VERSION: Final = f"SELECT MAX(v) FROM {MIGRATIONS_TABLE}"
HAS_MIGRATIONS: Final = "SELECT to_regclass(%s) IS NOT NULL"
RECORD_MIGRATION: Final = f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (%s)"

# -- notify channels ------------------------------------------------------------------------

QUEUED: Final = "hitlgraph_run_queued"
"""A run was queued, or a thread's run ended (its next queued run may start): idle workers
look for work. No payload."""
CHANGED: Final = "hitlgraph_run_changed"
"""Events were appended to a run, or it finished: its streamers and joiners read again.
Payload: the run id."""
CANCEL: Final = "hitlgraph_run_cancel"
"""A cancel was requested for a run: its worker renews its lease now and sees it. Payload:
the run id."""
CHANNELS: Final = (QUEUED, CHANGED, CANCEL)

NOTIFY: Final = "SELECT pg_notify(%s, %s)"
"""Sent inside the writing transaction: PostgreSQL delivers it only when that commits."""


def wake_key(channel: str, payload: str) -> str:
    """The `Signals` key a notification wakes."""
    if channel == CHANGED:
        return f"run:{payload}"
    if channel == CANCEL:
        return f"cancel:{payload}"
    return "queue"


# -- threads ----------------------------------------------------------------------------------

THREAD_COLUMNS: Final = ('tenant, thread_id, created_at, updated_at, metadata, status, '
                         '"values", interrupts, graph_id, '
                         'COALESCE(state_updated_at, updated_at), error')
RUN_COLUMNS: Final = (
    "tenant, run_id, thread_id, assistant_id, graph_id, created_at, updated_at, status, "
    "metadata, kwargs, multitask_strategy, fencing, attempt, cancel_action, output, error, "
    "temporary, on_completion, start_point"
)

INSERT_THREAD: Final = (
    "INSERT INTO hg_threads (tenant, thread_id, created_at, updated_at, state_updated_at, "
    "metadata) VALUES (%s, %s, now(), now(), now(), %s) ON CONFLICT (tenant, thread_id) DO NOTHING "
    f"RETURNING {THREAD_COLUMNS}"
)
GET_THREAD: Final = f"SELECT {THREAD_COLUMNS} FROM hg_threads WHERE tenant = %s AND thread_id = %s"
LOCK_THREAD: Final = GET_THREAD + " FOR UPDATE"
"""Serializes what changes one thread's runs (creating, cancelling, finishing them)."""
PATCH_THREAD: Final = (
    "UPDATE hg_threads SET metadata = %s, updated_at = now() WHERE tenant = %s AND "
    f"thread_id = %s RETURNING {THREAD_COLUMNS}"
)
DELETE_THREAD: Final = "DELETE FROM hg_threads WHERE tenant = %s AND thread_id = %s"
DELETE_THREAD_EVENTS: Final = (
    "DELETE FROM hg_run_events WHERE run_id IN (SELECT run_id FROM hg_runs WHERE tenant = %s "
    "AND thread_id = %s)"
)
DELETE_THREAD_RUNS: Final = "DELETE FROM hg_runs WHERE tenant = %s AND thread_id = %s"

# list_threads: the filters are fixed fragments, switched on or off by NULL parameters.
LIST_THREADS: Final = {
    (column, order): (
        f"SELECT {THREAD_COLUMNS} FROM hg_threads WHERE tenant = %(tenant)s "
        "AND (%(status)s::text IS NULL OR status = %(status)s) "
        "AND (%(ids)s::text[] IS NULL OR thread_id = ANY(%(ids)s::text[])) "
        f"ORDER BY {column} {order}, seq {order}"
    )
    for column in ("thread_id", "status", "created_at", "updated_at")
    for order in ("ASC", "DESC")
}

THREAD_AFTER_RUN: Final = (
    'UPDATE hg_threads SET "values" = %(values)s, interrupts = %(interrupts)s, '
    "updated_at = now(), state_updated_at = now(), error = %(error)s, "
    "status = CASE WHEN EXISTS (SELECT 1 FROM hg_runs WHERE tenant = "
    "%(tenant)s AND thread_id = %(thread_id)s AND status IN ('pending', 'running')) THEN "
    "'busy' ELSE %(status)s END WHERE tenant = %(tenant)s AND thread_id = %(thread_id)s"
)
SET_THREAD_GRAPH: Final = (
    "UPDATE hg_threads SET graph_id = COALESCE(graph_id, %s) WHERE tenant = %s AND "
    "thread_id = %s"
)
THREAD_BUSY: Final = (
    "UPDATE hg_threads SET status = 'busy', updated_at = now(), metadata = %s, "
    "graph_id = %s WHERE tenant = %s AND thread_id = %s"
)
SETTLE_THREAD: Final = (
    "UPDATE hg_threads SET status = CASE WHEN interrupts <> '{}' THEN 'interrupted' "
    "ELSE 'idle' END, updated_at = now() WHERE tenant = %(tenant)s AND thread_id = "
    "%(thread_id)s AND status = 'busy' AND NOT EXISTS (SELECT 1 FROM hg_runs WHERE tenant = "
    "%(tenant)s AND thread_id = %(thread_id)s AND status IN ('pending', 'running'))"
)
"""A thread left 'busy' with no active run goes back to what its state shows."""

# -- runs -------------------------------------------------------------------------------------

ACTIVE_RUNS: Final = (
    "SELECT run_id, status FROM hg_runs WHERE tenant = %s AND thread_id = %s "
    "AND status IN ('pending', 'running') ORDER BY seq"
)
INSERT_RUN: Final = (
    "INSERT INTO hg_runs (run_id, tenant, thread_id, assistant_id, graph_id, created_at, "
    "updated_at, status, metadata, kwargs, multitask_strategy, temporary, on_completion) "
    "VALUES (%s, %s, %s, %s, %s, now(), now(), 'pending', %s, %s, %s, %s, %s) "
    f"RETURNING {RUN_COLUMNS}"
)
GET_RUN: Final = f"SELECT {RUN_COLUMNS} FROM hg_runs WHERE tenant = %s AND run_id = %s"
ASSISTANT_ACTIVE_RUNS: Final = (
    f"SELECT {RUN_COLUMNS} FROM hg_runs WHERE tenant = %s AND assistant_id = %s "
    "AND status IN ('pending', 'running') ORDER BY seq"
)
LIST_RUNS: Final = (
    f"SELECT {RUN_COLUMNS} FROM hg_runs WHERE tenant = %(tenant)s AND thread_id = "
    "%(thread_id)s AND (%(status)s::text IS NULL OR status = %(status)s) "
    "ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s"
)
DELETE_RUN: Final = (
    "DELETE FROM hg_runs WHERE tenant = %s AND thread_id = %s AND run_id = %s RETURNING run_id"
)
DELETE_RUN_EVENTS: Final = "DELETE FROM hg_run_events WHERE run_id = %s"
DELETE_RUN_BY_ID: Final = "DELETE FROM hg_runs WHERE run_id = %s"
CANCEL_PENDING: Final = (
    "UPDATE hg_runs SET status = 'interrupted', cancel_action = %s, updated_at = now() "
    "WHERE run_id = %s"
)
CANCEL_RUNNING: Final = "UPDATE hg_runs SET cancel_action = %s WHERE run_id = %s"

CLAIM: Final = f"""WITH candidate AS (
    SELECT r.run_id FROM hg_runs r
    WHERE (r.status = 'pending' OR (r.status = 'running' AND r.lease_until < now()))
      AND NOT EXISTS (
        SELECT 1 FROM hg_runs o
        WHERE o.tenant = r.tenant AND o.thread_id = r.thread_id AND o.run_id <> r.run_id
          AND o.status = 'running' AND o.lease_until >= now())
      AND NOT EXISTS (
        SELECT 1 FROM hg_runs e
        WHERE e.tenant = r.tenant AND e.thread_id = r.thread_id AND e.seq < r.seq
          AND e.status IN ('pending', 'running'))
    ORDER BY r.seq
    LIMIT 1
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE hg_runs AS u SET status = 'running', lease_owner = %(worker)s,
    lease_until = now() + make_interval(secs => %(lease)s), fencing = u.fencing + 1,
    attempt = u.attempt + 1, updated_at = now()
FROM candidate WHERE u.run_id = candidate.run_id
RETURNING {', '.join('u.' + c.strip() for c in RUN_COLUMNS.split(','))}"""
"""Take the oldest runnable run (pending, or running with an expired lease: its worker died)
of a thread where no other run holds a live lease and no older run is active, as SQLite's
claim does. Rows another worker is claiming are skipped, not waited for; a row claimed and
committed meanwhile is re-checked against the WHERE clause and dropped."""

HEARTBEAT: Final = (
    "UPDATE hg_runs SET lease_until = now() + make_interval(secs => %s) WHERE run_id = %s "
    "AND fencing = %s AND status = 'running' RETURNING cancel_action"
)
FINISH: Final = (
    "UPDATE hg_runs SET status = %(status)s, output = %(output)s, error = %(error)s, "
    "updated_at = now(), lease_owner = NULL, lease_until = NULL WHERE run_id = %(run_id)s "
    "AND fencing = %(fencing)s AND status = 'running' RETURNING tenant, thread_id"
)
RUN_THREAD: Final = "SELECT tenant, thread_id FROM hg_runs WHERE run_id = %s"
RECORD_START: Final = (
    "UPDATE hg_runs SET start_point = COALESCE(start_point, %s) WHERE run_id = %s "
    "AND fencing = %s AND status = 'running' RETURNING run_id"
)
HOLDS: Final = (
    "SELECT 1 FROM hg_runs WHERE run_id = %s AND fencing = %s AND status = 'running' FOR SHARE"
)
"""The share lock makes a claim by another worker wait until this transaction's writes are
in, so none land after the run changed hands."""

# -- run events -------------------------------------------------------------------------------

APPEND_EVENTS: Final = (
    "INSERT INTO hg_run_events (run_id, seq, event, data) "
    "SELECT %(run_id)s, last.seq + t.n, t.event, t.data "
    "FROM (SELECT COALESCE(MAX(seq), 0) AS seq FROM hg_run_events WHERE run_id = %(run_id)s) "
    "AS last, unnest(%(events)s::text[], %(data)s::text[]) WITH ORDINALITY AS t(event, data, n)"
)
READ_EVENTS: Final = (
    "SELECT run_id, seq, event, data FROM hg_run_events WHERE run_id = %s AND seq > %s "
    "ORDER BY seq LIMIT %s"
)


# -- assistants -------------------------------------------------------------------------------

_KEY: Final = "tenant = %(tenant)s AND assistant_id = %(assistant_id)s"
_VERSION_COLUMNS: Final = ASSISTANT_COLUMNS.replace("updated_at", "created_at")
_SET_VERSION: Final = (
    "graph_id = %(graph_id)s, config = %(config)s, context = %(context)s, metadata = "
    "%(metadata)s, name = %(name)s, description = %(description)s, version = %(version)s"
)

ASSISTANTS: Final[dict[str, str]] = {
    "insert": (
        "INSERT INTO hg_assistants (tenant, assistant_id, graph_id, config, context, metadata, "
        "name, description, version, created_at, updated_at) VALUES (%(tenant)s, "
        "%(assistant_id)s, %(graph_id)s, %(config)s, %(context)s, %(metadata)s, %(name)s, "
        "%(description)s, %(version)s, %(at)s::timestamptz, %(at)s::timestamptz) "
        f"ON CONFLICT (tenant, assistant_id) DO NOTHING RETURNING {ASSISTANT_COLUMNS}"),
    "insert_version": (
        "INSERT INTO hg_assistant_versions (tenant, assistant_id, version, graph_id, config, "
        "context, metadata, name, description, created_at) VALUES (%(tenant)s, "
        "%(assistant_id)s, %(version)s, %(graph_id)s, %(config)s, %(context)s, %(metadata)s, "
        "%(name)s, %(description)s, %(at)s::timestamptz)"),
    "get": f"SELECT {ASSISTANT_COLUMNS} FROM hg_assistants WHERE {_KEY}",
    # Serializes the updates of one assistant, so each computes its version after the last.
    "lock": f"SELECT {ASSISTANT_COLUMNS} FROM hg_assistants WHERE {_KEY} FOR UPDATE",
    "list": (f"SELECT {ASSISTANT_COLUMNS} FROM hg_assistants WHERE tenant = %(tenant)s "
             "ORDER BY seq"),
    "update": (f"UPDATE hg_assistants SET {_SET_VERSION}, updated_at = %(at)s::timestamptz "
               f"WHERE {_KEY} RETURNING {ASSISTANT_COLUMNS}"),
    "delete": f"DELETE FROM hg_assistants WHERE {_KEY} RETURNING assistant_id",
    "delete_versions": f"DELETE FROM hg_assistant_versions WHERE {_KEY}",
    "max_version": f"SELECT COALESCE(MAX(version), 0) FROM hg_assistant_versions WHERE {_KEY}",
    "version": (f"SELECT {_VERSION_COLUMNS} FROM hg_assistant_versions WHERE {_KEY} "
                "AND version = %(version)s"),
    "version_numbers": (f"SELECT version FROM hg_assistant_versions WHERE {_KEY} "
                        "ORDER BY version"),
    "versions": (f"SELECT {_VERSION_COLUMNS} FROM hg_assistant_versions WHERE {_KEY} "
                 "ORDER BY version DESC"),
}
"""The SQL text of each statement store/_assistants.py names."""

# -- rows -------------------------------------------------------------------------------------

def dumps(value: Any) -> str:
    """JSON text as stored."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dumps_or_null(value: Any) -> str | None:
    """JSON text as stored, or NULL for None."""
    return None if value is None else dumps(value)


def _load(text: str | None, default: Any) -> Any:
    return default if text is None else json.loads(text)


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def thread_row(row: tuple[Any, ...]) -> ThreadRow:
    """A hg_threads row (THREAD_COLUMNS order) as a ThreadRow."""
    (tenant, thread_id, created_at, updated_at, metadata, status, values, interrupts,
     graph_id, state_updated_at, error) = row
    return ThreadRow(tenant=tenant, thread_id=thread_id, created_at=_iso(created_at),
                     updated_at=_iso(updated_at), metadata=_load(metadata, {}), status=status,
                     values=_load(values, None), interrupts=_load(interrupts, {}),
                     graph_id=graph_id, state_updated_at=_iso(state_updated_at),
                     error=_load(error, None))


def run_row(row: tuple[Any, ...]) -> RunRow:
    """A hg_runs row (RUN_COLUMNS order) as a RunRow."""
    (tenant, run_id, thread_id, assistant_id, graph_id, created_at, updated_at, status,
     metadata, kwargs, strategy, fencing, attempt, cancel_action, output, error, temporary,
     on_completion, start_point) = row
    return RunRow(tenant=tenant, run_id=run_id, thread_id=thread_id, assistant_id=assistant_id,
                  graph_id=graph_id, created_at=_iso(created_at), updated_at=_iso(updated_at),
                  status=status, metadata=_load(metadata, {}), kwargs=_load(kwargs, {}),
                  multitask_strategy=strategy, fencing=int(fencing), attempt=int(attempt),
                  cancel_action=cancel_action, output=_load(output, None),
                  error=_load(error, None), temporary=bool(temporary),
                  on_completion=on_completion, start_point=_load(start_point, None))
