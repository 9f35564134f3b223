"""`Last`: a store operation's statement after which it writes nothing more.

An operation (`_ops.Op`) whose last write reads rows (an `UPDATE ... RETURNING`) makes the
PostgreSQL store wait for them, then send the COMMIT alone: a round trip for the COMMIT
only. Yielding that statement as `Last(sql, params)` lets the store send the COMMIT in the
same round trip; the operation is sent the rows once both are done, so nothing it returns
is seen before its transaction is committed.

The operation promises that once it has the rows it neither writes nor fails in a way
whose writes should be undone: what it yields afterwards is read outside the transaction
(each statement on its own, as a READ COMMITTED transaction reads anyway). To every other
backend a `Last` is the plain `(sql, params)` it unpacks to.
"""

from __future__ import annotations

from typing import NamedTuple

from hitlgraph.server.store._dialect import Params

__all__ = ["Last"]


class Last(NamedTuple):
    """An operation's last write: its transaction may commit with it (see the module)."""

    sql: str
    params: Params
