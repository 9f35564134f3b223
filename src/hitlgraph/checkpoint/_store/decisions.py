"""The decision log in the SQL savers, written once (the rows and their chain are
checkpoint._decisions'): appending under the chain head's lock, the decisions a put_writes()
or an update_state put makes, a page of list_decisions(), and verify_decisions().

The SQL is the same in SQLite and PostgreSQL but for its placeholder, its table names and
how the head is locked (`FOR UPDATE` in PostgreSQL; SQLite's write transaction holds the
database's one write lock already), so it is built here from the dialect's names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hitlgraph.checkpoint._decisions import (
    ChainCheck,
    Chained,
    DecisionNote,
    DecisionQuery,
    NewDecision,
    chain,
    decision,
    resolved_rows,
    rows_of,
)
from hitlgraph.checkpoint._events import decided_events
from hitlgraph.checkpoint._pending import node_of, now
from hitlgraph.checkpoint._store import events, writes
from hitlgraph.checkpoint._store.encode import EncodedPut, EncodedWrites
from hitlgraph.checkpoint._store.ops import Ops, Statement, gather, queue
from hitlgraph.checkpoint.base import RunnableConfig
from hitlgraph.review import ChainBreak, Decision
from hitlgraph.review._assignment import InterruptExpiredError

if TYPE_CHECKING:
    from hitlgraph.checkpoint._store.dialect import Dialect

__all__ = ["append", "list_page", "lock_head", "put_resolving", "put_writes_deciding",
           "verify"]

_COLUMNS = ("thread_id, checkpoint_ns, interrupt_id, node, answer, decided_by, reason, at, "
            "outcome")
VERIFY_PAGE = 1000
"""Rows verify() reads per statement (it never holds the whole log)."""


def lock_head(dialect: Dialect) -> Ops[tuple[int, str]]:
    """Lock the chain's head for the rest of the transaction; its (seq, hash)."""
    found = yield Statement(
        f"SELECT seq, hash FROM {dialect.decisions_head}{dialect.head_lock}")
    return int(found[0][0]), found[0][1]


def append(dialect: Dialect, rows: Sequence[NewDecision],
           graphs: dict[str, str | None] | None = None, head: tuple[int, str] | None = None
           ) -> Ops[list[Chained]]:
    """Append rows after the chain's head, locking it for the rest of the transaction, so that
    concurrent writers queue rather than fork the chain; and their events to the outbox
    (`graphs`: each interrupt's graph id, where known; `head`: the chain's head as the caller
    locked it in this transaction). Returns the rows as chained."""
    if not rows:
        return []
    mark, table = dialect.pending_param, dialect.decisions_table
    chained = chain(head if head is not None else (yield from lock_head(dialect)), rows)
    insert = f"INSERT INTO {table} (seq, {_COLUMNS}, hash) VALUES ({', '.join([mark] * 11)})"
    yield from queue([
        *(Statement(insert, (c.seq, *c.row, c.hash)) for c in chained),
        Statement(f"UPDATE {dialect.decisions_head} SET seq = {mark}, hash = {mark}",
                  (chained[-1].seq, chained[-1].hash)),
        *events.emit_statements(dialect, decided_events([(c.seq, c.row) for c in chained],
                                                        graphs or {}))])
    return chained


def _asked_statement(dialect: Dialect, thread_id: str, interrupt_id: str) -> Statement:
    """The index's entry of one interrupt of the thread: namespace, node, graph id, expired."""
    mark = dialect.pending_param
    return Statement(
        f"SELECT checkpoint_ns, node, graph_id, expired FROM {dialect.pending_table} "
        f"WHERE thread_id = {mark} AND interrupt_id = {mark}", (thread_id, interrupt_id))


def _asked(encoded: EncodedWrites, ids: Sequence[str], replies: Sequence[Any]
           ) -> tuple[dict[str, tuple[str, str | None]], dict[str, str | None]]:
    """(namespace, node) of each of `ids` the index holds for the thread, and its graph id,
    from the replies of their _asked_statement.

    Raises:
        InterruptExpiredError: one of them expired and its policy closed it.
    """
    asked: dict[str, tuple[str, str | None]] = {}
    graphs: dict[str, str | None] = {}
    for iid, rows in zip(ids, replies, strict=True):
        if rows:
            if rows[0][3]:
                raise InterruptExpiredError(thread_id=encoded.thread_id, interrupt_id=iid,
                                            checkpoint_id=encoded.checkpoint_id)
            asked[iid] = (rows[0][0], rows[0][1])
            graphs[iid] = rows[0][2]
    return asked, graphs


def put_writes_deciding(dialect: Dialect, encoded: EncodedWrites, note: DecisionNote,
                        task_path: str) -> Ops[None]:
    """put_writes() of a write that is a decision: the writes, then the note's rows, in one
    transaction (a refused claim logs nothing; an answer to an interrupt its policy closed
    is refused before anything is written). The heads' locks, the index's entries of the
    answered interrupts and the writes' guards are one batch."""
    ids = [iid for iid, _ in note.answers]
    heads = events.head_statements(dialect)
    lead = [*heads, *(_asked_statement(dialect, encoded.thread_id, iid) for iid in ids)]
    checks, with_head = _guards(dialect, encoded, locking=bool(heads))
    replies = yield from gather([*lead, *checks])
    asked, graphs = _asked(encoded, ids, replies[len(heads):len(lead)])
    yield from writes.store_guarded(dialect, encoded, replies[len(lead):])
    head = None
    if heads or with_head:
        row = replies[0][0] if heads else replies[len(lead)][0][2:]
        head = (int(row[0]), row[1])
    yield from append(dialect, rows_of(note, encoded.thread_id, encoded.ns,
                                       node_of(task_path), now(), asked), graphs, head)


def _guards(dialect: Dialect, encoded: EncodedWrites, *, locking: bool
            ) -> tuple[list[Statement], bool]:
    """writes.guards() of a decision's writes, and whether they read the chain's head too:
    where the dialect reads the fence and the latest in one statement and the head needs no
    lock (`locking`: head_statements lock and read it), that statement reads the head."""
    if (locking or dialect.fence_latest_and_chain is None
            or not writes.fence_and_latest(dialect, encoded)):
        return writes.guards(dialect, encoded), False
    assert encoded.fence is not None  # (fence_and_latest)
    return [Statement(dialect.fence_latest_and_chain,
                      (encoded.fence.key, encoded.thread_id, encoded.ns))], True


def put_resolving(dialect: Dialect, encoded: EncodedPut) -> Ops[RunnableConfig]:
    """put() of an update_state checkpoint: the open interrupts it closes unanswered are
    logged as resolved, in its transaction."""
    mark = dialect.pending_param
    yield from events.lock_heads(dialect)
    dropped = yield Statement(
        f"SELECT interrupt_id, checkpoint_ns, node, graph_id FROM {dialect.pending_table} "
        f"WHERE thread_id = {mark} AND NOT answered AND checkpoint_id < {mark} "
        f"AND ({mark} = '' OR checkpoint_ns = {mark})",
        (encoded.thread_id, encoded.checkpoint_id, encoded.ns, encoded.ns))
    config = yield from writes.put(dialect, encoded)
    if dropped:
        yield from append(dialect, resolved_rows(encoded.thread_id, now(),
                                                 [(r[0], r[1], r[2]) for r in dropped]),
                          {r[0]: r[3] for r in dropped})
    return config


def _row(found: Sequence[Any]) -> Chained:
    return Chained(int(found[0]), NewDecision(*found[1:10]), str(found[10]))


def list_page(dialect: Dialect, query: DecisionQuery) -> Ops[list[Decision]]:
    """One page of decisions, newest first: one statement."""
    mark = dialect.pending_param
    clauses, params = [], []
    for column, value in (("thread_id", query.thread_id), ("decided_by", query.by)):
        if value is not None:
            clauses.append(f"{column} = {mark}")
            params.append(value)
    if query.since is not None:
        clauses.append(f"at >= {mark}")
        params.append(query.since)
    if query.thread_prefix is not None:
        clauses.append(f"substr(thread_id, 1, {len(query.thread_prefix)}) = {mark}")
        params.append(query.thread_prefix)
    where = " AND ".join(clauses) or dialect.everything
    rows = yield Statement(
        f"SELECT seq, {_COLUMNS}, hash FROM {dialect.decisions_table} WHERE {where} "
        f"ORDER BY seq DESC LIMIT {mark}", (*params, query.limit))
    return [decision(_row(found)) for found in rows or ()]


def verify(dialect: Dialect) -> Ops[ChainBreak | None]:
    """The first changed or removed row of the log (None: intact), read page by page in
    seq order up to the head read first: rows appended meanwhile (a read need not be one
    snapshot) are left for the next verify."""
    mark = dialect.pending_param
    found = yield Statement(f"SELECT seq, hash FROM {dialect.decisions_head}")
    head = (int(found[0][0]), found[0][1]) if found else (0, "")
    upto = head[0] if found else 2**62  # (a head row deleted: read all, end() says so)
    check = ChainCheck()
    while True:
        rows = (yield Statement(
            f"SELECT seq, {_COLUMNS}, hash FROM {dialect.decisions_table} "
            f"WHERE seq > {mark} AND seq <= {mark} ORDER BY seq LIMIT {mark}",
            (check.seq, upto, VERIFY_PAGE))) or []
        broken = check.feed(_row(row) for row in rows)
        if broken is not None:
            return broken
        if len(rows) < VERIFY_PAGE:
            return check.end(head)
