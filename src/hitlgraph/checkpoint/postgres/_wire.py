"""Statements sent to PostgreSQL a round trip at a time, below psycopg's cursors.

psycopg's pipeline mode sends each statement a cursor executes at once: every `execute` goes
through the event loop (a poll of the socket, a write, a read of whatever came back) and
builds a cursor and its adapters. The server's store and checkpointer send about a hundred
statements per create-and-resume of a thread, in some thirty round trips; that machinery was
the larger part of the server's own time on PostgreSQL. Here the statements of one round trip
are dumped with the connection's adapters, queued in libpq (each prepared once per
connection, as psycopg does after a few runs), sent together with one Sync and their results
read in one wait (`AsyncConnection.wait`, so a cancellation asks the server to cancel and
drains the results as psycopg's own waits do).

A trip answers, for each statement, its rows (a list of tuples) when it has result columns,
else the number of rows it changed, as a cursor's `fetchall()` and `rowcount` would. When a
statement fails, the trip raises its error (psycopg's class for the SQLSTATE) once the Sync
came back: the connection is idle again (inside a failed transaction, if a BEGIN ran) and the
caller rolls back as before.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import AsyncConnection, errors, pq
from psycopg.abc import PQGen
from psycopg.abc import Transformer as TransformerProtocol
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import fetch_many, send

__all__ = ["Reply", "round_trip"]

Reply = list[tuple[Any, ...]] | int
"""A statement's rows, or the number of rows it changed (-1: not a count)."""

PREPARED_MAX = 256
"""Statements prepared per connection at most; past it, statements go unnamed."""

_PLACEHOLDER = re.compile(r"%(?:\(([^)]+)\))?(.)")
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_FATAL = pq.ExecStatus.FATAL_ERROR
_TUPLES = pq.ExecStatus.TUPLES_OK
_COMMAND_OK = pq.ExecStatus.COMMAND_OK


@functools.lru_cache(maxsize=1024)
def _parsed(sql: str) -> tuple[bytes, tuple[str, ...] | None, int]:
    """(the statement with `$n` placeholders, the names in their order or None for `%s`
    placeholders, the number of parameters), as psycopg converts `%s` / `%(name)s`."""
    names: list[str] = []
    positional = 0
    parts: list[str] = []
    end = 0
    for found in _PLACEHOLDER.finditer(sql):
        parts.append(sql[end:found.start()])
        end = found.end()
        name, kind = found.groups()
        if kind == "%" and name is None:
            parts.append("%")
            continue
        if kind != "s":
            raise ValueError(f"unsupported placeholder {found.group()!r} in {sql!r}")
        if name is None:
            positional += 1
            parts.append(f"${positional}")
        else:
            if name not in names:
                names.append(name)
            parts.append(f"${names.index(name) + 1}")
    parts.append(sql[end:])
    if names and positional:
        raise ValueError(f"mixed placeholders in {sql!r}")
    return "".join(parts).encode(), (tuple(names) if names else None), positional + len(names)


@dataclass(slots=True)
class _Session:
    """What one connection keeps between trips: its transformer (adapters and their cache)
    and its prepared statements."""

    tx: TransformerProtocol
    prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = field(default_factory=dict)
    counter: int = 0


_SESSION = "_hitlgraph_wire"
"""The attribute of a connection that holds its `_Session` (on the connection, not in a
weak mapping: the transformer refers to its connection, which would keep it alive)."""


def _session(conn: AsyncConnection[Any]) -> _Session:
    found: _Session | None = getattr(conn, _SESSION, None)
    if found is None:
        found = _Session(Transformer(conn))
        setattr(conn, _SESSION, found)
    return found


def _ordered(sql: str, names: tuple[str, ...] | None, count: int, params: Any
             ) -> Sequence[Any]:
    if names is not None:
        if not isinstance(params, Mapping):
            raise TypeError(f"named placeholders need a mapping of parameters: {sql!r}")
        return [params[name] for name in names]
    if not count:
        return ()  # (psycopg too ignores the values of a statement without placeholders)
    if isinstance(params, Mapping) or len(params) != count:
        raise TypeError(f"the statement needs {count} parameters: {sql!r}")
    return params  # type: ignore[no-any-return]


@dataclass(slots=True)
class _Dumped:
    """A statement ready for libpq: its text, parameters dumped, their types and formats."""

    query: bytes
    values: Sequence[Any] | None = None
    types: tuple[int, ...] = ()
    formats: Sequence[Any] = ()


def _dump(tx: TransformerProtocol, sql: str, params: Any) -> _Dumped:
    """`sql` and its `params` as libpq takes them (no placeholder is read when `params` is
    None, as psycopg does)."""
    if params is None:
        return _Dumped(sql.encode())
    query, names, count = _parsed(sql)
    values = tx.dump_sequence(_ordered(sql, names, count, params), [PyFormat.AUTO] * count)
    return _Dumped(query, values, tuple(tx.types or ()), tx.formats or ())


def _queue(session: _Session, pgconn: Any, one: _Dumped, result_format: int) -> list[Any]:
    """Queue one statement in libpq's pipeline; what each of its commands answers: the key
    of the statement it prepared (its Parse comes first), then True (the statement)."""
    if one.values is None:
        pgconn.send_query_params(one.query, None, result_format=result_format)
        return [True]
    key = (one.query, one.types)
    name = session.prepared.get(key)
    kinds: list[Any] = []
    if name is None and len(session.prepared) < PREPARED_MAX:
        session.counter += 1  # (names are never reused: a forgotten one may still exist)
        name = session.prepared[key] = f"_hg{session.counter}".encode()
        kinds.append(key)
        pgconn.send_prepare(name, one.query, param_types=one.types)
    if name is None:
        pgconn.send_query_params(one.query, one.values, param_types=one.types,
                                 param_formats=one.formats, result_format=result_format)
    else:
        pgconn.send_query_prepared(name, one.values, param_formats=one.formats,
                                   result_format=result_format)
    kinds.append(True)
    return kinds


def _exchange(pgconn: Any) -> PQGen[list[list[Any]]]:
    """Flush what is queued (its Sync last) and read every command's results up to the
    Sync's."""
    yield from send(pgconn)
    replies: list[list[Any]] = []
    while True:
        results = yield from fetch_many(pgconn)
        if results and results[0].status == _SYNC:
            return replies
        replies.append(results)


def _reply(session: _Session, results: list[Any]) -> Reply:
    result = results[-1]
    if result.nfields or result.status == _TUPLES:
        tx = session.tx
        tx.set_pgresult(result)
        return list(tx.load_rows(0, result.ntuples, tuple))
    count = result.command_tuples
    return count if count is not None else -1


async def round_trip(conn: AsyncConnection[Any], statements: Sequence[tuple[str, Any]], *,
                     binary: bool = False) -> list[Reply]:
    """Run `statements` ((sql with psycopg's placeholders, parameters or None)) in one round
    trip on `conn` (idle, not in pipeline mode); their replies, in order.

    Raises:
        psycopg.Error: the first statement that failed (the later ones were not run), or
            the connection's failure.
    """
    session = _session(conn)
    dumped = [_dump(session.tx, sql, params) for sql, params in statements]
    pgconn = conn.pgconn
    result_format = pq.Format.BINARY if binary else pq.Format.TEXT
    kinds: list[Any] = []  # what each command answers (see _queue)
    async with conn.lock:
        pgconn.enter_pipeline_mode()
        try:
            for one in dumped:
                kinds.extend(_queue(session, pgconn, one, result_format))
            pgconn.pipeline_sync()
            replies = await conn.wait(_exchange(pgconn))
        except BaseException:
            _forget(session, kinds)  # (whether they were prepared is not known)
            raise
        finally:
            _leave_pipeline(pgconn)
    return _answers(session, conn, kinds, replies)


def _leave_pipeline(pgconn: Any) -> None:
    """Back to normal mode; a connection whose pipeline is not empty (a trip cut off
    midway) is closed, and its pool replaces it."""
    try:
        pgconn.exit_pipeline_mode()
    except psycopg.Error:
        pgconn.finish()


def _forget(session: _Session, kinds: list[Any]) -> None:
    for kind in kinds:
        if kind is not True:
            session.prepared.pop(kind, None)


def _answers(session: _Session, conn: AsyncConnection[Any], kinds: list[Any],
             replies: list[list[Any]]) -> list[Reply]:
    answers: list[Reply] = []
    failed: Any = None
    for kind, results in zip(kinds, replies, strict=True):
        status = results[-1].status if results else None
        if status == _FATAL:
            failed = failed or results[-1]
        if kind is not True:
            if status != _COMMAND_OK:  # not prepared (failed, or skipped after a failure)
                session.prepared.pop(kind, None)
        elif failed is None:
            answers.append(_reply(session, results))
    if failed is not None:
        raise errors.error_from_result(failed, encoding=conn.info.encoding)
    if len(answers) != sum(kind is True for kind in kinds):
        raise errors.PipelineAborted("pipeline aborted")
    return answers
