"""The SQL stores' operations, written once: generators that yield (sql, params) and are
sent the statement's rows (or, for a statement without result columns, its row count).
A sync shell drives them with a cursor, an async shell with an async cursor; SQLite and
PostgreSQL differ only in their Dialect.

A batch runs in one transaction: every read first (so reads see the store as it was), then
the writes, one per key. Expired items count as absent from the moment they expire;
sweep() deletes them. Filters are checked in Python (`_filter`, the same rules as the
memory store) after SQL has narrowed the rows by namespace, expiry and, for a string
equality, the key's text; without a filter, SQL pages the results itself. Similarity
search ranks, in Python, the SEARCH_CANDIDATES most recently updated items that pass the
filter, unless the dialect ranks in SQL (pgvector), which ranks them all.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

from hitlgraph.store import _filter, _namespace, _plan
from hitlgraph.store._dialect import Dialect
from hitlgraph.store._embed import rank
from hitlgraph.store._types import (
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

__all__ = ["SEARCH_CANDIDATES", "Ops", "Statement", "adrive", "drive", "migrate", "run_batch",
           "sweep"]

Statement = tuple[str, tuple[Any, ...]]
Ops = Generator[Statement, Any, Any]


def drive(ops: Ops, cur: Any) -> Any:
    """Run `ops` on DB-API cursor `cur`: each statement's reply is its rows when it returns
    some, else its row count. Returns what `ops` returns."""
    try:
        sql, params = next(ops)
        while True:
            cur.execute(sql, params)
            sql, params = ops.send(cur.fetchall() if cur.description else cur.rowcount)
    except StopIteration as done:
        return done.value


async def adrive(ops: Ops, cur: Any) -> Any:
    """`drive` on an async cursor (psycopg's AsyncCursor)."""
    try:
        sql, params = next(ops)
        while True:
            await cur.execute(sql, params)
            sql, params = ops.send(await cur.fetchall() if cur.description else cur.rowcount)
    except StopIteration as done:
        return done.value

SEARCH_CANDIDATES = 10_000
"""How many items (the most recently updated that pass the filter) a similarity search
ranks; older ones are not considered."""
FILTER_PAGE = 500
"""Rows read per statement while a filter is checked in Python."""

_COLUMNS = "prefix, key, value, created_at, updated_at, ttl_minutes"


def migrate(d: Dialect) -> Ops:
    """Create the tables, or bring them up to date (run in one transaction)."""
    yield (d.create_migrations, ())
    if d.lock_migrations:
        yield (d.lock_migrations, ())
    rows = yield ("SELECT COALESCE(MAX(v), -1) FROM store_migrations", ())
    for version in range(int(rows[0][0]) + 1, len(d.migrations)):
        yield (d.migrations[version], ())
        yield (d.sql("INSERT INTO store_migrations (v) VALUES (?)"), (version,))


def sweep(d: Dialect, now: datetime) -> Ops:
    """Delete the items expired at `now` (and their vectors); return how many."""
    count = yield (d.sql("DELETE FROM store_items WHERE expires_at IS NOT NULL "
                         "AND expires_at <= ?"), (d.encode_time(now),))
    if d.has_vectors:
        yield ("DELETE FROM store_vectors WHERE NOT EXISTS (SELECT 1 FROM store_items i "
               "WHERE i.prefix = store_vectors.prefix AND i.key = store_vectors.key)", ())
    return int(count)


def run_batch(d: Dialect, plan: _plan.Plan, vectors: _plan.Vectors, now: datetime) -> Ops:
    """Run a planned batch; return its results in order."""
    results: list[Result] = []
    for op in plan.ops:
        results.append((yield from _read(d, op, vectors, now)))
    for op in plan.puts.values():
        yield from _write(d, op, vectors, now)
    return results


def _read(d: Dialect, op: Op, vectors: _plan.Vectors, now: datetime) -> Ops:
    if isinstance(op, GetOp):
        rows = yield (d.sql(f"SELECT {_COLUMNS} FROM store_items WHERE prefix = ? AND key = ? "
                            "AND (expires_at IS NULL OR expires_at > ?)"),
                      (".".join(op.namespace), op.key, d.encode_time(now)))
        if not rows:
            return None
        if op.refresh_ttl:
            yield from _refresh(d, rows, now)
        return _item(d, rows[0])
    if isinstance(op, SearchOp):
        return (yield from _search(d, op, vectors.queries.get(op.query or ""), now))
    if isinstance(op, ListNamespacesOp):
        rows = yield (d.sql("SELECT DISTINCT prefix FROM store_items "
                            "WHERE expires_at IS NULL OR expires_at > ?"),
                      (d.encode_time(now),))
        return _namespace.list_matching((tuple(r[0].split(".")) for r in rows), op)
    return None  # a PutOp: written after every read


def _where(d: Dialect, op: SearchOp, now: datetime) -> tuple[str, list[Any]]:
    """The SQL half of a search's conditions: namespace, expiry, string equalities."""
    clauses = ["(expires_at IS NULL OR expires_at > ?)"]
    params: list[Any] = [d.encode_time(now)]
    if op.namespace_prefix:
        clauses.append(d.prefix_clause("prefix"))
        params.extend(d.prefix_params(".".join(op.namespace_prefix)))
    for key, wanted in (op.filter or {}).items():
        if isinstance(wanted, str) and '"' not in key:
            clauses.append(d.string_key_clause())
            params.extend((d.key_param(key), wanted))
    return " AND ".join(clauses), params


def _search(d: Dialect, op: SearchOp, query: list[float] | None, now: datetime) -> Ops:
    where, params = _where(d, op, now)
    select = f"SELECT {_COLUMNS} FROM store_items WHERE {where} ORDER BY updated_at DESC, key"
    if query is None and not op.filter:
        rows = yield (d.sql(select + " LIMIT ? OFFSET ?"), (*params, op.limit, op.offset))
        page: list[tuple[float | None, Any]] = [(None, row) for row in rows]
    elif query is None:
        rows = yield from _filtered(d, op, select, params, op.offset + op.limit)
        page = [(None, row) for row in rows[op.offset:]]
    elif (ranked_select := d.ranked_select(where)) is not None:
        page = yield from _ranked(d, op, ranked_select, (*params, d.encode_vector(query)))
    else:
        rows = yield from _filtered(d, op, select, params, SEARCH_CANDIDATES)
        found = yield from _vectors(d, where, params)
        ranked = rank([(row, found.get((row[0], row[1]), [])) for row in rows], query)
        page = ranked[op.offset: op.offset + op.limit]
    if op.refresh_ttl:
        yield from _refresh(d, [row for _, row in page], now)
    return [_search_item(d, row, score) for score, row in page]


def _filtered(d: Dialect, op: SearchOp, select: str, params: list[Any], wanted: int) -> Ops:
    """Up to `wanted` rows that pass the filter, newest first, read a page at a time."""
    kept: list[Any] = []
    offset = 0
    while len(kept) < wanted:
        rows = yield (d.sql(select + " LIMIT ? OFFSET ?"), (*params, FILTER_PAGE, offset))
        kept.extend(row for row in rows
                    if _filter.matches(d.decode_value(row[2]), op.filter))
        if len(rows) < FILTER_PAGE:
            break
        offset += FILTER_PAGE
    return kept[:wanted]


def _ranked(d: Dialect, op: SearchOp, select: str, params: tuple[Any, ...]) -> Ops:
    """The page of the database's ranking (rows ending with their score) that passes the
    filter: without one, the page itself; with one, read FILTER_PAGE rows at a time."""
    if not op.filter:
        rows = yield (d.sql(select + " LIMIT ? OFFSET ?"), (*params, op.limit, op.offset))
        return [(float(row[6]), row) for row in rows]
    kept: list[tuple[float | None, Any]] = []
    offset = 0
    while len(kept) < op.offset + op.limit:
        rows = yield (d.sql(select + " LIMIT ? OFFSET ?"), (*params, FILTER_PAGE, offset))
        kept.extend((float(row[6]), row) for row in rows
                    if _filter.matches(d.decode_value(row[2]), op.filter))
        if len(rows) < FILTER_PAGE:
            break
        offset += FILTER_PAGE
    return kept[op.offset:op.offset + op.limit]


def _vectors(d: Dialect, where: str, params: list[Any]) -> Ops:
    """The vectors of the items the search's SQL conditions select, by (prefix, key)."""
    if not d.has_vectors:
        return {}
    rows = yield (d.sql("SELECT v.prefix, v.key, v.embedding FROM store_vectors v JOIN "
                        f"(SELECT prefix, key FROM store_items WHERE {where}) i "
                        "ON i.prefix = v.prefix AND i.key = v.key"), tuple(params))
    found: dict[tuple[str, str], list[list[float]]] = {}
    for prefix, key, blob in rows:
        found.setdefault((prefix, key), []).append(d.decode_vector(blob))
    return found


def _refresh(d: Dialect, rows: list[Any], now: datetime) -> Ops:
    """Restart the TTL of the read rows that have one."""
    for row in rows:
        if row[5] is not None:
            yield (d.sql("UPDATE store_items SET expires_at = ? WHERE prefix = ? AND key = ?"),
                   (d.encode_time(now + timedelta(minutes=row[5])), row[0], row[1]))


def _write(d: Dialect, op: PutOp, vectors: _plan.Vectors, now: datetime) -> Ops:
    prefix = ".".join(op.namespace)
    if d.has_vectors:
        yield (d.sql("DELETE FROM store_vectors WHERE prefix = ? AND key = ?"), (prefix, op.key))
    if op.value is None:
        yield (d.sql("DELETE FROM store_items WHERE prefix = ? AND key = ?"), (prefix, op.key))
        return
    stamp = d.encode_time(now)
    expires = None if op.ttl is None else d.encode_time(now + timedelta(minutes=op.ttl))
    # An expired row is gone as far as readers know: replacing it starts a new created_at.
    yield (d.sql(
        "INSERT INTO store_items (prefix, key, value, created_at, updated_at, expires_at, "
        "ttl_minutes) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (prefix, key) DO UPDATE SET "
        "value = excluded.value, updated_at = excluded.updated_at, "
        "expires_at = excluded.expires_at, ttl_minutes = excluded.ttl_minutes, "
        "created_at = CASE WHEN store_items.expires_at IS NOT NULL AND "
        "store_items.expires_at <= excluded.updated_at THEN excluded.created_at "
        "ELSE store_items.created_at END"),
        (prefix, op.key, d.encode_value(dict(op.value)), stamp, stamp, expires, op.ttl))
    for field, vector in vectors.docs.get((op.namespace, op.key), {}).items():
        yield (d.sql("INSERT INTO store_vectors (prefix, key, field, embedding) "
                     f"VALUES (?, ?, ?, {d.vector_placeholder()})"),
               (prefix, op.key, field, d.encode_vector(vector)))


def _item(d: Dialect, row: Any) -> Item:
    return Item(namespace=tuple(row[0].split(".")), key=row[1], value=d.decode_value(row[2]),
                created_at=d.decode_time(row[3]), updated_at=d.decode_time(row[4]))


def _search_item(d: Dialect, row: Any, score: float | None) -> SearchItem:
    return SearchItem(tuple(row[0].split(".")), row[1], d.decode_value(row[2]),
                      d.decode_time(row[3]), d.decode_time(row[4]), score)
