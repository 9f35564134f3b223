"""SQLite's list_threads() statement (see checkpoint._thread_list).

The recursive part steps from one thread id to the next with `MIN(thread_id) ... WHERE
thread_id > previous`, which SQLite answers by one seek into the primary key; the final
SELECT finds each thread's latest top-level checkpoint id by another seek (MAX), and its row
by the key. `substr` keeps the walk inside the prefix:
BINARY text comparison is code point order, and no LIKE (case-insensitive in SQLite) is
involved, so a prefix holding % or _ is plain text.
"""

from __future__ import annotations

from typing import Final

from hitlgraph.checkpoint._thread_list import ThreadSql

__all__ = ["THREAD_SQL"]


def _statement(op: str) -> str:
    return (
        "WITH RECURSIVE page(thread_id) AS ("
        " SELECT (SELECT MIN(thread_id) FROM checkpoints"
        f" WHERE thread_id {op} ? AND checkpoint_ns = '')"
        " UNION ALL"
        " SELECT (SELECT MIN(c.thread_id) FROM checkpoints AS c"
        " WHERE c.thread_id > page.thread_id AND c.checkpoint_ns = '')"
        " FROM page WHERE substr(page.thread_id, 1, ?) = ?"
        " LIMIT ?)"
        " SELECT page.thread_id, latest.checkpoint_id, latest.ts FROM page"
        " JOIN checkpoints AS latest ON latest.thread_id = page.thread_id"
        " AND latest.checkpoint_ns = '' AND latest.checkpoint_id = ("
        " SELECT MAX(c.checkpoint_id) FROM checkpoints AS c"
        " WHERE c.thread_id = page.thread_id AND c.checkpoint_ns = '')"
        " WHERE substr(page.thread_id, 1, ?) = ?"
        " ORDER BY page.thread_id"
    )


THREAD_SQL: Final = ThreadSql(after=_statement(">"), starting=_statement(">="))
