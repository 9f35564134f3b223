"""Similarity search on PostgreSQL with the pgvector extension: the index settings LangGraph's
PostgresStore takes, the vector table's migrations, and the ranking query.

A store with an index keeps one row per embedded field of an item in `store_vectors`
(prefix, key, field, embedding vector(dims)), deleted with its item (a foreign key with ON
DELETE CASCADE). The vector schema has its own version table, `store_vector_migrations`,
so a store without an index never needs the extension.

The database ranks a query's candidates exactly (every vector under the namespace prefix is
compared; an item scores by its best field), as LangGraph's PostgresStore does with
`ann_index_config={"kind": "flat"}`. Items stored without vectors (`index=False`, or no text
at the index's fields) are not found by a query search, as there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, cast

from hitlgraph.store import _sql_ops
from hitlgraph.store._dialect import PostgresDialect
from hitlgraph.store._sql_ops import Ops
from hitlgraph.store._types import IndexConfig

__all__ = ["PgVectorDialect", "PostgresIndexConfig", "dialect_for", "migrate", "missing_extension"]

MAX_DIMS = 16_000
"""The most dimensions pgvector stores in a `vector` column (4,000 with an ANN index)."""

_DISTANCES: Mapping[str, tuple[str, str]] = {
    # distance operator, and the score (higher is closer) of the best distance `d`
    "cosine": ("<=>", "CASE WHEN s.d = 'NaN' THEN 0 ELSE 1 - s.d END"),
    "l2": ("<->", "-s.d"),
    "inner_product": ("<#>", "-s.d"),
}
_ANN_KINDS = ("hnsw", "ivfflat", "flat")
_VECTOR_TYPES = ("vector", "halfvec")


class PostgresIndexConfig(IndexConfig, total=False):
    """IndexConfig with PostgresStore's own settings, as in LangGraph."""

    distance_type: Literal["l2", "inner_product", "cosine"]
    """How closeness is measured (default "cosine"; the score is the cosine similarity, the
    negative Euclidean distance, or the inner product)."""
    ann_index_config: dict[str, Any]
    """LangGraph's approximate-index settings: "kind" ("hnsw", "ivfflat" or "flat") is
    checked but the search is always exact; "vector_type" ("vector", or "halfvec" for half
    precision) sets the column type."""


def missing_extension() -> RuntimeError:
    """The error of setup() on a server without pgvector."""
    return RuntimeError(
        "PostgresStore(index=...) needs the pgvector extension ('vector'), which this "
        "PostgreSQL server does not have: install pgvector on the server (e.g. the "
        "postgresql-16-pgvector package, or the pgvector/pgvector Docker image), or leave "
        "index out (search by namespace and filter works without it).")


class PgVectorDialect(PostgresDialect):
    """PostgresDialect for a store with an index: vectors in pgvector's column type, ranked
    by the database."""

    has_vectors: ClassVar[bool] = True

    def __init__(self, index: PostgresIndexConfig) -> None:
        self.dims = _dims(index.get("dims"))
        distance = index.get("distance_type", "cosine")
        if distance not in _DISTANCES:
            raise ValueError(f"index distance_type={distance!r} is not one of "
                             f"{', '.join(map(repr, _DISTANCES))}.")
        self.operator, self.score = _DISTANCES[distance]
        self.vector_type = _vector_type(index.get("ann_index_config") or {})

    def encode_vector(self, vector: list[float]) -> Any:
        """A vector as pgvector's text form, "[1.0,2.0]" (cast by the placeholder)."""
        return "[" + ",".join(repr(float(x)) for x in vector) + "]"

    def vector_placeholder(self) -> str:
        return f"?::{self.vector_type}"

    def ranked_select(self, where: str) -> str | None:
        columns = "i.prefix, i.key, i.value, i.created_at, i.updated_at, i.ttl_minutes"
        return (
            f"SELECT {columns}, {self.score} AS score FROM (SELECT prefix, key, value, "
            f"created_at, updated_at, ttl_minutes FROM store_items WHERE {where}) i JOIN "
            f"(SELECT prefix, key, MIN(embedding {self.operator} ?::{self.vector_type}) AS d "
            "FROM store_vectors GROUP BY prefix, key) s ON s.prefix = i.prefix AND "
            "s.key = i.key ORDER BY score DESC, i.updated_at DESC, i.key")


def _dims(dims: Any) -> int:
    if isinstance(dims, bool) or not isinstance(dims, int) or not 0 < dims <= MAX_DIMS:
        raise ValueError(f"PostgresStore's index needs 'dims', the length of each vector, "
                         f"a whole number from 1 to {MAX_DIMS}; got {dims!r}.")
    return dims


def _vector_type(ann: Mapping[str, Any]) -> str:
    if not isinstance(ann, Mapping):
        raise ValueError(f"index ann_index_config must be a dict; got {ann!r}.")
    kind = ann.get("kind", "hnsw")
    if kind not in _ANN_KINDS:
        raise ValueError(f"index ann_index_config kind={kind!r} is not one of "
                         f"{', '.join(map(repr, _ANN_KINDS))}.")
    vector_type = ann.get("vector_type", "vector")
    if vector_type not in _VECTOR_TYPES:
        raise ValueError(f"index ann_index_config vector_type={vector_type!r} is not one of "
                         f"{', '.join(map(repr, _VECTOR_TYPES))}.")
    return str(vector_type)


def _vector_migrations(d: PgVectorDialect) -> tuple[str, ...]:
    return (
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') "
        "THEN CREATE EXTENSION vector; END IF; END $$",
        f"""CREATE TABLE store_vectors (
            prefix TEXT COLLATE "C" NOT NULL, key TEXT NOT NULL, field TEXT NOT NULL,
            embedding {d.vector_type}({d.dims}) NOT NULL, PRIMARY KEY (prefix, key, field),
            FOREIGN KEY (prefix, key) REFERENCES store_items (prefix, key) ON DELETE CASCADE)""",
    )


def _check_halfvec() -> Ops:
    """pgvector has the halfvec type from version 0.7."""
    rows = yield ("SELECT extversion FROM pg_extension WHERE extname = 'vector'", ())
    found = str(rows[0][0])
    if tuple(int(p) for p in found.split(".")[:2] if p.isdigit()) < (0, 7):
        raise RuntimeError(f"ann_index_config vector_type='halfvec' needs pgvector 0.7 or "
                           f"later; this server has {found}. Leave vector_type out (full "
                           "precision), or upgrade the extension.")


def migrate_vectors(d: PgVectorDialect) -> Ops:
    """After the items' migrations, in their transaction (and under their lock): the
    extension and the vector table, then a check that its dims are the index's."""
    yield ("CREATE TABLE IF NOT EXISTS store_vector_migrations (v INTEGER PRIMARY KEY)", ())
    rows = yield ("SELECT COALESCE(MAX(v), -1) FROM store_vector_migrations", ())
    steps = _vector_migrations(d)
    if int(rows[0][0]) < 0:
        known = yield ("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'", ())
        if not known:
            raise missing_extension()
    for version in range(int(rows[0][0]) + 1, len(steps)):
        if version == 1 and d.vector_type == "halfvec":
            yield from _check_halfvec()
        yield (steps[version], ())
        yield (d.sql("INSERT INTO store_vector_migrations (v) VALUES (?)"), (version,))
    found = yield ("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid "
                   "= 'store_vectors'::regclass AND attname = 'embedding'", ())
    wanted = f"{d.vector_type}({d.dims})"
    if found[0][0] != wanted:
        raise ValueError(f"This database's store_vectors holds {found[0][0]} embeddings, but "
                         f"the index asks for {wanted}: use the dims (and vector_type) the "
                         "store was created with, or another database or schema.")


def dialect_for(index: IndexConfig | None) -> PostgresDialect:
    """The dialect of a PostgreSQL store with this index (checked here, at construction)."""
    return PgVectorDialect(cast(PostgresIndexConfig, index)) if index else PostgresDialect()


def migrate(d: PostgresDialect) -> Ops:
    """A PostgreSQL store's setup: the items' migrations, then the vectors' if it has an
    index."""
    yield from _sql_ops.migrate(d)
    if isinstance(d, PgVectorDialect):
        yield from migrate_vectors(d)
