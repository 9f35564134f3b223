"""The page query of the index of open interrupts, one text for both schemas: they differ only
in their table names, their placeholder and how a boolean column is tested."""

from __future__ import annotations

from typing import Final

__all__ = ["ORDERS", "POLICY_COLUMNS", "select_pending"]

POLICY_COLUMNS: Final = (
    "p.expires_at, p.warn_at, p.assignee, p.group_name, p.approvals, p.policy_type, "
    "p.policy_value, p.due, p.approvals_given")
"""The policy columns a page reads after the response schema (see _store.pending.stored),
then the approvals given so far (last, so that the columns before keep their places)."""
ORDERS: Final = {
    "created": "p.created_at DESC, p.thread_id DESC, p.interrupt_id DESC",
    "deadline": "p.due, p.thread_id, p.interrupt_id",
}
"""list_pending()'s orders, each served by an index of open entries (each schema's
_schema.py)."""


def select_pending(where: str, *, with_metadata: bool, order: str, tables: tuple[str, str],
                   open_test: str, mark: str) -> str:
    """Dialect.select_pending's text over `tables` (checkpoints, the index) where an open
    entry is one that passes `open_test` (stated as the schema's partial indexes state it, so
    that they serve the order) and `mark` is the placeholder."""
    checkpoints, index = tables
    if with_metadata:
        metadata = "c.metadata_type, c.metadata, c.metadata_json"
        join = (f"JOIN {checkpoints} AS c ON c.thread_id = p.thread_id "
                "AND c.checkpoint_ns = p.checkpoint_ns AND c.checkpoint_id = p.checkpoint_id ")
    else:
        metadata, join = "NULL, NULL, NULL", ""
    return (
        "SELECT p.thread_id, p.checkpoint_ns, p.checkpoint_id, p.interrupt_id, p.node, "
        f"p.graph_id, {metadata}, p.created_at, p.value_type, p.value, "
        f"p.response_schema, {POLICY_COLUMNS} "
        f"FROM {index} AS p {join}WHERE {open_test} AND {where} "
        f"ORDER BY {ORDERS[order]} LIMIT {mark}")
