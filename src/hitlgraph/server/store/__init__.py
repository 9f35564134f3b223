"""Persistence of the server's threads, runs, run events and the assistants tenants make
(checkpoints stay in the saver).

`base.py` is the store (every operation, over `_read`/`_write`); the operations themselves
are generators of SQL statements written once for both databases (`_threads.py`, `_runs.py`,
`_leases.py`, `_events.py`, `_gc.py`, `_assistant_ops.py`, `_schema.py`), over a dialect
(`_dialect.py`) that `_sqlite_sql.py` and `_postgres_sql.py` fill in with their SQL and
schema. The business rules live in `_rules.py` and `_assistants.py`, the records in
`_records.py`. `sqlite.py` and `postgres.py` (the `postgres` extra) only run the
statements: the first in `BEGIN IMMEDIATE` transactions, the second claiming with
`FOR UPDATE SKIP LOCKED` and announcing changes to other processes with NOTIFY.
"""

from hitlgraph.server.store._assistants import (
    AssistantChange,
    AssistantFields,
    AssistantRow,
    UnknownVersionError,
)
from hitlgraph.server.store._records import (
    Claim,
    Heartbeat,
    NewRun,
    RunEvent,
    RunRow,
    RunStatus,
    StoreUnavailable,
    ThreadBusyError,
    ThreadRow,
    ThreadStatus,
)
from hitlgraph.server.store.base import Store

__all__ = [
    "AssistantChange",
    "AssistantFields",
    "AssistantRow",
    "Claim",
    "Heartbeat",
    "NewRun",
    "RunEvent",
    "RunRow",
    "RunStatus",
    "Store",
    "StoreUnavailable",
    "ThreadBusyError",
    "ThreadRow",
    "ThreadStatus",
    "UnknownVersionError",
]
