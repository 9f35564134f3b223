"""SQLite's SQL: its schema (the migrations, never edited once shipped) and its dialect.

SQLite has one writer at a time: every write transaction is `BEGIN IMMEDIATE`, which holds
the database, so no statement needs a row lock. Times are ISO text the operation binds, and
leases epoch seconds it binds, from the server's clock; rows keep their insertion order in
`rowid`. Lists travel as JSON text, read back with `json_each`. A change other processes
should hear of is a row of `hg_changes` (their watchers read it, `_watch.py`), stamped with
`hg_origin()`, a function the writing store defines on its connection.
"""

from __future__ import annotations

from collections.abc import Sequence

from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._rows import THREAD_COLUMNS, dumps
from hitlgraph.server.store._schema import MIGRATIONS_TABLE

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "SQLITE"]

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
    # 4: crons; deleting a thread or an assistant deletes its crons (as LangGraph's server).
    (
        """CREATE TABLE IF NOT EXISTS hg_crons (
            cron_id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            assistant_id TEXT NOT NULL,
            thread_id TEXT,
            schedule TEXT NOT NULL,
            timezone TEXT,
            payload TEXT NOT NULL,
            metadata TEXT NOT NULL,
            on_run_completed TEXT,
            enabled INTEGER NOT NULL,
            end_time TEXT,
            next_run_date TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS hg_crons_tenant ON hg_crons (tenant, created_at)",
        "CREATE INDEX IF NOT EXISTS hg_crons_due ON hg_crons (next_run_date) WHERE enabled",
        """CREATE TRIGGER IF NOT EXISTS hg_crons_of_thread AFTER DELETE ON hg_threads
        BEGIN
            DELETE FROM hg_crons WHERE tenant = OLD.tenant AND thread_id = OLD.thread_id;
        END""",
        """CREATE TRIGGER IF NOT EXISTS hg_crons_of_assistant AFTER DELETE ON hg_assistants
        BEGIN
            DELETE FROM hg_crons WHERE tenant = OLD.tenant
                AND assistant_id = OLD.assistant_id;
        END""",
    ),
    # 5: the changes other processes' watchers wake their waiters from (_watch.py), since
    # SQLite has no NOTIFY; the last 1,000 are kept.
    (
        """CREATE TABLE IF NOT EXISTS hg_changes (
            seq INTEGER PRIMARY KEY,
            origin TEXT NOT NULL,
            channel TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
        """CREATE TRIGGER IF NOT EXISTS hg_changes_kept AFTER INSERT ON hg_changes
        BEGIN
            DELETE FROM hg_changes WHERE seq <= NEW.seq - 1000;
        END""",
    ),
    # 6: a page of threads by status, newest update first, read without the other threads
    # (threads/search with status "interrupted": what waits for a person).
    (
        "CREATE INDEX IF NOT EXISTS hg_threads_by_status ON hg_threads "
        "(tenant, status, updated_at)",
        "CREATE INDEX IF NOT EXISTS hg_threads_by_update ON hg_threads (tenant, updated_at)",
    ),
    # 7: the changes' trigger prunes at every 64th row, not at each one: deleting the oldest
    # row wrote another page of the file into every commit that notifies (about 50 us each).
    # The table keeps its last 1,000 to 1,063 rows.
    (
        "DROP TRIGGER IF EXISTS hg_changes_kept",
        """CREATE TRIGGER IF NOT EXISTS hg_changes_kept AFTER INSERT ON hg_changes
        WHEN NEW.seq % 64 = 0
        BEGIN
            DELETE FROM hg_changes WHERE seq <= NEW.seq - 1000;
        END""",
    ),
)
"""Append-only: the index of an entry is its schema version. Never edit or reorder an entry;
add a new one."""


def _json_list(values: Sequence[str]) -> str:
    """sqlite3 binds no lists: they go as JSON text, read back with json_each."""
    return dumps(list(values))


SQLITE = Dialect(
    now=":at",
    clock=":now",
    lease_end=":now + :lease",
    cutoff=":cutoff",
    time_cast="",
    lock_row="",
    share_row="",
    skip_locked="",
    created=("created_at", "rowid"),
    rowid="rowid",
    in_list="IN (SELECT value FROM json_each(:{name}))",
    text_list=_json_list,
    notify=("INSERT INTO hg_changes (origin, channel, payload) "
            "VALUES (hg_origin(), :channel, :payload)"),
    has_table=("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' "
               "AND name = :table)"),
    migrations_table=f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (v INTEGER PRIMARY KEY)",
    lock_migrations=None,
    migrations=MIGRATIONS,
    thread_and_active=(
        f"SELECT {THREAD_COLUMNS}, (SELECT json_group_array(json_array(run_id, status, "
        "created_at, rowid)) FROM hg_runs WHERE tenant = :tenant AND thread_id = :thread_id "
        "AND status IN ('pending', 'running')) FROM hg_threads "
        "WHERE tenant = :tenant AND thread_id = :thread_id"),
)
