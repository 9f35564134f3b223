"""Reading checkpoints, written once: get_tuple() and list() page by page.

Every stored row is decoded inside a guard that turns whatever damaged bytes make the decoder
raise into a SerializationError naming the checkpoint (`serde.refused_checkpoint`). The guard
is a try block in these functions rather than a wrapping generator: each generator level
costs every statement of a read a frame resumption, and statements a read yields are carried
out by the driver outside the generator, so a database error never passes through it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hitlgraph.checkpoint import _rows
from hitlgraph.checkpoint._delta import DeltaEncoder
from hitlgraph.checkpoint._rows import ListCursor, ListPage, matches, stored_metadata, thread_ns
from hitlgraph.checkpoint._store.dialect import PAGE_ROWS, Dialect
from hitlgraph.checkpoint._store.ops import Ops, Statement
from hitlgraph.checkpoint.base import CheckpointTuple, RunnableConfig
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.checkpoint.serde._errors import STORED_DATA_ERRORS, refused_checkpoint

__all__ = ["get_tuple", "list_cursor", "list_page"]


def get_tuple(dialect: Dialect, serde: SerializerProtocol, config: RunnableConfig,
              deltas: DeltaEncoder | None = None) -> Ops[CheckpointTuple | None]:
    """The checkpoint `config` points at (its thread's latest without checkpoint_id)."""
    thread_id, ns = thread_ns(config)
    checkpoint_id = config["configurable"].get("checkpoint_id")
    if checkpoint_id is None:
        rows = yield Statement(dialect.select_latest, (thread_id, ns))
    else:
        rows = yield Statement(dialect.select_by_id, (thread_id, ns, str(checkpoint_id)))
    if not rows:
        return None
    row = rows[0]
    try:
        metadata = stored_metadata(dialect.load_metadata(serde, row))
        return (yield from dialect.read_tuple(serde, row, metadata, deltas, {}))
    except STORED_DATA_ERRORS as exc:
        raise refused_checkpoint(exc, row[0], row[1], row[2]) from exc


def list_cursor(
    dialect: Dialect,
    config: RunnableConfig | None,
    *,
    filter: dict[str, Any] | None = None,
    before: RunnableConfig | None = None,
    limit: int | None = None,
) -> ListCursor | None:
    """The start of a list() with InMemorySaver's arguments (None: nothing to list)."""
    return _rows.list_cursor(
        config, filter=filter, before=before, limit=limit, condition=dialect.condition,
        filter_clause=dialect.filter_clause, everything=dialect.everything,
    )


def _kept(dialect: Dialect, serde: SerializerProtocol, rows: list[tuple[Any, ...]],
          cursor: ListCursor) -> list[tuple[tuple[Any, ...], Any]]:
    """The rows of a page that match the cursor's filter, with their metadata, up to the
    number the cursor still wants."""
    kept: list[tuple[tuple[Any, ...], Any]] = []
    for row in rows:
        if cursor.remaining is not None and len(kept) >= cursor.remaining:
            break
        try:
            metadata = stored_metadata(dialect.load_metadata(serde, row))
        except STORED_DATA_ERRORS as exc:
            raise refused_checkpoint(exc, row[0], row[1], row[2]) from exc
        if matches(metadata, cursor.filter):
            kept.append((row, metadata))
    return kept


def list_page(dialect: Dialect, serde: SerializerProtocol, cursor: ListCursor,
              deltas: DeltaEncoder | None = None) -> Ops[ListPage]:
    """The next checkpoints of a list(), newest first, and the cursor for the ones after them
    (None when there are no more). `deltas`: the writer's memory of each list's latest value,
    so the newest checkpoint's needs no walk along its deltas (and the older ones of the page
    are its prefixes)."""
    where, params = cursor.where, cursor.params
    if cursor.after is not None:
        where += " AND " + dialect.after_clause
        params += cursor.after
    page_size = dialect.list_page_size
    if cursor.remaining is not None and not cursor.filter:
        page_size = min(page_size, cursor.remaining)
    # `where` is assembled only from the dialect's constant fragments; values are parameters.
    rows = (yield Statement(dialect.select_page(where), (*params, page_size))) or []
    kept = _kept(dialect, serde, rows, cursor)
    remaining = cursor.remaining
    cache: dict[Any, Any] = {PAGE_ROWS: [row for row, _metadata in kept]}
    found: list[CheckpointTuple] = []
    for row, metadata in kept:
        try:
            found.append((yield from dialect.read_tuple(serde, row, metadata, deltas, cache)))
        except STORED_DATA_ERRORS as exc:
            raise refused_checkpoint(exc, row[0], row[1], row[2]) from exc
    if remaining is not None:
        remaining -= len(found)
        if remaining <= 0:
            return found, None
    if len(rows) < page_size:
        return found, None
    last = rows[-1]
    return found, replace(cursor, remaining=remaining, after=(last[2], last[0], last[1]))
