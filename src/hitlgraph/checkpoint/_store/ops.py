"""Operations as generators of SQL statements, and the loop that drives one.

An operation yields a `Statement`, a `Many` (one statement, many parameter rows) or a `Batch`
of statements, and is sent its reply: the rows of a statement that has result columns,
otherwise the number of rows it changed (the driver's rowcount: an insert need not return a
column only to tell whether it stored its row); for a batch, a list of those. It returns its
result. It never touches a connection, so one operation serves a sync and an async driver,
and SQLite as well as PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, NamedTuple, TypeVar

__all__ = ["Batch", "Many", "Ops", "Rows", "Statement", "Step", "arun", "collect", "gather",
           "nothing", "queue", "run", "together"]

_T = TypeVar("_T")
_U = TypeVar("_U")

Rows = list[tuple[Any, ...]]


class Statement(NamedTuple):
    """One SQL statement and its parameters, in the dialect's placeholder style.

    This and the other records made for every saver call are named tuples: immutable like a
    frozen dataclass, and made in a third of the time (a frozen dataclass's __init__ sets each
    field through object.__setattr__)."""

    sql: str
    params: tuple[Any, ...] | dict[str, Any] = ()


class Many(NamedTuple):
    """One statement run once for each parameter row (the driver's executemany: one call
    however many rows); replied the number of rows changed."""

    sql: str
    rows: Sequence[tuple[Any, ...]]


class Batch(NamedTuple):
    """Statements sent together (PostgreSQL: one pipeline, one round trip), none of which needs
    the rows of another; the operation is sent the rows of each, in order."""

    statements: tuple[Statement, ...]
    transaction: bool = False
    """The batch is a whole transaction: in an operation run standalone (see
    `writes.one_transaction`), the driver sends BEGIN before it and COMMIT after it in the same
    pipeline; otherwise it runs inside the operation's transaction like any batch."""
    unread: bool = False
    """The operation reads none of the replies (it is sent None or the list): a driver may
    hold the batch back and send it with the next step that answers, or with the COMMIT
    (PostgreSQL: no round trip of its own). An error in it then shows at that later step,
    still inside the operation's transaction."""


Step = Statement | Many | Batch
"""What an operation yields to its driver."""

Ops = Generator[Step, Any, _T]
"""An operation: yields steps, is sent their replies, returns its result."""


def nothing() -> Ops[None]:
    """An operation with no statement (a dialect step one database does not need)."""
    yield from ()


def gather(statements: Sequence[Statement]) -> Ops[list[Any]]:
    """The replies of statements none of which needs another's rows, in order: one step
    (PostgreSQL: a batch is one round trip where each statement alone would be one)."""
    if not statements:
        return []
    if len(statements) == 1:
        return [(yield statements[0])]
    return list((yield Batch(tuple(statements))))


def queue(statements: Sequence[Statement]) -> Ops[None]:
    """Statements whose replies the operation does not read, as one unread batch (see
    Batch.unread); nothing when there are none."""
    if statements:
        yield Batch(tuple(statements), unread=True)


def together(first: Ops[_T], then: Ops[_U]) -> Ops[tuple[_T, _U]]:
    """`first`, an operation of one batch, then `then`, in that order, with `then`'s first
    step sent in first's batch when it is a plain statement (PostgreSQL: one round trip where
    the two would be two). The batch keeps its `transaction` mark: run standalone, `then`'s
    statement is inside first's BEGIN and COMMIT (only right when `then` has no other step).

    Raises:
        TypeError: `first` yields something other than one batch.
    """
    batch = next(first)
    if not isinstance(batch, Batch) or batch.unread:
        raise TypeError(f"together() takes an operation of one batch, got {batch!r}")
    try:
        step = next(then)
    except StopIteration as done:
        return _ended(first, (yield batch)), done.value
    if isinstance(step, Statement):
        replies = yield Batch((*batch.statements, step), transaction=batch.transaction)
        head = _ended(first, replies[:-1])
        try:
            step = then.send(replies[-1])
        except StopIteration as done:
            return head, done.value
    else:
        head = _ended(first, (yield batch))
    try:
        while True:
            step = then.send((yield step))
    except StopIteration as done:
        return head, done.value


def _ended(ops: Ops[_T], reply: Any) -> _T:
    """The result of `ops` sent `reply` for its one step."""
    try:
        step = ops.send(reply)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    ops.close()
    raise TypeError(f"together() takes an operation of one batch, got a second step {step!r}")


def collect(ops: Ops[None]) -> list[Statement]:
    """The statements of an operation that reads none of its replies (such as
    Dialect.lock_thread), so that they can join a batch."""
    statements: list[Statement] = []
    try:
        step = next(ops)
        while True:
            if not isinstance(step, Statement):
                raise TypeError(f"collect() takes plain statements, got {type(step).__name__}")
            statements.append(step)
            step = ops.send(None)
    except StopIteration:
        return statements


def run(ops: Ops[_T], execute: Callable[[Step], Any]) -> _T:
    """Drive `ops`, carrying out each statement or batch with `execute`."""
    try:
        step = next(ops)
        while True:
            step = ops.send(execute(step))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def arun(ops: Ops[_T], execute: Callable[[Step], Awaitable[Any]]) -> _T:
    """Drive `ops`, awaiting `execute` for each statement or batch."""
    try:
        step = next(ops)
        while True:
            step = ops.send(await execute(step))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
