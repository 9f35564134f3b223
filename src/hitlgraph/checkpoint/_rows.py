"""Row encoding shared by the SQL checkpoint savers (SQLite and PostgreSQL).

Pure functions, no database driver: the checkpoint record packed into one column, the config
<-> (thread_id, checkpoint_ns, checkpoint_id) mapping, the checkpoint tuple a stored row reads
back as, and the searchable JSON copy of metadata. Where the backends' JSON types differ (which
strings and numbers they hold exactly) each backend passes its own rules in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ormsgpack

from hitlgraph._ids import ts_of
from hitlgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    RunnableConfig,
)

# -- the checkpoint record ---------------------------------------------------------------------


_RECORD_FIELDS = ("v", "channel_versions", "triggers", "updated_channels", "writers")


def pack_record(checkpoint: Checkpoint) -> bytes:
    """The parts of a checkpoint stored in its row's record column (values are stored apart):
    msgpack of a list of `_RECORD_FIELDS`, in that order."""
    return ormsgpack.packb(
        [
            checkpoint["v"],
            dict(checkpoint["channel_versions"]),
            list(checkpoint["triggers"]),
            checkpoint["updated_channels"],
            list(checkpoint.get("writers", ())),
        ]
    )


def unpack_record(data: bytes) -> dict[str, Any]:
    """A record packed by `pack_record` (or by hitlgraph 0.1's, a map), as a map of
    `_RECORD_FIELDS`."""
    record = ormsgpack.unpackb(data)
    if isinstance(record, list) and len(record) == len(_RECORD_FIELDS):
        return dict(zip(_RECORD_FIELDS, record, strict=True))
    if not isinstance(record, dict):
        raise ValueError("Corrupt checkpoint record: expected a list of "
                         f"{len(_RECORD_FIELDS)} fields or a map.")
    return record


def stored_ts(checkpoint: Checkpoint) -> str | None:
    """What a saver stores of a checkpoint's ts: None when its id carries it (see `row_ts`)."""
    ts = checkpoint["ts"]
    try:
        return None if ts_of(checkpoint["id"]) == ts else ts
    except ValueError:
        return ts


def row_ts(checkpoint_id: str, stored: str | None) -> str:
    """A checkpoint's ts from its stored column (None: the time its id carries)."""
    return ts_of(checkpoint_id) if stored is None else stored


# -- configs -----------------------------------------------------------------------------------


def thread_ns(config: RunnableConfig) -> tuple[str, str]:
    """The (thread_id, checkpoint_ns) a config names; thread_id is required."""
    conf = config.get("configurable", {})
    return str(conf["thread_id"]), str(conf.get("checkpoint_ns", ""))


def make_config(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    """The config that points at one stored checkpoint."""
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns,
                             "checkpoint_id": checkpoint_id}}


def stored_metadata(metadata: Any) -> dict[str, Any]:
    """Loaded metadata, checked: a saver only ever stores a map."""
    if not isinstance(metadata, dict):
        raise TypeError(f"its metadata is a {type(metadata).__name__}, not a map")
    return metadata


def checkpoint_tuple(
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    parent: str | None,
    ts: str,
    record: dict[str, Any],
    versions: ChannelVersions,
    values: dict[str, Any],
    metadata: Any,
    pending: list[PendingWrite],
) -> CheckpointTuple:
    """The CheckpointTuple of a stored row: its unpacked record, its loaded channel values
    (in channel_versions order, as InMemorySaver returns them) and pending writes.

    Raises TypeError or KeyError when the record lacks its shape (the reads guard turns those
    into a SerializationError naming the checkpoint)."""
    updated = record["updated_channels"]
    checkpoint = Checkpoint(
        v=int(record.get("v", 1)), id=checkpoint_id, ts=ts, channel_values=values,
        channel_versions=versions, triggers=list(record["triggers"]),
        updated_channels=list(updated) if updated is not None else None,
        writers=list(record.get("writers", ())),
    )
    return CheckpointTuple(
        config=make_config(thread_id, ns, checkpoint_id),
        checkpoint=checkpoint,
        metadata=metadata,
        parent_config=make_config(thread_id, ns, parent) if parent else None,
        pending_writes=pending,
    )


def by_task(pending: list[PendingWrite]) -> list[PendingWrite]:
    """Pending writes grouped by task, tasks in the order of their first write, each task's
    writes in their order (the order every saver returns them in)."""
    if len(pending) > 1:
        first: dict[str, int] = {}
        for task, _, _ in pending:
            first.setdefault(task, len(first))
        if len(first) > 1:
            pending.sort(key=lambda write: first[write[0]])
    return pending


def check_keep_last(keep_last: int) -> None:
    """Raise ValueError unless a prune's keep_last is at least 1."""
    if keep_last < 1:
        raise ValueError(f"keep_last must be at least 1, got {keep_last!r}.")


# -- list() ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListCursor:
    """Where a list() is: its query, how many more it may return, and the last row seen.

    Built by the backend's `list_cursor`, advanced by its `list_page`; None from list_page
    means done.
    """

    where: str
    params: tuple[Any, ...]
    filter: tuple[tuple[Any, Any], ...]
    remaining: int | None
    after: tuple[str, str, str] | None = None


ListPage = tuple[list[CheckpointTuple], "ListCursor | None"]


def list_cursor(
    config: RunnableConfig | None,
    *,
    filter: dict[str, Any] | None,
    before: RunnableConfig | None,
    limit: int | None,
    condition: Callable[[str, str], str],
    filter_clause: Callable[[Any, Any], tuple[str, tuple[Any, ...]] | None],
    everything: str,
) -> ListCursor | None:
    """The start of a list() with InMemorySaver's arguments (None: nothing to list), in a
    backend's SQL: `condition(column, operator)` writes one bound comparison, `filter_clause`
    one metadata filter's (None: only Python can decide it), `everything` a true condition."""
    if limit is not None and limit <= 0:
        return None
    clauses: list[str] = []
    params: list[Any] = []
    conf = config.get("configurable", {}) if config is not None else {}
    if "thread_id" in conf:
        clauses.append(condition("thread_id", "="))
        params.append(str(conf["thread_id"]))
    for column in ("checkpoint_ns", "checkpoint_id"):
        if conf.get(column) is not None:
            clauses.append(condition(column, "="))
            params.append(str(conf[column]))
    before_id = before.get("configurable", {}).get("checkpoint_id") if before else None
    if before_id is not None:
        clauses.append(condition("checkpoint_id", "<"))
        params.append(str(before_id))
    for key, value in (filter or {}).items():
        clause = filter_clause(key, value)
        if clause is not None:
            clauses.append(clause[0])
            params.extend(clause[1])
    return ListCursor(where=" AND ".join(clauses) or everything, params=tuple(params),
                      filter=tuple((filter or {}).items()), remaining=limit)
"""Some checkpoints of a list() and the cursor for the next ones (None: no more)."""


def matches(metadata: Any, filter: Sequence[tuple[Any, Any]]) -> bool:
    """Whether loaded metadata passes a list() filter (the exact check, done in Python)."""
    return not any(
        not isinstance(metadata, dict) or metadata.get(k) != v for k, v in filter
    )


# -- the searchable JSON copy of metadata ------------------------------------------------------


def json_text_ok(value: str) -> bool:
    """Whether a database's JSON functions hold `value` verbatim: valid UTF-8, no NUL
    (PostgreSQL's jsonb rejects NUL; SQLite's JSON functions cut text at it)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _any_text(value: str) -> bool:
    return True


def _same_number(value: int | float) -> int | float:
    return value


def jsonable(
    value: Any,
    *,
    text_ok: Callable[[str], bool] = _any_text,
    number: Callable[[int | float], Any] = _same_number,
) -> Any:
    """`value` as strict JSON data for the searchable metadata copy.

    Values the backend's JSON cannot hold exactly become marker objects, which a scalar filter
    never matches: a string `text_ok` rejects, a non-finite float, an object of another type;
    `number` maps each finite int or float (to itself, or to a marker object). Dict entries
    whose key is not a string `text_ok` accepts are left out (filters on them are decided in
    Python).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value if text_ok(value) else {"__str__": None}
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, dict):
        return {
            k: jsonable(v, text_ok=text_ok, number=number)
            for k, v in value.items()
            if isinstance(k, str) and text_ok(k)
        }
    if isinstance(value, (list, tuple)):
        return [jsonable(v, text_ok=text_ok, number=number) for v in value]
    return {"__type__": type(value).__qualname__}


_INT64 = (-(2**63), 2**63 - 1)


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(_INT64[0] <= value <= _INT64[1])
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return False


def json_exact(metadata: CheckpointMetadata | dict[str, Any]) -> bool:
    """Whether metadata's JSON copy reads back as exactly it (plain str, bool, None, 64-bit
    int, finite float, lists, and dicts with str keys; no subclasses): then a saver need not
    store metadata a second time."""
    return _plain(dict(metadata))


def metadata_json(
    metadata: CheckpointMetadata | dict[str, Any],
    *,
    text_ok: Callable[[str], bool] = _any_text,
    number: Callable[[int | float], Any] = _same_number,
) -> str:
    """The JSON text copy of metadata that list() filters on (ASCII, strict JSON), with the
    backend's rules for text and numbers (see `jsonable`)."""
    return json.dumps(
        jsonable(dict(metadata), text_ok=text_ok, number=number),
        ensure_ascii=True, allow_nan=False, separators=(",", ":"),
    )
