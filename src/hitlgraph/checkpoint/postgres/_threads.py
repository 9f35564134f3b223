"""PostgreSQL's list_threads() statement (see checkpoint._thread_list).

The recursive part steps from one thread id to the next with `MIN(thread_id) ... WHERE
thread_id > previous` (PostgreSQL answers it by one probe of the primary key); the outer
LIMIT stops the recursion after a page, since a recursive CTE is evaluated as far as its
reader asks. A LATERAL probe per thread reads its latest top-level checkpoint id and time.
The key columns use the "C" collation, so id order is code point order, and `left` keeps
the walk inside the prefix (no LIKE: a prefix holding % or _ is plain text).
"""

from __future__ import annotations

from typing import Final

from hitlgraph.checkpoint._thread_list import ThreadSql
from hitlgraph.checkpoint.postgres._schema import CHECKPOINTS

__all__ = ["THREAD_SQL"]


def _statement(op: str) -> str:
    return (
        "WITH RECURSIVE page(thread_id) AS ("
        f" SELECT (SELECT MIN(thread_id) FROM {CHECKPOINTS}"
        f" WHERE thread_id {op} %s AND checkpoint_ns = '')"
        " UNION ALL"
        f" SELECT (SELECT MIN(c.thread_id) FROM {CHECKPOINTS} AS c"
        " WHERE c.thread_id > page.thread_id AND c.checkpoint_ns = '')"
        " FROM page WHERE left(page.thread_id, %s::integer) = %s)"
        " SELECT first.thread_id, latest.checkpoint_id, latest.ts"
        " FROM (SELECT thread_id FROM page LIMIT %s) AS first"
        " CROSS JOIN LATERAL (SELECT c.checkpoint_id, c.ts"
        f" FROM {CHECKPOINTS} AS c"
        " WHERE c.thread_id = first.thread_id AND c.checkpoint_ns = ''"
        " ORDER BY c.checkpoint_id DESC LIMIT 1) AS latest"
        " WHERE left(first.thread_id, %s::integer) = %s"
        " ORDER BY first.thread_id"
    )


THREAD_SQL: Final = ThreadSql(after=_statement(">"), starting=_statement(">="))
