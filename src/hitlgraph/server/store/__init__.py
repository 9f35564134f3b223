"""Persistence of the server's threads, runs, run events and the assistants tenants make
(checkpoints stay in the saver).

`base.py` is the backend-neutral interface and its records; `sqlite.py` implements it with SQL
from `_sqlite_sql.py`, and `postgres.py` (the `postgres` extra) with SQL from
`_postgres_sql.py`, claiming with `FOR UPDATE SKIP LOCKED` instead of SQLite's
`BEGIN IMMEDIATE`, and announcing changes to other processes with NOTIFY.
"""

from hitlgraph.server.store.base import (
    AssistantChange,
    AssistantFields,
    AssistantRow,
    Claim,
    Heartbeat,
    NewRun,
    RunEvent,
    RunRow,
    RunStatus,
    Store,
    ThreadBusyError,
    ThreadRow,
    ThreadStatus,
    UnknownVersionError,
)

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
    "ThreadBusyError",
    "ThreadRow",
    "ThreadStatus",
    "UnknownVersionError",
]
