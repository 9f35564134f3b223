"""The SQLite text of the index of open interrupts (`_store.pending`; table and trigger in
`_schema.py`, migration 3)."""

from __future__ import annotations

from typing import Final

import ormsgpack

from hitlgraph.checkpoint._rows import row_ts
from hitlgraph.checkpoint._store import pending_text
from hitlgraph.checkpoint._store.dialect import InterruptWrite
from hitlgraph.checkpoint._store.ops import Ops, Statement
from hitlgraph.constants import INTERRUPT, RESUME

__all__ = ["ANSWER", "CHANGES", "CLOSE_OLDER", "CLOSE_TASK", "COUNT_GIVEN", "FENCE_LATEST_AND_OPEN",
           "LATEST_AND_OPEN", "OPEN", "SET_POLICY", "TABLES", "interrupt_writes", "select_pending"]


def _graph(key: str) -> str:
    """metadata_json's `key` when it is non-empty text, else NULL (as _pending.graph_of)."""
    return (f"NULLIF(CASE json_type(metadata_json, '$.{key}') WHEN 'text' "
            f"THEN json_extract(metadata_json, '$.{key}') END, '')")


OPEN: Final = (
    "INSERT INTO pending_interrupts (thread_id, checkpoint_ns, checkpoint_id, task_id, "
    "interrupt_id, node, created_at, value_type, value, response_schema, graph_id) "
    f"SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE({_graph('graph_id')}, "
    f"{_graph('hitlgraph_graph')}) FROM checkpoints "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?) "
    "WHERE true ON CONFLICT (thread_id, interrupt_id) DO NOTHING "
    "RETURNING interrupt_id, graph_id"
)
CLOSE_TASK: Final = (
    "DELETE FROM pending_interrupts WHERE thread_id = ? AND checkpoint_ns = ? "
    "AND checkpoint_id = ? AND task_id = ? RETURNING interrupt_id"
)
CLOSE_OLDER: Final = (
    "DELETE FROM pending_interrupts WHERE thread_id = ? AND (? = '' OR checkpoint_ns = ?) "
    "AND checkpoint_id < ?"
)
"""Close the entries a stored checkpoint supersedes (hitlgraph.review): (thread, ns, ns, id)."""
LATEST_AND_OPEN: Final = (
    "SELECT (SELECT checkpoint_id FROM checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 "
    "ORDER BY checkpoint_id DESC LIMIT 1), "
    "EXISTS (SELECT 1 FROM pending_interrupts WHERE thread_id = ?1)"
)
"""The compare-and-set's read of the latest checkpoint id, also telling whether the thread
has index entries: a put closes entries (CLOSE_OLDER) only then, so a thread that never
paused pays a probe inside a statement it makes anyway, not a statement of its own."""
FENCE_LATEST_AND_OPEN: Final = (
    "SELECT (SELECT token FROM fences WHERE key = ?3), "
    "(SELECT checkpoint_id FROM checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 "
    "ORDER BY checkpoint_id DESC LIMIT 1), "
    "EXISTS (SELECT 1 FROM pending_interrupts WHERE thread_id = ?1)"
)
"""LATEST_AND_OPEN with the fence's token first (NULL for a key never advanced): a fenced
put's checks in one statement (thread, ns, key)."""
ANSWER: Final = (
    "UPDATE pending_interrupts SET answered = ? WHERE thread_id = ? AND interrupt_id = ?")
COUNT_GIVEN: Final = (
    "UPDATE pending_interrupts SET approvals_given = ? WHERE thread_id = ? AND interrupt_id = ?")
"""The principals a k-of-n interrupt counts so far (checkpoint._pending.Change.given)."""
SET_POLICY: Final = (
    "UPDATE pending_interrupts SET expires_at = ?, warn_at = ?, due = ?, assignee = ?, "
    "group_name = ?, approvals = ?, policy = ?, policy_type = ?, policy_value = ? "
    "WHERE thread_id = ? AND interrupt_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? "
    "AND task_id = ?")

CHANGES: Final = (OPEN, CLOSE_TASK, ANSWER, COUNT_GIVEN, SET_POLICY)
"""The dialect's open_pending, close_task_pending, answer_pending, count_given and set_policy."""
TABLES: Final = ("pending_interrupts", "decisions", "decisions_head", "review_events",
                 "review_events_head")
"""The dialect's pending_table, decisions_table, decisions_head, events_table and events_head."""


def select_pending(where: str, *, with_metadata: bool, order: str = "created") -> str:
    """See Dialect.select_pending. `answered = 0` as the partial index states it, so that
    the index serves the order."""
    return pending_text.select_pending(
        where, with_metadata=with_metadata, order=order,
        tables=("checkpoints", "pending_interrupts"), open_test="p.answered = 0", mark="?")


_LATEST_WRITES: Final = (
    "WITH latest AS (SELECT thread_id, checkpoint_ns, MAX(checkpoint_id) AS checkpoint_id "
    "FROM checkpoints GROUP BY thread_id, checkpoint_ns) "
    "SELECT w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, "
    "COALESCE(w.writes, (SELECT data FROM blob_data WHERE id = w.data_id)), c.ts "
    "FROM latest AS l JOIN checkpoints AS c ON c.thread_id = l.thread_id "
    "AND c.checkpoint_ns = l.checkpoint_ns AND c.checkpoint_id = l.checkpoint_id "
    "JOIN writes AS w ON w.thread_id = l.thread_id AND w.checkpoint_ns = l.checkpoint_ns "
    "AND w.checkpoint_id = l.checkpoint_id "
    "WHERE l.checkpoint_ns = '' OR l.checkpoint_id > COALESCE((SELECT MAX(r.checkpoint_id) "
    "FROM checkpoints AS r WHERE r.thread_id = l.thread_id AND r.checkpoint_ns = ''), '') "
    "ORDER BY w.seq"
)


def interrupt_writes() -> Ops[list[InterruptWrite]]:
    """See Dialect.interrupt_writes: a task's writes are packed in its row, unpacked here."""
    found: list[InterruptWrite] = []
    for thread_id, ns, checkpoint_id, task_id, path, packed, ts in (
            (yield Statement(_LATEST_WRITES)) or ()):
        for _idx, channel, type_, blob in ormsgpack.unpackb(packed):
            if channel in (INTERRUPT, RESUME):
                found.append((thread_id, ns, checkpoint_id, task_id, path, channel,
                              (type_, blob), row_ts(checkpoint_id, ts)))
    return found
