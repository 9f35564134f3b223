"""The SQLite store's SQL text, migrations and row decoding, as plain data and functions.

Tables (prefixed `hg_` so they can share a file with the checkpoint saver's):

- hg_threads(tenant, thread_id) -> metadata, status, values, interrupts, graph_id, times
- hg_runs(run_id) -> tenant, thread_id, status, kwargs, lease_owner, lease_until, fencing, ...
- hg_run_events(run_id, seq) -> event, data: the run's stream chunks, seq counting from 1
- hg_assistants(tenant, assistant_id) -> graph_id, config, context, metadata, name, version, ...
- hg_assistant_versions(tenant, assistant_id, version) -> what that version held
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from hitlgraph.server.store._assistants import COLUMNS as ASSISTANT_COLUMNS
from hitlgraph.server.store.base import RunRow, ThreadRow

MIGRATIONS_TABLE = "hg_server_migrations"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS hg_threads (
            tenant TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'idle',
            "values" TEXT,
            interrupts TEXT NOT NULL DEFAULT '{}',
            graph_id TEXT,
            PRIMARY KEY (tenant, thread_id)
        )""",
        """CREATE TABLE IF NOT EXISTS hg_runs (
            run_id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            assistant_id TEXT NOT NULL,
            graph_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            status TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            kwargs TEXT NOT NULL DEFAULT '{}',
            multitask_strategy TEXT NOT NULL,
            lease_owner TEXT,
            lease_until REAL,
            fencing INTEGER NOT NULL DEFAULT 0,
            attempt INTEGER NOT NULL DEFAULT 0,
            cancel_action TEXT,
            output TEXT,
            error TEXT,
            temporary INTEGER NOT NULL DEFAULT 0,
            on_completion TEXT NOT NULL DEFAULT 'keep'
        )""",
        "CREATE INDEX IF NOT EXISTS hg_runs_thread ON hg_runs (tenant, thread_id, created_at)",
        "CREATE INDEX IF NOT EXISTS hg_runs_status ON hg_runs (status, created_at)",
        """CREATE TABLE IF NOT EXISTS hg_run_events (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            event TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        )""",
    ),
    # 1: where a run started (RunRow.start_point), so a reclaimed run continues from there.
    ("ALTER TABLE hg_runs ADD COLUMN start_point TEXT",),
    # 2: a thread's last error and when its state last changed (LangGraph's Thread fields).
    ("ALTER TABLE hg_threads ADD COLUMN state_updated_at TEXT",
     "ALTER TABLE hg_threads ADD COLUMN error TEXT"),
    # 3: assistants made through the API, and every version of each.
    (
        """CREATE TABLE IF NOT EXISTS hg_assistants (
            tenant TEXT NOT NULL,
            assistant_id TEXT NOT NULL,
            graph_id TEXT NOT NULL,
            config TEXT NOT NULL,
            context TEXT NOT NULL,
            metadata TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            version INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant, assistant_id)
        )""",
        """CREATE TABLE IF NOT EXISTS hg_assistant_versions (
            tenant TEXT NOT NULL,
            assistant_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            graph_id TEXT NOT NULL,
            config TEXT NOT NULL,
            context TEXT NOT NULL,
            metadata TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (tenant, assistant_id, version)
        )""",
    ),
)

THREAD_COLUMNS = ('tenant, thread_id, created_at, updated_at, metadata, status, "values", '
                  "interrupts, graph_id, COALESCE(state_updated_at, updated_at), error")
RUN_COLUMNS = ("tenant, run_id, thread_id, assistant_id, graph_id, created_at, updated_at, "
               "status, metadata, kwargs, multitask_strategy, fencing, attempt, cancel_action, "
               "output, error, temporary, on_completion, start_point")

INSERT_THREAD = (
    'INSERT INTO hg_threads (tenant, thread_id, created_at, updated_at, state_updated_at, '
    'metadata, status, "values", interrupts) VALUES (?, ?, ?, ?, ?, ?, \'idle\', NULL, \'{}\')'
)
GET_THREAD = f"SELECT {THREAD_COLUMNS} FROM hg_threads WHERE tenant = ? AND thread_id = ?"
ACTIVE_RUNS = (
    "SELECT run_id, status FROM hg_runs WHERE tenant = ? AND thread_id = ? "
    "AND status IN ('pending', 'running') ORDER BY created_at, rowid"
)
INSERT_RUN = (
    "INSERT INTO hg_runs (run_id, tenant, thread_id, assistant_id, graph_id, created_at, "
    "updated_at, status, metadata, kwargs, multitask_strategy, temporary, on_completion) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)"
)
GET_RUN = f"SELECT {RUN_COLUMNS} FROM hg_runs WHERE tenant = ? AND run_id = ?"
ASSISTANT_ACTIVE_RUNS = (
    f"SELECT {RUN_COLUMNS} FROM hg_runs WHERE tenant = ? AND assistant_id = ? "
    "AND status IN ('pending', 'running') ORDER BY created_at, rowid"
)

# The oldest runnable run: pending, or running with an expired lease (its worker died), on a
# thread where no other run holds a live lease, and with no older pending run on its thread.
CLAIMABLE = """
SELECT r.run_id FROM hg_runs r
WHERE (r.status = 'pending' OR (r.status = 'running' AND r.lease_until < :now))
  AND NOT EXISTS (
    SELECT 1 FROM hg_runs o
    WHERE o.tenant = r.tenant AND o.thread_id = r.thread_id AND o.run_id != r.run_id
      AND o.status = 'running' AND o.lease_until >= :now)
  AND NOT EXISTS (
    SELECT 1 FROM hg_runs e
    WHERE e.tenant = r.tenant AND e.thread_id = r.thread_id AND e.run_id != r.run_id
      AND e.status IN ('pending', 'running')
      AND (e.created_at < r.created_at OR (e.created_at = r.created_at AND e.rowid < r.rowid)))
ORDER BY r.created_at, r.rowid
LIMIT 1
"""
CLAIM = (
    "UPDATE hg_runs SET status = 'running', lease_owner = :worker, lease_until = :until, "
    "fencing = fencing + 1, attempt = attempt + 1, updated_at = :at WHERE run_id = :run_id"
)
HEARTBEAT = (
    "UPDATE hg_runs SET lease_until = :until WHERE run_id = :run_id AND fencing = :fencing "
    "AND status = 'running' RETURNING cancel_action"
)
FINISH = (
    "UPDATE hg_runs SET status = :status, output = :output, error = :error, updated_at = :at, "
    "lease_owner = NULL, lease_until = NULL WHERE run_id = :run_id AND fencing = :fencing "
    "AND status = 'running' RETURNING tenant, thread_id"
)
THREAD_AFTER_RUN = (
    'UPDATE hg_threads SET "values" = :values, interrupts = :interrupts, updated_at = :at, '
    "state_updated_at = :at, error = :error, "
    "status = CASE WHEN EXISTS (SELECT 1 FROM hg_runs WHERE tenant = :tenant AND thread_id = "
    ":thread_id AND status IN ('pending', 'running')) THEN 'busy' ELSE :status END "
    "WHERE tenant = :tenant AND thread_id = :thread_id"
)
RECORD_START = (
    "UPDATE hg_runs SET start_point = COALESCE(start_point, ?) WHERE run_id = ? "
    "AND fencing = ? AND status = 'running'"
)
HOLDS = "SELECT 1 FROM hg_runs WHERE run_id = ? AND fencing = ? AND status = 'running'"
LAST_SEQ = "SELECT COALESCE(MAX(seq), 0) FROM hg_run_events WHERE run_id = ?"
INSERT_EVENT = "INSERT INTO hg_run_events (run_id, seq, event, data) VALUES (?, ?, ?, ?)"
READ_EVENTS = (
    "SELECT run_id, seq, event, data FROM hg_run_events WHERE run_id = ? AND seq > ? "
    "ORDER BY seq LIMIT ?"
)

_KEY = "tenant = :tenant AND assistant_id = :assistant_id"
_VERSION_COLUMNS = ASSISTANT_COLUMNS.replace("updated_at", "created_at")
_SET_VERSION = ("graph_id = :graph_id, config = :config, context = :context, metadata = "
                ":metadata, name = :name, description = :description, version = :version")

ASSISTANTS: dict[str, str] = {
    "insert": (
        "INSERT INTO hg_assistants (tenant, assistant_id, graph_id, config, context, metadata, "
        "name, description, version, created_at, updated_at) VALUES (:tenant, :assistant_id, "
        ":graph_id, :config, :context, :metadata, :name, :description, :version, :at, :at) "
        f"ON CONFLICT (tenant, assistant_id) DO NOTHING RETURNING {ASSISTANT_COLUMNS}"),
    "insert_version": (
        "INSERT INTO hg_assistant_versions (tenant, assistant_id, version, graph_id, config, "
        "context, metadata, name, description, created_at) VALUES (:tenant, :assistant_id, "
        ":version, :graph_id, :config, :context, :metadata, :name, :description, :at)"),
    "get": f"SELECT {ASSISTANT_COLUMNS} FROM hg_assistants WHERE {_KEY}",
    # BEGIN IMMEDIATE already holds the database's write lock.
    "lock": f"SELECT {ASSISTANT_COLUMNS} FROM hg_assistants WHERE {_KEY}",
    "list": (f"SELECT {ASSISTANT_COLUMNS} FROM hg_assistants WHERE tenant = :tenant "
             "ORDER BY created_at, rowid"),
    "update": (f"UPDATE hg_assistants SET {_SET_VERSION}, updated_at = :at WHERE {_KEY} "
               f"RETURNING {ASSISTANT_COLUMNS}"),
    "delete": f"DELETE FROM hg_assistants WHERE {_KEY} RETURNING assistant_id",
    "delete_versions": f"DELETE FROM hg_assistant_versions WHERE {_KEY}",
    "max_version": f"SELECT COALESCE(MAX(version), 0) FROM hg_assistant_versions WHERE {_KEY}",
    "version": (f"SELECT {_VERSION_COLUMNS} FROM hg_assistant_versions WHERE {_KEY} "
                "AND version = :version"),
    "version_numbers": (f"SELECT version FROM hg_assistant_versions WHERE {_KEY} "
                        "ORDER BY version"),
    "versions": (f"SELECT {_VERSION_COLUMNS} FROM hg_assistant_versions WHERE {_KEY} "
                 "ORDER BY version DESC"),
}
"""The SQL text of each statement store/_assistants.py names."""


def _load(text: str | None, default: Any) -> Any:
    return default if text is None else json.loads(text)


def thread_row(row: sqlite3.Row | tuple[Any, ...]) -> ThreadRow:
    """A hg_threads row (THREAD_COLUMNS order) as a ThreadRow."""
    (tenant, thread_id, created_at, updated_at, metadata, status, values, interrupts,
     graph_id, state_updated_at, error) = tuple(row)
    return ThreadRow(tenant=tenant, thread_id=thread_id, created_at=created_at,
                     updated_at=updated_at, metadata=_load(metadata, {}), status=status,
                     values=_load(values, None), interrupts=_load(interrupts, {}),
                     graph_id=graph_id, state_updated_at=state_updated_at,
                     error=_load(error, None))


def run_row(row: sqlite3.Row | tuple[Any, ...]) -> RunRow:
    """A hg_runs row (RUN_COLUMNS order) as a RunRow."""
    (tenant, run_id, thread_id, assistant_id, graph_id, created_at, updated_at, status,
     metadata, kwargs, strategy, fencing, attempt, cancel_action, output, error, temporary,
     on_completion, start_point) = tuple(row)
    return RunRow(tenant=tenant, run_id=run_id, thread_id=thread_id, assistant_id=assistant_id,
                  graph_id=graph_id, created_at=created_at, updated_at=updated_at,
                  status=status, metadata=_load(metadata, {}), kwargs=_load(kwargs, {}),
                  multitask_strategy=strategy, fencing=fencing, attempt=attempt,
                  cancel_action=cancel_action, output=_load(output, None),
                  error=_load(error, None), temporary=bool(temporary),
                  on_completion=on_completion, start_point=_load(start_point, None))
