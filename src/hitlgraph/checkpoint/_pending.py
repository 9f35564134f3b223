"""The index of open interrupts, what every saver shares: which writes open or close entries
(see hitlgraph.review for the rule), a list_pending() query checked once, and records.

A task's `__interrupt__` write opens an entry per interrupt (replacing the task's earlier
ones), with its value serialized and its response_schema as JSON text; its `__resume__` write
(a log of [interrupt id, answer, in force]) marks the ids it answers as answered, and the ids
whose answer was withdrawn as open again. A stored checkpoint closes the older entries of its
namespace (of the whole thread for the root namespace).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from hitlgraph._policy import ReviewPolicy
from hitlgraph.checkpoint._events import created_data
from hitlgraph.checkpoint._pending_policy import PolicyColumns, loads_policy, policy_columns
from hitlgraph.checkpoint.serde import SerializationError, SerializerProtocol
from hitlgraph.constants import INTERRUPT, PUSH, RESUME
from hitlgraph.review import PendingInterrupt, decode_cursor
from hitlgraph.review._approvals import APPROVAL, given_so_far, is_approval_entry
from hitlgraph.review._cursor import CursorKey
from hitlgraph.review._pending import DEADLINE_MARK, PendingOrder
from hitlgraph.review._times import as_time, utc_now

__all__ = ["GRAPH_KEYS", "Change", "Opened", "PendingQuery", "Stored", "change_of",
           "damaged_entry", "graph_of", "node_of", "now", "pending_query", "record",
           "schema_text"]

GRAPH_KEYS = ("graph_id", "hitlgraph_graph")
"""Checkpoint metadata keys naming the thread's graph, in order of preference: the server's,
then the one the `hitlgraph` command records."""


class Opened(NamedTuple):
    """One interrupt a task's write opens: its id, its value serialized, the JSON Schema
    an answer must match as JSON text (None: any answer), its review policy (None: none
    asked) and the data of the "interrupt.created" event it makes (JSON text)."""

    interrupt_id: str
    value_type: str
    value: bytes
    response_schema: str | None
    policy: PolicyColumns | None = None
    """The policy's columns, its times counted from the change's created_at."""
    event_data: str = "{}"


class Change(NamedTuple):
    """What one put_writes() call of a task does to the index."""

    opened: tuple[Opened, ...] | None
    """The task's interrupts now (None: the call wrote no `__interrupt__`)."""
    answers: tuple[tuple[str, bool], ...]
    """(interrupt id, answered) of each id its `__resume__` log names."""
    node: str | None
    created_at: str
    given: tuple[tuple[str, str], ...] = ()
    """(interrupt id, the principals whose answers count towards its approvals now, as a
    JSON list) of each k-of-n interrupt the `__resume__` log counts answers to: the index's
    approvals_given, written in the transaction of the answer."""


now = utc_now
"""The time an entry is stored: ISO 8601 in UTC with microseconds, so that the text sorts as
the time does (checkpoints' ts have the same form)."""


def node_of(task_path: str) -> str | None:
    """The node a task ran, from the task path put_writes() gets: the node's name for a
    triggered node; a Send's task path names only its position (None)."""
    if not task_path or task_path.startswith(PUSH):
        return None
    return task_path


def graph_of(metadata: Any) -> str | None:
    """The graph id a checkpoint's metadata records (see GRAPH_KEYS), or None."""
    if isinstance(metadata, dict):
        for key in GRAPH_KEYS:
            found = metadata.get(key)
            if isinstance(found, str) and found:
                return found
    return None


def _given(log: Any) -> tuple[tuple[str, str], ...]:
    """(id, JSON list of the principals counted so far) per k-of-n interrupt of a resume log
    (review._approvals: an entry under an approval key is one answer)."""
    if not isinstance(log, list):
        return ()
    ids = dict.fromkeys(str(e[0])[len(APPROVAL):] for e in log
                        if isinstance(e, (list, tuple)) and len(e) == 3 and is_approval_entry(e))
    return tuple((iid, json.dumps([str(g.get("by")) for g in given_so_far(log, iid)
                                   if isinstance(g, dict)])) for iid in ids)


def _answers(log: Any) -> tuple[tuple[str, bool], ...]:
    """(id, answered) per id of a resume log: the last word on each id holds."""
    latest: dict[str, bool] = {}
    if isinstance(log, dict):  # a plain {id: answer} map
        return tuple((str(iid), True) for iid in log)
    for entry in log if isinstance(log, list) else ():
        if isinstance(entry, (list, tuple)) and len(entry) == 3:
            latest[str(entry[0])] = bool(entry[2])
    return tuple(latest.items())


def schema_text(schema: Any) -> str | None:
    """An interrupt's response_schema (JSON Schema: JSON data) as the index stores it. JSON
    text rather than the serializer's bytes, so SQL can show it and any process can read it;
    keys keep their order (a form shows the fields in it). Anything JSON cannot hold is
    written as its repr(), as the server shows unknown values, so that a write never fails
    for the index's sake."""
    if schema is None:
        return None
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"), default=repr)


def _opened(serde: SerializerProtocol, item: Any, node: str | None, at: str) -> Opened:
    value = getattr(item, "value", None)
    policy = getattr(item, "policy", None)
    policy = policy if isinstance(policy, ReviewPolicy) else None
    return Opened(item.id, *serde.dumps_typed(value),
                  schema_text(getattr(item, "response_schema", None)),
                  None if policy is None else policy_columns(serde, policy, at),
                  created_data(node, value, policy))


def change_of(serde: SerializerProtocol, writes: Sequence[tuple[str, Any]], task_path: str
              ) -> Change | None:
    """What a task's writes do to the index; None (the usual case) when nothing. An
    `__interrupt__` write holds the engine's Interrupt objects; items without an id are not
    indexed (no answer could name them). One pass over the writes; the clock is read only
    when one of them opens or answers interrupts."""
    opened: tuple[Opened, ...] | None = None
    answers: tuple[tuple[str, bool], ...] = ()
    given: tuple[tuple[str, str], ...] = ()
    at = ""
    for channel, value in writes:
        if channel == INTERRUPT:
            at = at or now()
            opened = tuple(
                _opened(serde, item, node_of(task_path), at)
                for item in (value if isinstance(value, (list, tuple)) else [value])
                if isinstance(getattr(item, "id", None), str) and item.id)
        elif channel == RESUME:
            at = at or now()
            answers, given = _answers(value), _given(value)
    if opened is None and not answers:
        return None
    return Change(opened, answers, node_of(task_path), at, given)


class PendingQuery(NamedTuple):
    """list_pending()'s arguments, checked."""

    graph_id: str | None
    thread_id: str | None
    node: str | None
    metadata: tuple[tuple[Any, Any], ...]
    limit: int
    after: CursorKey | None
    """The cursor's key: (created_at, ...) or, in deadline order, (due, ...)."""
    assignee: str | None = None
    group: str | None = None
    unassigned: bool = False
    expired_before: str | None = None
    order: PendingOrder = "created"


def _after(after: str | None, order: str) -> CursorKey | None:
    if after is None:
        return None
    key = decode_cursor(after)
    if key[0].startswith(DEADLINE_MARK) != (order == "deadline"):
        raise ValueError(f"after={after!r} is a cursor of a listing in another order than "
                         f"order={order!r}: pass the cursor of a record this order listed.")
    return (key[0].removeprefix(DEADLINE_MARK), key[1], key[2])


def pending_query(*, graph_id: str | None, thread_id: str | None, node: str | None,
                  metadata: dict[str, Any] | None, limit: int, after: str | None,
                  assignee: str | None = None, group: str | None = None,
                  unassigned: bool = False, expired_before: str | datetime | None = None,
                  order: str = "created") -> PendingQuery:
    """The query of a list_pending() call.

    Raises:
        ValueError: `after` is not a cursor (of this order), `limit` is below 1, `order` is
            not "created" or "deadline", or `expired_before` is not a time with a zone.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit={limit!r} must be an int of at least 1.")
    if order not in ("created", "deadline"):
        raise ValueError(f"order={order!r} must be 'created' (newest first) or 'deadline' "
                         "(nearest deadline first).")
    if not isinstance(unassigned, bool):
        raise ValueError(f"unassigned={unassigned!r} must be True or False.")
    return PendingQuery(
        graph_id=None if graph_id is None else str(graph_id),
        thread_id=None if thread_id is None else str(thread_id),
        node=None if node is None else str(node),
        metadata=tuple((metadata or {}).items()), limit=limit, after=_after(after, order),
        assignee=None if assignee is None else str(assignee),
        group=None if group is None else str(group), unassigned=unassigned,
        expired_before=as_time("expired_before", expired_before),
        order=order)  # type: ignore[arg-type]


class Stored(NamedTuple):
    """An index entry as a saver read it, before decoding."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    interrupt_id: str
    node: str | None
    graph_id: str | None
    created_at: str
    value: tuple[str, bytes]
    response_schema: str | None
    expires_at: str | None = None
    warn_at: str | None = None
    assignee: str | None = None
    group: str | None = None
    approvals: int = 1
    policy: tuple[str, bytes] | None = None
    approvals_given: str | None = None
    """The principals counted so far, as a JSON list (None: none)."""


def _principals(text: str | None) -> tuple[str, ...]:
    """approvals_given as stored, read (a damaged value raises, see record)."""
    if text is None:
        return ()
    names = json.loads(text)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"approvals_given is {text!r}, not a JSON list of names")
    return tuple(names)


def record(serde: SerializerProtocol, row: Stored, order: PendingOrder = "created"
           ) -> PendingInterrupt:
    """The PendingInterrupt of an index entry (`response_schema` as schema_text made it).

    Raises:
        SerializationError: the entry's stored value, schema or policy cannot be read
            (changed or damaged rows), naming its thread and interrupt.
    """
    try:
        return PendingInterrupt(
            thread_id=row.thread_id, checkpoint_ns=row.checkpoint_ns,
            checkpoint_id=row.checkpoint_id, interrupt_id=row.interrupt_id, node=row.node,
            value=serde.loads_typed(row.value),
            response_schema=None if row.response_schema is None
            else json.loads(row.response_schema),
            created_at=row.created_at, graph_id=row.graph_id,
            policy=loads_policy(serde, row.policy), expires_at=row.expires_at,
            warn_at=row.warn_at, assignee=row.assignee, group=row.group,
            approvals=int(row.approvals), approvals_given=_principals(row.approvals_given),
            order=order)
    except Exception as exc:  # whatever a damaged row makes a decoder raise
        raise damaged_entry(row.thread_id, row.interrupt_id, exc) from exc


def damaged_entry(thread_id: Any, interrupt_id: Any, exc: BaseException) -> SerializationError:
    """The error of an index entry whose stored columns cannot be read."""
    error = SerializationError(
        f"The index entry of interrupt {interrupt_id!r} of thread {thread_id!r} cannot be "
        f"read ({type(exc).__name__}: {exc}): its stored rows were changed or damaged. "
        "Delete the thread, or rewind it to an earlier checkpoint.",
        reason="a damaged index entry")
    error.thread_id = str(thread_id)
    return error
