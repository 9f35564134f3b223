"""What differs between the SQL of SQLite and of PostgreSQL, as a value the store's operations
read while they write their statements.

The operations (`_threads.py`, `_runs.py`, `_leases.py`, `_events.py`, `_gc.py`,
`_assistant_ops.py`, `_schema.py`) write each statement once, with `:name` parameters and
these fragments where the two databases differ; `_sqlite_sql.py` and `_postgres_sql.py` each
hold one Dialect, with their schema. Keeping the differences to fragments of text means a
rule of the store (what a claim takes, what a cancel changes) cannot differ between them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Dialect", "Params"]

Params = Mapping[str, Any]
"""A statement's named parameters."""


def _as_written(sql: str) -> str:
    return sql


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """One database's SQL fragments, statements and schema."""

    now: str
    """The time a row is made or changed: SQLite binds the operation's `:at` (ISO text);
    PostgreSQL uses `now()`, the database's clock."""
    clock: str
    """The time leases are compared with: SQLite binds `:now` (epoch seconds), PostgreSQL
    uses `now()`, so servers whose clocks disagree still agree on when a lease ran out."""
    lease_end: str
    """When a lease taken now for `:lease` seconds runs out."""
    cutoff: str
    """The time `:age` seconds ago (SQLite binds it as `:cutoff`, ISO text)."""
    time_cast: str
    """Appended to a time bound as ISO text, for a column of the database's time type."""
    lock_row: str
    """Appended to a SELECT to lock its rows until the transaction ends (SQLite's
    `BEGIN IMMEDIATE` already holds the whole database)."""
    share_row: str
    """Appended to a SELECT to keep its rows from changing until the transaction ends."""
    skip_locked: str
    """Appended to the claim's SELECT of the run `r`: skip rows another claim has locked."""
    created: tuple[str, ...]
    """The columns that order a table's rows as they were made."""
    rowid: str
    """The column numbering a table's rows as they were inserted (a sort's last key)."""
    in_list: str
    """`IN` a list of texts bound as the parameter `{name}`, made by `text_list`."""
    text_list: Callable[[Sequence[str]], Any]
    """A list of texts as the driver binds it: an array (PostgreSQL), JSON text (SQLite)."""
    notify: str | None
    """A statement sending `:payload` on `:channel` to other processes when the transaction
    commits (SQLite: a row their watchers read); None: the database has none, and other
    processes learn of changes only when they poll."""
    has_table: str
    """A statement answering one row: whether the table named `:table` exists."""
    migrations_table: str
    """The DDL of the table recording which migrations ran."""
    lock_migrations: str | None
    """A statement that serializes migrations across processes until the transaction ends."""
    migrations: tuple[tuple[str, ...], ...]
    """Append-only: the index of an entry is its schema version (see `_schema.py`)."""
    render: Callable[[str], str] = _as_written
    """A statement written with `:name` parameters, as the driver takes it."""
    thread_and_active: str | None = None
    """One statement reading what queuing a run reads first: the thread `:tenant`,
    `:thread_id` (THREAD_COLUMNS) and then its active runs as JSON text, [[run_id, status,
    created_at, rowid], ...] in no order; where rows are locked (`lock_row`), it is sent
    after the statement locking the thread's row. None: two statements."""

    def oldest_first(self, alias: str = "", *, desc: bool = False) -> str:
        """An ORDER BY list: rows in the order they were made (newest first with `desc`)."""
        prefix = f"{alias}." if alias else ""
        suffix = " DESC" if desc else ""
        return ", ".join(f"{prefix}{column}{suffix}" for column in self.created)

    def earlier(self, a: str, b: str) -> str:
        """A condition: the row aliased `a` was made before the row aliased `b`."""
        if len(self.created) == 1:
            return f"{a}.{self.created[0]} < {b}.{self.created[0]}"
        left = ", ".join(f"{a}.{column}" for column in self.created)
        right = ", ".join(f"{b}.{column}" for column in self.created)
        return f"({left}) < ({right})"

    def member(self, column: str, name: str) -> str:
        """A condition: `column` is one of the list bound as `:name`."""
        return f"{column} {self.in_list.format(name=name)}"
