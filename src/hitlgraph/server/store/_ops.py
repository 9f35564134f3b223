"""A store operation: a generator that yields `(sql, params)` and is sent back the rows each
statement returned, written once for every backend. A backend drives it inside one
transaction (or none, for a read) with `drive` (a blocking connection) or `adrive` (an
asynchronous one); the dialect turns each statement's text into its driver's form on the
way.

Written so, an operation's rules (what it checks, in which order it locks, what it refuses)
exist once, and a backend is only the loop that executes statements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

from hitlgraph.server.store._dialect import Dialect, Params

__all__ = ["Op", "Rows", "Statement", "adrive", "drive"]

_T = TypeVar("_T")

Statement = tuple[str, Params]
"""SQL text with `:name` parameters, and their values."""
Rows = list[tuple[Any, ...]]
"""What a statement returned (nothing, for one that returns no rows)."""
Op = Generator[Statement, Rows, _T]


def drive(op: Op[_T], dialect: Dialect, execute: Callable[[str, Params], Rows]) -> _T:
    """Run `op`, executing each statement it yields with `execute(sql, params)`."""
    try:
        sql, params = next(op)
        while True:
            sql, params = op.send(execute(dialect.render(sql), params))
    except StopIteration as stop:
        result: _T = stop.value
        return result


async def adrive(op: Op[_T], dialect: Dialect,
                 execute: Callable[[str, Params], Awaitable[Rows]]) -> _T:
    """`drive`, awaiting each statement."""
    try:
        sql, params = next(op)
        while True:
            rows = await execute(dialect.render(sql), params)
            sql, params = op.send(rows)
    except StopIteration as stop:
        result: _T = stop.value
        return result
