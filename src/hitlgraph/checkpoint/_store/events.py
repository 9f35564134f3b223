"""The review event outbox in the SQL savers, written once (the rows are
checkpoint._events'): appending events under the outbox head's lock, a page of
list_review_events(), and pruning.

Numbering happens under a lock held until the transaction commits: SQLite's write
transaction holds the database's one write lock; PostgreSQL's `UPDATE` of the one-row head
locks that row, so a second writer waits until the first commits and then reads its number.
Seq order is therefore commit order, and a reader asking for the events after the last seq it
saw cannot skip one committed late with a smaller seq.

Lock order (PostgreSQL): a transaction that may append events or decisions takes both heads
first, before it changes any row of the index (`lock_heads`): the decision log's, then the
outbox's. Taken later, a head could wait for an index row another writer holds while that
writer waits for the head.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hitlgraph.checkpoint._events import NewEvent, event_of
from hitlgraph.checkpoint._store.ops import Ops, Statement, gather, queue
from hitlgraph.review._events import ReviewEvent

if TYPE_CHECKING:
    from hitlgraph.checkpoint._store.dialect import Dialect

__all__ = ["emit", "emit_statements", "head_statements", "list_page", "lock_heads", "prune"]

_COLUMNS = "seq, kind, at, thread_id, checkpoint_ns, interrupt_id, graph_id, data"


def head_statements(dialect: Dialect) -> tuple[Statement, ...]:
    """The statements that lock the decision log's head and the outbox's, in that order
    (none in SQLite, whose write transaction excludes every other writer). The first
    answers the chain head's (seq, hash), for decisions.append."""
    if not dialect.head_lock:
        return ()
    return (Statement(f"SELECT seq, hash FROM {dialect.decisions_head}{dialect.head_lock}"),
            Statement(f"SELECT seq FROM {dialect.events_head}{dialect.head_lock}"))


def lock_heads(dialect: Dialect) -> Ops[None]:
    """Lock both heads for the rest of the transaction (head_statements: one round trip)."""
    yield from gather(head_statements(dialect))


def emit(dialect: Dialect, events: Sequence[NewEvent]) -> Ops[None]:
    """Append `events` (in the caller's write transaction), numbered after the head."""
    yield from queue(emit_statements(dialect, events))


def emit_statements(dialect: Dialect, events: Sequence[NewEvent]) -> list[Statement]:
    """emit()'s statements, none needing another's rows, so that they can join a batch: the
    head moves on by the events' count, and each event takes its number from the moved
    head (the i-th of n is head - (n - 1 - i)), read by the statement that inserts it."""
    if not events:
        return []
    mark, count = dialect.pending_param, len(events)
    insert = (f"INSERT INTO {dialect.events_table} ({_COLUMNS}) VALUES "
              f"((SELECT seq FROM {dialect.events_head}) - {mark}, {', '.join([mark] * 7)})")
    return [Statement(f"UPDATE {dialect.events_head} SET seq = seq + {mark}", (count,)),
            *(Statement(insert, (count - 1 - i, *event)) for i, event in enumerate(events))]


def list_page(dialect: Dialect, after: int, limit: int) -> Ops[list[ReviewEvent]]:
    """The events after seq `after`, oldest first: one statement."""
    mark = dialect.pending_param
    rows = yield Statement(
        f"SELECT {_COLUMNS} FROM {dialect.events_table} WHERE seq > {mark} "
        f"ORDER BY seq LIMIT {mark}", (after, limit))
    return [event_of(row) for row in rows or ()]


def prune(dialect: Dialect, before_seq: int) -> Ops[int]:
    """Delete the events below `before_seq`; how many went."""
    mark = dialect.pending_param
    count = yield Statement(f"DELETE FROM {dialect.events_table} WHERE seq < {mark}",
                            (before_seq,))
    return int(count or 0)
