"""Changes to one open index entry in the SQL savers (the actions are
checkpoint._review_actions'): read the entry, apply the action, store its outcome
compare-and-set on what was read, log its decisions and events, in one transaction; and the
entries whose warning is due."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hitlgraph.checkpoint._decisions import decision
from hitlgraph.checkpoint._pending import now
from hitlgraph.checkpoint._review_actions import Action, Applied, EntryState
from hitlgraph.checkpoint._store import decisions, events
from hitlgraph.checkpoint._store.ops import Ops, Statement
from hitlgraph.review._assignment import InterruptNotOpenError

if TYPE_CHECKING:
    from hitlgraph.checkpoint._store.dialect import Dialect

__all__ = ["act", "warnings_due"]

_SETTABLE = frozenset({"assignee", "expires_at", "warn_at", "due", "warned", "answered",
                       "expired"})
"""The columns an action may set (their names are the only text an outcome adds to SQL)."""


def act(dialect: Dialect, thread_id: str, interrupt_id: str, action: Action
        ) -> Ops[Applied | None]:
    """Apply `action` to an open entry (run it in one write transaction). None: nothing to
    do, or the entry changed since it was read (another caller applied it first).

    Raises:
        InterruptNotOpenError: the thread has no open entry of that id.
    """
    mark, same = dialect.pending_param, dialect.same_as
    yield from events.lock_heads(dialect)
    rows = yield Statement(
        "SELECT checkpoint_ns, node, graph_id, assignee, expires_at, warned "
        f"FROM {dialect.pending_table} WHERE thread_id = {mark} AND interrupt_id = {mark} "
        f"AND {dialect.open_entry}", (thread_id, interrupt_id))
    if not rows:
        raise InterruptNotOpenError(thread_id=thread_id, interrupt_id=interrupt_id)
    row = rows[0]
    entry = EntryState(thread_id, interrupt_id, row[0], row[1], row[2], row[3], row[4],
                       bool(row[5]))
    outcome = action(entry, now())
    if outcome is None:
        return None
    columns = sorted(outcome.sets)
    if not set(columns) <= _SETTABLE:
        raise ValueError(f"an action set {columns}: only {sorted(_SETTABLE)} may be set")
    changed = yield Statement(
        f"UPDATE {dialect.pending_table} SET "
        + ", ".join(f"{column} = {mark}" for column in columns)
        + f" WHERE thread_id = {mark} AND interrupt_id = {mark} AND {dialect.open_entry} "
        f"AND assignee {same} {mark} AND expires_at {same} {mark} AND warned = {mark}",
        (*(outcome.sets[c] for c in columns), thread_id, interrupt_id, entry.assignee,
         entry.expires_at, entry.warned))
    if not changed:
        return None
    chained = yield from decisions.append(dialect, outcome.decisions,
                                          {interrupt_id: entry.graph_id})
    yield from events.emit(dialect, outcome.events)
    return Applied(outcome, [decision(c) for c in chained])


def warnings_due(dialect: Dialect, at: str, limit: int) -> Ops[list[tuple[str, str, str]]]:
    """(thread_id, interrupt_id, warn_at) of open entries whose warning is due at `at` and
    not sent, the earliest first, at most `limit` (one statement, over its own index)."""
    mark = dialect.pending_param
    rows: Any = yield Statement(
        f"SELECT thread_id, interrupt_id, warn_at FROM {dialect.pending_table} "
        f"WHERE {dialect.open_entry} AND {dialect.unwarned} AND warn_at <= {mark} "
        f"ORDER BY warn_at, thread_id, interrupt_id LIMIT {mark}", (at, limit))
    return [(r[0], r[1], r[2]) for r in rows or ()]
