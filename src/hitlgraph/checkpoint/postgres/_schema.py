"""The PostgreSQL checkpoint schema: its migrations (applied by `_store.schema`) and the
advisory locks the saver takes.

Tables carry a ``hitlgraph_`` prefix, so they never meet another library's ``checkpoints``
table in a shared database. Key columns use the "C" collation: ids then sort by code point,
as Python compares them, whatever the database's locale.
"""

from __future__ import annotations

from hashlib import blake2b
from typing import Final

from hitlgraph.checkpoint._store import pending
from hitlgraph.checkpoint._store.dialect import Migration
from hitlgraph.checkpoint._store.ops import Statement

__all__ = [
    "BLOBS", "CHECKPOINTS", "DECISIONS", "DECISIONS_HEAD", "EVENTS", "EVENTS_HEAD", "FENCES",
    "LOCK", "LOCK_CLASS", "MIGRATIONS", "MIGRATIONS_TABLE", "MIGRATION_LOCK", "PENDING", "TABLES",
    "WRITES", "thread_lock_key",
]

CHECKPOINTS: Final = "hitlgraph_checkpoints"
BLOBS: Final = "hitlgraph_checkpoint_blobs"
WRITES: Final = "hitlgraph_checkpoint_writes"
MIGRATIONS_TABLE: Final = "hitlgraph_checkpoint_migrations"
FENCES: Final = "hitlgraph_checkpoint_fences"
PENDING: Final = "hitlgraph_pending_interrupts"
DECISIONS: Final = "hitlgraph_decisions"
DECISIONS_HEAD: Final = "hitlgraph_decisions_head"
EVENTS: Final = "hitlgraph_review_events"
EVENTS_HEAD: Final = "hitlgraph_review_events_head"
TABLES: Final = (CHECKPOINTS, BLOBS, WRITES, FENCES, PENDING, DECISIONS, DECISIONS_HEAD,
                 EVENTS, EVENTS_HEAD, MIGRATIONS_TABLE)

MIGRATIONS: Final[tuple[tuple[Migration, ...], ...]] = (
    # 0: the initial schema.
    (
        f"""CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
            thread_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
            checkpoint_id TEXT COLLATE "C" NOT NULL,
            parent_checkpoint_id TEXT COLLATE "C",
            ts TEXT NOT NULL,
            channels TEXT[] COLLATE "C" NOT NULL,
            versions TEXT[] COLLATE "C" NOT NULL,
            record BYTEA NOT NULL,
            metadata_type TEXT NOT NULL,
            metadata BYTEA NOT NULL,
            metadata_json JSONB NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        )""",
        f"""CREATE TABLE IF NOT EXISTS {BLOBS} (
            thread_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
            channel TEXT COLLATE "C" NOT NULL,
            version TEXT COLLATE "C" NOT NULL,
            type TEXT NOT NULL,
            blob BYTEA NOT NULL,
            base_version TEXT COLLATE "C",  -- a delta's: the version it extends
            PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
        )""",
        f"""CREATE TABLE IF NOT EXISTS {WRITES} (
            thread_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
            checkpoint_id TEXT COLLATE "C" NOT NULL,
            task_id TEXT COLLATE "C" NOT NULL,
            idx INTEGER NOT NULL,
            channel TEXT NOT NULL,
            type TEXT NOT NULL,
            blob BYTEA NOT NULL,
            task_path TEXT NOT NULL DEFAULT '',
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
        )""",
        # The primary key serves "latest of a thread" (scanned backwards); this index serves
        # list() across all threads, newest first; the GIN one serves metadata filters.
        f"CREATE INDEX IF NOT EXISTS {CHECKPOINTS}_by_id ON {CHECKPOINTS} (checkpoint_id DESC)",
        f"CREATE INDEX IF NOT EXISTS {CHECKPOINTS}_metadata ON {CHECKPOINTS} "
        "USING gin (metadata_json jsonb_path_ops)",
    ),
    # 1: fences (checkpoint.base.WriteRules.fence): the latest token per key.
    (
        f"""CREATE TABLE IF NOT EXISTS {FENCES} (
            key TEXT COLLATE "C" PRIMARY KEY,
            token BIGINT NOT NULL
        )""",
    ),
    # 2: the index of open interrupts (hitlgraph.review), built from the latest checkpoints.
    # One row per interrupt of a thread; the guarded put closes the ones it supersedes.
    (
        f"""CREATE TABLE IF NOT EXISTS {PENDING} (
            thread_id TEXT COLLATE "C" NOT NULL,
            interrupt_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL,
            checkpoint_id TEXT COLLATE "C" NOT NULL,
            task_id TEXT COLLATE "C" NOT NULL,
            node TEXT,
            graph_id TEXT,
            created_at TEXT COLLATE "C" NOT NULL,
            value_type TEXT NOT NULL,
            value BYTEA NOT NULL,
            response_schema TEXT,
            answered BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (thread_id, interrupt_id)
        )""",
        f"CREATE INDEX IF NOT EXISTS {PENDING}_open ON {PENDING} "
        "(created_at DESC, thread_id DESC, interrupt_id DESC) WHERE NOT answered",
        pending.backfill,
    ),
    # 3: the decision log (hitlgraph.review.Decision), hash-chained in `seq` order, and the
    # chain's head (last seq and hash): writers lock it (FOR UPDATE), so the chain never forks.
    (
        f"""CREATE TABLE IF NOT EXISTS {DECISIONS} (
            seq BIGINT PRIMARY KEY,
            thread_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL,
            interrupt_id TEXT COLLATE "C" NOT NULL,
            node TEXT,
            answer TEXT NOT NULL,
            decided_by TEXT,
            reason TEXT,
            at TEXT COLLATE "C" NOT NULL,
            outcome TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        f"CREATE INDEX IF NOT EXISTS {DECISIONS}_by_thread ON {DECISIONS} (thread_id, seq)",
        f"""CREATE TABLE IF NOT EXISTS {DECISIONS_HEAD} (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL
        )""",
        f"INSERT INTO {DECISIONS_HEAD} (one, seq, hash) VALUES (1, 0, '') "
        "ON CONFLICT DO NOTHING",
    ),
    # 4: the review event outbox (hitlgraph.review.ReviewEvent), numbered from its head's
    # last seq: writers UPDATE the head, whose row lock holds until they commit, so seq order
    # is commit order (see checkpoint._store.events).
    (
        f"""CREATE TABLE IF NOT EXISTS {EVENTS} (
            seq BIGINT PRIMARY KEY,
            kind TEXT NOT NULL,
            at TEXT COLLATE "C" NOT NULL,
            thread_id TEXT COLLATE "C" NOT NULL,
            checkpoint_ns TEXT COLLATE "C" NOT NULL,
            interrupt_id TEXT COLLATE "C" NOT NULL,
            graph_id TEXT,
            data TEXT NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS {EVENTS_HEAD} (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            seq BIGINT NOT NULL
        )""",
        f"INSERT INTO {EVENTS_HEAD} (one, seq) VALUES (1, 0) ON CONFLICT DO NOTHING",
    ),
    # 5: review policies in the index (hitlgraph.review.ReviewPolicy): the deadline and the
    # warning's time, who holds the interrupt and which group answers it, how many approvals
    # it needs (and, for k-of-n answers, those given so far), the policy (serialized, and as
    # JSON text), and the flags apply_expired sets once. `due` is the deadline or '~' (after
    # every time), the deadline order's key. An index per filter and order of list_pending().
    (
        *(f"ALTER TABLE {PENDING} ADD COLUMN IF NOT EXISTS {column}" for column in (
            'expires_at TEXT COLLATE "C"', 'warn_at TEXT COLLATE "C"',
            "due TEXT COLLATE \"C\" NOT NULL DEFAULT '~'", "assignee TEXT",
            "group_name TEXT", "approvals INTEGER NOT NULL DEFAULT 1", "policy TEXT",
            "policy_type TEXT", "policy_value BYTEA", "warned BOOLEAN NOT NULL DEFAULT FALSE",
            "expired BOOLEAN NOT NULL DEFAULT FALSE", "approvals_given TEXT")),
        f"CREATE INDEX IF NOT EXISTS {PENDING}_by_assignee ON {PENDING} "
        "(assignee, created_at DESC, thread_id DESC, interrupt_id DESC) WHERE NOT answered",
        f"CREATE INDEX IF NOT EXISTS {PENDING}_by_group ON {PENDING} "
        "(group_name, created_at DESC, thread_id DESC, interrupt_id DESC) WHERE NOT answered",
        f"CREATE INDEX IF NOT EXISTS {PENDING}_by_due ON {PENDING} "
        "(due, thread_id, interrupt_id) WHERE NOT answered",
        f"CREATE INDEX IF NOT EXISTS {PENDING}_to_warn ON {PENDING} "
        "(warn_at, thread_id, interrupt_id) WHERE NOT answered AND NOT warned",
        pending.backfill_policies,
    ),
)
"""Append-only: the index of an entry is its schema version. Never edit or reorder an entry;
add a new one. Each statement must be safe inside a transaction."""

LOCK_CLASS: Final = 0x68676C70
"""First key of every advisory lock hitlgraph takes ("hglp"), apart from other users'."""

_MIGRATION_LOCK: Final = 0


def thread_lock_key(thread_id: str) -> int:
    """The second advisory-lock key of a thread: a stable signed 32-bit hash of its id."""
    digest = blake2b(thread_id.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    key = int.from_bytes(digest, "big", signed=True)
    return key if key != _MIGRATION_LOCK else 1


LOCK: Final = "SELECT pg_advisory_xact_lock(%s::integer, %s::integer)"
"""Takes one advisory lock until the transaction ends."""
MIGRATION_LOCK: Final = Statement(LOCK, (LOCK_CLASS, _MIGRATION_LOCK))
