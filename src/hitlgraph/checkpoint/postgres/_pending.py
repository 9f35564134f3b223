"""The PostgreSQL text of the index of open interrupts (`_store.pending`; the table in
`_schema.py`, migration 2; closing on a stored checkpoint is a clause of `_sql._PUT_GUARDED`)."""

from __future__ import annotations

from typing import Final

from hitlgraph.checkpoint._store import pending_text
from hitlgraph.checkpoint._store.dialect import InterruptWrite
from hitlgraph.checkpoint._store.ops import Ops, Statement
from hitlgraph.checkpoint.postgres._schema import (
    CHECKPOINTS,
    DECISIONS,
    DECISIONS_HEAD,
    EVENTS,
    EVENTS_HEAD,
    PENDING,
    WRITES,
)

__all__ = ["ANSWER", "CHANGES", "CLOSE_OLDER", "CLOSE_TASK", "COUNT_GIVEN", "OPEN", "SET_POLICY",
           "interrupt_writes", "select_pending"]


def _graph(key: str) -> str:
    """metadata_json's `key` when it is non-empty text, else NULL (as _pending.graph_of)."""
    return (f"NULLIF(CASE jsonb_typeof(metadata_json -> '{key}') WHEN 'string' "
            f"THEN metadata_json ->> '{key}' END, '')")


OPEN: Final = (
    f"INSERT INTO {PENDING} (thread_id, checkpoint_ns, checkpoint_id, task_id, interrupt_id, "
    "node, created_at, value_type, value, response_schema, graph_id) "
    "SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    f"(SELECT COALESCE({_graph('graph_id')}, {_graph('hitlgraph_graph')}) FROM {CHECKPOINTS} "
    "WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s) "
    "ON CONFLICT (thread_id, interrupt_id) DO NOTHING "
    "RETURNING interrupt_id, graph_id"
)
CLOSE_TASK: Final = (
    f"DELETE FROM {PENDING} WHERE thread_id = %s AND checkpoint_ns = %s "
    "AND checkpoint_id = %s AND task_id = %s RETURNING interrupt_id"
)
ANSWER: Final = f"UPDATE {PENDING} SET answered = %s WHERE thread_id = %s AND interrupt_id = %s"
COUNT_GIVEN: Final = (
    f"UPDATE {PENDING} SET approvals_given = %s WHERE thread_id = %s AND interrupt_id = %s")
"""The principals a k-of-n interrupt counts so far (checkpoint._pending.Change.given)."""
SET_POLICY: Final = (
    f"UPDATE {PENDING} SET expires_at = %s, warn_at = %s, due = %s, assignee = %s, "
    "group_name = %s, approvals = %s, policy = %s, policy_type = %s, policy_value = %s "
    "WHERE thread_id = %s AND interrupt_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s "
    "AND task_id = %s")
CLOSE_OLDER: Final = f"""closed AS (
    DELETE FROM {PENDING} AS p WHERE p.thread_id = %(thread)s
        AND (%(ns)s::text = '' OR p.checkpoint_ns = %(ns)s::text)
        AND p.checkpoint_id < %(id)s::text AND EXISTS (SELECT 1 FROM ok)
)"""
"""The guarded insert's clause closing the entries its checkpoint supersedes (hitlgraph.review):
of its namespace, or of every namespace for the root one; only if the checkpoint is stored."""

CHANGES: Final = (OPEN, CLOSE_TASK, ANSWER, COUNT_GIVEN, SET_POLICY)
"""The dialect's open_pending, close_task_pending, answer_pending, count_given and set_policy."""
TABLES: Final = (PENDING, DECISIONS, DECISIONS_HEAD, EVENTS, EVENTS_HEAD)
"""The dialect's pending_table, decisions_table, decisions_head, events_table and events_head."""


def select_pending(where: str, *, with_metadata: bool, order: str = "created") -> str:
    """See Dialect.select_pending."""
    return pending_text.select_pending(
        where, with_metadata=with_metadata, order=order, tables=(CHECKPOINTS, PENDING),
        open_test="NOT p.answered", mark="%s")


_LATEST_WRITES: Final = f"""WITH latest AS (
    SELECT thread_id, checkpoint_ns, MAX(checkpoint_id) AS checkpoint_id
    FROM {CHECKPOINTS} GROUP BY thread_id, checkpoint_ns
)
SELECT w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, w.channel,
    w.type, w.blob, c.ts
FROM latest AS l
JOIN {CHECKPOINTS} AS c ON c.thread_id = l.thread_id AND c.checkpoint_ns = l.checkpoint_ns
    AND c.checkpoint_id = l.checkpoint_id
JOIN {WRITES} AS w ON w.thread_id = l.thread_id AND w.checkpoint_ns = l.checkpoint_ns
    AND w.checkpoint_id = l.checkpoint_id
WHERE w.channel IN ('__interrupt__', '__resume__') AND (l.checkpoint_ns = ''
    OR l.checkpoint_id > COALESCE((SELECT MAX(r.checkpoint_id) FROM {CHECKPOINTS} AS r
        WHERE r.thread_id = l.thread_id AND r.checkpoint_ns = ''), ''))
ORDER BY w.seq"""


def interrupt_writes() -> Ops[list[InterruptWrite]]:
    """See Dialect.interrupt_writes."""
    rows = (yield Statement(_LATEST_WRITES)) or ()
    return [(thread_id, ns, checkpoint_id, task_id, path, channel, (type_, bytes(blob)), ts)
            for thread_id, ns, checkpoint_id, task_id, path, channel, type_, blob, ts in rows]
