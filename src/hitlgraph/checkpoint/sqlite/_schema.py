"""The SQLite checkpoint schema: its migrations, applied by `_store.schema`.

Migration 1 made the tables compact: clustered on their keys (WITHOUT ROWID), long values
apart in `blob_data`, a task's writes packed in one row. The schema on disk is what these
entries build; never edit one, add a new one.
"""

from __future__ import annotations

from typing import Any, Final

import ormsgpack

from hitlgraph.checkpoint._store import pending
from hitlgraph.checkpoint._store.dialect import Migration
from hitlgraph.checkpoint._store.ops import Batch, Ops, Statement

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE"]

MIGRATIONS_TABLE: Final = "hitlgraph_checkpoint_migrations"

MIGRATIONS: Final[tuple[tuple[Migration, ...], ...]] = (
    # 0: the initial schema.
    (
        """CREATE TABLE IF NOT EXISTS checkpoints (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            parent_checkpoint_id TEXT,
            ts TEXT NOT NULL,
            record BLOB NOT NULL,
            metadata_type TEXT NOT NULL,
            metadata BLOB NOT NULL,
            metadata_json TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        )""",
        """CREATE TABLE IF NOT EXISTS blobs (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL,
            version NOT NULL,
            type TEXT NOT NULL,
            blob BLOB NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
        )""",
        """CREATE TABLE IF NOT EXISTS writes (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            channel TEXT NOT NULL,
            type TEXT NOT NULL,
            blob BLOB NOT NULL,
            task_path TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
        )""",
        # The primary key already serves "latest of a thread" (scanned backwards); this one
        # serves list() across all threads, newest first.
        "CREATE INDEX IF NOT EXISTS checkpoints_by_id ON checkpoints (checkpoint_id DESC)",
    ),
    # 1: compact tables. Clustered on their keys (WITHOUT ROWID: no second copy of each key in
    # an index); ts and the msgpack metadata are NULL when the id or the JSON copy holds them;
    # writes keep their order in `seq`. list() across all threads sorts instead of using an
    # index of its own.
    (
        """CREATE TABLE checkpoints_v1 (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            parent_checkpoint_id TEXT,
            ts TEXT,
            record BLOB NOT NULL,
            metadata_type TEXT,
            metadata BLOB,
            metadata_json TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        ) WITHOUT ROWID""",
        "INSERT INTO checkpoints_v1 SELECT thread_id, checkpoint_ns, checkpoint_id, "
        "parent_checkpoint_id, ts, record, metadata_type, metadata, metadata_json FROM checkpoints",
        "DROP INDEX IF EXISTS checkpoints_by_id",
        "DROP TABLE checkpoints",
        "ALTER TABLE checkpoints_v1 RENAME TO checkpoints",
        # Values longer than INLINE_MAX bytes live in `blob_data` (a rowid table, whose pages
        # hold them whole); a clustered table keeps only short values in its own pages.
        """CREATE TABLE blob_data (
            id INTEGER PRIMARY KEY,
            data BLOB NOT NULL
        )""",
        """CREATE TABLE blobs_v1 (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL,
            version NOT NULL,
            type TEXT NOT NULL,
            blob BLOB,
            data_id INTEGER,
            PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
        ) WITHOUT ROWID""",
        "INSERT INTO blobs_v1 (thread_id, checkpoint_ns, channel, version, type, blob) "
        "SELECT thread_id, checkpoint_ns, channel, version, type, blob FROM blobs",
        "DROP TABLE blobs",
        "ALTER TABLE blobs_v1 RENAME TO blobs",
        # One row per task: its writes packed together (most steps write two or three
        # values per task, and the key columns cost more than the values).
        """CREATE TABLE writes_v1 (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            task_path TEXT NOT NULL DEFAULT '',
            writes BLOB,
            data_id INTEGER,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id)
        ) WITHOUT ROWID""",
        lambda _dialect, _serde: _pack_v0_writes(),
        "DROP TABLE writes",
        "ALTER TABLE writes_v1 RENAME TO writes",
        *(statement for table in ("blobs", "writes") for statement in (
            f"CREATE TRIGGER {table}_data_deleted AFTER DELETE ON {table} "
            "WHEN old.data_id IS NOT NULL BEGIN "
            "DELETE FROM blob_data WHERE id = old.data_id; END",
            f"CREATE TRIGGER {table}_data_replaced AFTER UPDATE OF data_id ON {table} "
            "WHEN old.data_id IS NOT NULL AND old.data_id IS NOT new.data_id BEGIN "
            "DELETE FROM blob_data WHERE id = old.data_id; END",
        )),
    ),
    # 2: fences (checkpoint.base.WriteRules.fence): the latest token per key.
    (
        """CREATE TABLE IF NOT EXISTS fences (
            key TEXT PRIMARY KEY,
            token INTEGER NOT NULL
        ) WITHOUT ROWID""",
    ),
    # 3: the index of open interrupts (hitlgraph.review), built from the latest checkpoints.
    # One row per interrupt of a thread (a stored checkpoint closes the ones it supersedes:
    # see _sql.SqliteDialect.store_checkpoint).
    (
        """CREATE TABLE pending_interrupts (
            thread_id TEXT NOT NULL,
            interrupt_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL,
            checkpoint_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            node TEXT,
            graph_id TEXT,
            created_at TEXT NOT NULL,
            value_type TEXT NOT NULL,
            value BLOB NOT NULL,
            response_schema TEXT,
            answered INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (thread_id, interrupt_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX pending_interrupts_open ON pending_interrupts "
        "(created_at, thread_id, interrupt_id) WHERE answered = 0",
        pending.backfill,
    ),
    # 4: the decision log (hitlgraph.review.Decision), hash-chained in `seq` order, and the
    # chain's head (last seq and hash), which shows a row taken off the end.
    (
        """CREATE TABLE decisions (
            seq INTEGER PRIMARY KEY,
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL,
            interrupt_id TEXT NOT NULL,
            node TEXT,
            answer TEXT NOT NULL,
            decided_by TEXT,
            reason TEXT,
            at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX decisions_by_thread ON decisions (thread_id, seq)",
        """CREATE TABLE decisions_head (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL
        )""",
        "INSERT INTO decisions_head (one, seq, hash) VALUES (1, 0, '')",
    ),
    # 5: the review event outbox (hitlgraph.review.ReviewEvent), numbered from its head's
    # last seq (kept apart so that pruning the events never lets a number come back). "IF
    # NOT EXISTS": a database taken back to an older version by hand may still hold them.
    (
        """CREATE TABLE IF NOT EXISTS review_events (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL,
            interrupt_id TEXT NOT NULL,
            graph_id TEXT,
            data TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS review_events_head (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            seq INTEGER NOT NULL
        )""",
        "INSERT OR IGNORE INTO review_events_head (one, seq) VALUES (1, 0)",
    ),
    # 6: review policies in the index (hitlgraph.review.ReviewPolicy): the deadline and the
    # warning's time, who holds the interrupt and which group answers it, how many approvals
    # it needs (and, for k-of-n answers, those given so far), the policy (serialized, and as
    # JSON text), and the flags apply_expired sets once. `due` is the deadline or '~' (after
    # every time), the deadline order's key. An index per filter and order of list_pending().
    (
        *(f"ALTER TABLE pending_interrupts ADD COLUMN {column}" for column in (
            "expires_at TEXT", "warn_at TEXT", "due TEXT NOT NULL DEFAULT '~'",
            "assignee TEXT", "group_name TEXT", "approvals INTEGER NOT NULL DEFAULT 1",
            "policy TEXT", "policy_type TEXT", "policy_value BLOB",
            "warned INTEGER NOT NULL DEFAULT 0", "expired INTEGER NOT NULL DEFAULT 0",
            "approvals_given TEXT")),
        "CREATE INDEX pending_interrupts_by_assignee ON pending_interrupts "
        "(assignee, created_at, thread_id, interrupt_id) WHERE answered = 0",
        "CREATE INDEX pending_interrupts_by_group ON pending_interrupts "
        "(group_name, created_at, thread_id, interrupt_id) WHERE answered = 0",
        "CREATE INDEX pending_interrupts_by_due ON pending_interrupts "
        "(due, thread_id, interrupt_id) WHERE answered = 0",
        "CREATE INDEX pending_interrupts_to_warn ON pending_interrupts "
        "(warn_at, thread_id, interrupt_id) WHERE answered = 0 AND warned = 0",
        pending.backfill_policies,
    ),
)
"""Append-only: the index of an entry is its schema version. Never edit or reorder an entry;
add a new one. Each step (SQL text, or an operation) must be safe inside a transaction."""


def _pack_v0_writes() -> Ops[None]:
    """Migration 1: copy schema 0's writes (a row per write) into writes_v1 (a row per task)."""
    tasks: dict[tuple[str, str, str, str], tuple[int, str, list[list[Any]]]] = {}
    rows = yield Statement(
        "SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, "
        "task_path, rowid FROM writes ORDER BY rowid"
    )
    for row in rows or ():
        key = (row[0], row[1], row[2], row[3])
        if key not in tasks:
            tasks[key] = (row[9], row[8], [])
        tasks[key][2].append([row[4], row[5], row[6], row[7]])
    yield Batch(tuple(
        Statement("INSERT INTO writes_v1 (thread_id, checkpoint_ns, checkpoint_id, task_id, "
                  "seq, task_path, writes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (*key, seq, path, ormsgpack.packb(entries)))
        for key, (seq, path, entries) in tasks.items()
    ))
