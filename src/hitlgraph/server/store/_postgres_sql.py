"""PostgreSQL's SQL: its schema (the migrations, never edited once shipped) and its dialect.

Several server processes, on one machine or many, share one database: what changes a
thread's runs locks the thread's row first (`FOR UPDATE`), workers claim runs with
`FOR UPDATE SKIP LOCKED`, and every change is announced with NOTIFY in its transaction.
Times use the database's clock (`now()`), so servers on machines whose clocks disagree still
agree on when a lease ran out. Tables live in the connection's `search_path` schema, beside
the checkpoint saver's `hitlgraph_*` tables when they share a database; rows keep their
insertion order in an identity column `seq`.

Every statement is a constant text; values travel only as bound parameters.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._rows import THREAD_COLUMNS
from hitlgraph.server.store._schema import MIGRATIONS_TABLE

__all__ = ["MIGRATIONS", "POSTGRES"]

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
    # 3: crons; deleting a thread or an assistant deletes its crons (as LangGraph's server).
    (
        """CREATE TABLE IF NOT EXISTS hg_crons (
            cron_id TEXT COLLATE "C" PRIMARY KEY,
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            tenant TEXT COLLATE "C" NOT NULL,
            assistant_id TEXT COLLATE "C" NOT NULL,
            thread_id TEXT COLLATE "C",
            schedule TEXT NOT NULL,
            timezone TEXT,
            payload TEXT NOT NULL,
            metadata TEXT NOT NULL,
            on_run_completed TEXT,
            enabled BOOLEAN NOT NULL,
            end_time TIMESTAMPTZ,
            next_run_date TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS hg_crons_tenant ON hg_crons (tenant, seq)",
        # The schedulers' claim scans only the enabled crons, soonest first.
        "CREATE INDEX IF NOT EXISTS hg_crons_due ON hg_crons (next_run_date) WHERE enabled",
        """CREATE OR REPLACE FUNCTION hg_crons_of_thread() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM hg_crons WHERE tenant = OLD.tenant AND thread_id = OLD.thread_id;
            RETURN OLD;
        END $$""",
        """CREATE TRIGGER hg_crons_of_thread AFTER DELETE ON hg_threads
        FOR EACH ROW EXECUTE FUNCTION hg_crons_of_thread()""",
        """CREATE OR REPLACE FUNCTION hg_crons_of_assistant() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM hg_crons WHERE tenant = OLD.tenant
                AND assistant_id = OLD.assistant_id;
            RETURN OLD;
        END $$""",
        """CREATE TRIGGER hg_crons_of_assistant AFTER DELETE ON hg_assistants
        FOR EACH ROW EXECUTE FUNCTION hg_crons_of_assistant()""",
    ),
    # 4: a page of threads by status, newest update first, read without the other threads
    # (threads/search with status "interrupted": what waits for a person).
    (
        "CREATE INDEX IF NOT EXISTS hg_threads_by_status ON hg_threads "
        "(tenant, status, updated_at)",
        "CREATE INDEX IF NOT EXISTS hg_threads_by_update ON hg_threads (tenant, updated_at)",
    ),
)
"""Append-only: the index of an entry is its schema version. Never edit or reorder an entry;
add a new one. Each statement must be safe inside a transaction."""

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@functools.lru_cache(maxsize=512)
def _render(sql: str) -> str:
    """`:name` parameters as psycopg's `%(name)s` (a `::type` cast stays as it is)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


POSTGRES = Dialect(
    now="now()",
    clock="now()",
    lease_end="now() + make_interval(secs => :lease)",
    cutoff="now() - make_interval(secs => :age)",
    time_cast="::timestamptz",
    lock_row=" FOR UPDATE",
    # The share lock makes a claim by another worker wait until this transaction's writes
    # are in, so none land after the run changed hands.
    share_row=" FOR SHARE",
    skip_locked=" FOR UPDATE OF r SKIP LOCKED",
    created=("seq",),
    rowid="seq",
    in_list="= ANY(:{name}::text[])",
    text_list=list,
    notify="SELECT pg_notify(:channel, :payload)",
    has_table="SELECT to_regclass(:table) IS NOT NULL",
    migrations_table=(f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
                      "(v INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"),
    lock_migrations=f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {MIGRATION_LOCK})",
    migrations=MIGRATIONS,
    render=_render,
    # Sent after the row lock (`threads.lock_quietly`, in the same round trip): READ
    # COMMITTED gives it a snapshot taken once the lock is held, so it sees every run a
    # transaction that held the lock before committed.
    thread_and_active=(
        f"SELECT {THREAD_COLUMNS}, (SELECT COALESCE(json_agg(json_build_array(run_id, status, "
        "seq, seq) ORDER BY seq), '[]')::text FROM hg_runs WHERE tenant = :tenant AND "
        "thread_id = :thread_id AND status IN ('pending', 'running')) FROM hg_threads "
        "WHERE tenant = :tenant AND thread_id = :thread_id"),
)
