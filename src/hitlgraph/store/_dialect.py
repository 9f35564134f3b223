"""What a database supplies to the store's SQL operations: placeholders, its migrations, and
how values, times and vectors travel to and from it.

Both schemas hold the same rows: `store_items` (one per item: namespace labels joined with
".", key, value as JSON, created_at, updated_at, expires_at, ttl_minutes), `store_vectors`
(one per embedded field of an item: in SQLite the vector as packed doubles; in PostgreSQL
only for a store with an index, in pgvector's type, see postgres/_pgvector.py) and
`store_migrations` (the schema version). Timestamps are UTC and made by Python, so expiry
does not depend on the database server's clock or time zone.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from array import array
from datetime import datetime, timezone
from typing import Any, ClassVar

__all__ = ["Dialect", "PostgresDialect", "SqliteDialect"]


class Dialect(ABC):
    """SQL text and value codecs of one database. The operations write SQL with "?"
    placeholders; `sql()` turns them into the driver's."""

    migrations: ClassVar[tuple[str, ...]]
    """Append-only: the schema version is how many have run. Never edit a shipped one."""
    has_vectors: ClassVar[bool]
    """Whether store_vectors exists (similarity search is possible)."""
    create_migrations: ClassVar[str] = (
        "CREATE TABLE IF NOT EXISTS store_migrations (v INTEGER PRIMARY KEY)")
    lock_migrations: ClassVar[str | None] = None
    """Taken in the migrating transaction where the transaction alone does not serialize
    concurrent setups."""

    @staticmethod
    def sql(text: str) -> str:
        """`text` with the driver's placeholders."""
        return text

    @staticmethod
    def prefix_clause(column: str) -> str:
        """A condition true when `column` is a namespace or one below it, with the
        parameters `prefix_params` gives: a range scan of the primary key ("/" follows "."
        in byte order, which is how both schemas compare prefixes)."""
        return f"({column} = ? OR ({column} >= ? AND {column} < ?))"

    @staticmethod
    def prefix_params(prefix: str) -> tuple[str, str, str]:
        """The parameters of prefix_clause for the joined namespace `prefix`."""
        return (prefix, prefix + ".", prefix + "/")

    @abstractmethod
    def string_key_clause(self) -> str:
        """A condition, with parameters (key, text), true at least when the value's
        top-level key holds that string (a necessary condition; Python checks exactly)."""

    @abstractmethod
    def key_param(self, key: str) -> Any:
        """The parameter that names a top-level key for string_key_clause."""

    @abstractmethod
    def encode_value(self, value: dict[str, Any]) -> Any:
        """A value as its column takes it."""

    @abstractmethod
    def decode_value(self, stored: Any) -> dict[str, Any]:
        """A value as read back."""

    @abstractmethod
    def encode_time(self, moment: datetime) -> Any:
        """A UTC moment as its column takes it (comparable in SQL)."""

    @abstractmethod
    def decode_time(self, stored: Any) -> datetime:
        """A moment as read back, UTC-aware."""

    def encode_vector(self, vector: list[float]) -> Any:
        """A vector as packed doubles."""
        return array("d", vector).tobytes()

    def vector_placeholder(self) -> str:
        """The placeholder of an encoded vector in an INSERT."""
        return "?"

    def ranked_select(self, where: str) -> str | None:
        """A query ranking the items `where` selects by similarity, best first, with
        placeholders for `where`'s parameters and then the query's encoded vector; None
        when the database cannot rank, and Python ranks the candidates instead."""
        return None

    @staticmethod
    def decode_vector(stored: bytes) -> list[float]:
        """A vector read back."""
        return array("d", bytes(stored)).tolist()


class SqliteDialect(Dialect):
    """SQLite: JSON as text, times as fixed-width ISO text (so they order as text)."""

    has_vectors = True
    migrations = (
        """CREATE TABLE store_items (
            prefix TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            expires_at TEXT, ttl_minutes REAL, PRIMARY KEY (prefix, key))""",
        "CREATE INDEX store_items_updated ON store_items (updated_at)",
        "CREATE INDEX store_items_expires ON store_items (expires_at) "
        "WHERE expires_at IS NOT NULL",
        """CREATE TABLE store_vectors (
            prefix TEXT NOT NULL, key TEXT NOT NULL, field TEXT NOT NULL,
            embedding BLOB NOT NULL, PRIMARY KEY (prefix, key, field))""",
    )

    def string_key_clause(self) -> str:
        return "json_extract(value, ?) = ?"

    def key_param(self, key: str) -> Any:
        return '$."' + key + '"'

    def encode_value(self, value: dict[str, Any]) -> Any:
        return json.dumps(value, ensure_ascii=False)

    def decode_value(self, stored: Any) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(stored)
        return loaded

    def encode_time(self, moment: datetime) -> Any:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")

    def decode_time(self, stored: Any) -> datetime:
        return datetime.fromisoformat(stored)


class PostgresDialect(Dialect):
    """PostgreSQL: JSONB values, TIMESTAMPTZ times; no vector table (see postgres/)."""

    has_vectors = False
    lock_migrations = "SELECT pg_advisory_xact_lock(7301942213)"
    migrations = (
        """CREATE TABLE store_items (
            prefix TEXT COLLATE "C" NOT NULL, key TEXT NOT NULL, value JSONB NOT NULL,
            created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
            expires_at TIMESTAMPTZ, ttl_minutes DOUBLE PRECISION,
            PRIMARY KEY (prefix, key))""",
        "CREATE INDEX store_items_updated ON store_items (updated_at)",
        "CREATE INDEX store_items_expires ON store_items (expires_at) "
        "WHERE expires_at IS NOT NULL",
    )

    @staticmethod
    def sql(text: str) -> str:
        return text.replace("?", "%s")

    def string_key_clause(self) -> str:
        return "value ->> ?::text = ?"

    def key_param(self, key: str) -> Any:
        return key

    def encode_value(self, value: dict[str, Any]) -> Any:
        from psycopg.types.json import Jsonb

        return Jsonb(value)

    def decode_value(self, stored: Any) -> dict[str, Any]:
        return dict(stored) if isinstance(stored, dict) else dict(json.loads(stored))

    def encode_time(self, moment: datetime) -> Any:
        return moment.astimezone(timezone.utc)

    def decode_time(self, stored: Any) -> datetime:
        moment: datetime = stored
        return moment.astimezone(timezone.utc)
