"""The review event outbox, what every saver shares: the rows an opened interrupt or a
logged decision makes, the query of list_review_events(), checked once, and records.

A saver appends events in the transaction of the write that caused them, numbering them under
a lock held until it commits (SQLite's one write lock; PostgreSQL's row lock on the outbox's
head), so that seq order is commit order (see hitlgraph.review.ReviewEvent.seq).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from hitlgraph._policy import POLICY_BY
from hitlgraph.checkpoint._decisions import NewDecision, answer_text
from hitlgraph.checkpoint.serde import SerializationError
from hitlgraph.review._events import ReviewEvent

__all__ = ["POLICY_BY", "VALUE_MAX", "NewEvent", "created_data", "decided_events", "event_of",
           "events_query", "policy_json", "prune_query"]

VALUE_MAX = 2000
"""Longest JSON text of an interrupt's value an "interrupt.created" event carries whole; a
longer one is cut to this many characters, as "value_summary"."""


class NewEvent(NamedTuple):
    """An event before it has its seq (`data` as JSON text)."""

    kind: str
    at: str
    thread_id: str
    checkpoint_ns: str
    interrupt_id: str
    graph_id: str | None
    data: str


def policy_json(policy: Any) -> Any:
    """A ReviewPolicy as JSON data (None stays None); a default answer JSON cannot hold is
    written as the decision log writes answers."""
    if policy is None:
        return None
    return json.loads(answer_text(dataclasses.asdict(policy)))


def _json(value: Any) -> str:
    """`answer_text(value)`, a str or None (the usual case) without building an encoder's
    state: event data are written in the round trip's transaction, so each piece counts."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring(value)
    return answer_text(value)


def created_data(node: str | None, value: Any, policy: Any) -> str:
    """The data of the "interrupt.created" event of an interrupt (JSON text), made when its
    write is encoded (outside any lock): {"node", "policy", "value" or "value_summary"},
    assembled from the parts' JSON text (the value's text is not decoded and encoded again)."""
    text = answer_text(value)
    shown = (f'"value":{text}' if len(text) <= VALUE_MAX
             else f'"value_summary":{_json(text[:VALUE_MAX])}')
    policy_text = "null" if policy is None else answer_text(dataclasses.asdict(policy))
    return f'{{"node":{_json(node)},"policy":{policy_text},{shown}}}'


def decided_events(rows: Sequence[tuple[int, NewDecision]], graphs: dict[str, str | None]
                   ) -> list[NewEvent]:
    """The events of decision rows (their seq, the row); `graphs`: each interrupt's graph id.
    A policy's decision ("expired", or by "policy") is an "interrupt.expired" event. Data:
    {"outcome", "by", "reason", "node", "decision_seq"}."""
    events = []
    for seq, row in rows:
        expired = row.outcome == "expired" or (
            row.by == POLICY_BY and (row.reason or "").startswith("expired"))
        data = (f'{{"outcome":{_json(row.outcome)},"by":{_json(row.by)},'
                f'"reason":{_json(row.reason)},"node":{_json(row.node)},'
                f'"decision_seq":{int(seq)}}}')
        events.append(NewEvent(
            "interrupt.expired" if expired else "interrupt.decided", row.at, row.thread_id,
            row.checkpoint_ns, row.interrupt_id, graphs.get(row.interrupt_id), data))
    return events


def events_query(after: int, limit: int) -> tuple[int, int]:
    """list_review_events()'s arguments, checked.

    Raises:
        ValueError: `after` is below 0 or `limit` below 1 (or either is not an int).
    """
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ValueError(f"after={after!r} must be an int of at least 0 (the last seq seen).")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit={limit!r} must be an int of at least 1.")
    return after, limit


def prune_query(before_seq: int) -> int:
    """prune_review_events()'s argument, checked.

    Raises:
        ValueError: it is not an int of at least 0.
    """
    if isinstance(before_seq, bool) or not isinstance(before_seq, int) or before_seq < 0:
        raise ValueError(f"before_seq={before_seq!r} must be an int of at least 0.")
    return before_seq


def event_of(row: Sequence[Any]) -> ReviewEvent:
    """The ReviewEvent of a stored row (seq, kind, at, thread_id, ns, interrupt_id, graph_id,
    data).

    Raises:
        SerializationError: the row's data is not a JSON object (changed outside hitlgraph),
            naming the thread and interrupt.
    """
    try:
        data = json.loads(row[7])
    except (TypeError, ValueError):
        data = None
    if not isinstance(data, dict):
        error = SerializationError(
            f"Review event {row[0]} of thread {row[3]!r}, interrupt {row[5]!r}, has data that "
            "is not a JSON object: the outbox was changed outside hitlgraph. Delete the row, "
            "or prune the events before it.", reason="a damaged review event")
        error.thread_id = str(row[3])
        raise error
    return ReviewEvent(seq=int(row[0]), kind=row[1], at=row[2], thread_id=row[3],
                       checkpoint_ns=row[4], interrupt_id=row[5], graph_id=row[6], data=data)
