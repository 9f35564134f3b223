"""Persistence of the server's threads, runs and run events (checkpoints stay in the saver).

`base.py` is the backend-neutral interface and its records; `sqlite.py` implements it with SQL
from `_sqlite_sql.py`, and `postgres.py` (the `postgres` extra) with SQL from
`_postgres_sql.py`, claiming with `FOR UPDATE SKIP LOCKED` instead of SQLite's
`BEGIN IMMEDIATE`, and announcing changes to other processes with NOTIFY.
"""

from hitlgraph.server.store.base import (
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
)

__all__ = [
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
]
