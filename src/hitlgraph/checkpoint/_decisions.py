"""The decision log, what every saver shares: how a writer says a write is a decision (a
DecisionNote in the call's config), the rows it makes, their hash chain, and the query of
list_decisions(), checked once.

A row's hash is sha256 over the previous row's hash and the row's canonical JSON (its fields
in a fixed order, the answer as the JSON text stored), so a verifier needs nothing but the
rows: any change to a field, and any row taken out of the middle, breaks the chain from there
on. The savers also keep the chain's head (the last seq and hash) beside it, so a row taken
off the end shows too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from hitlgraph.checkpoint.serde._errors import SerializationError
from hitlgraph.review._decisions import ChainBreak, Decision, DecisionOutcome

RunnableConfig = dict[str, Any]
"""(checkpoint.base's, which re-exports DecisionNote from here.)"""

__all__ = ["DECISION_NOTE", "ChainCheck", "Chained", "DecisionNote", "DecisionQuery",
           "NewDecision", "answer_text", "answer_texts", "chain", "decision", "decision_query",
           "first_break", "matches", "note_of", "resolved_rows", "rows_of"]

DECISION_NOTE = "__hitlgraph_decision"
"""The key of config["configurable"] under which a put_writes() call carries its
DecisionNote (set it with `DecisionNote.on(config)`)."""


class DecisionNote(NamedTuple):
    """Says that a put_writes() call (a `__resume__` write) is a decision, and whose: the
    saver appends a row per answer in the same transaction, only if the write is stored."""

    outcome: DecisionOutcome
    answers: tuple[tuple[str, Any], ...]
    """(interrupt id, answer) of each interrupt the write decides."""
    by: str | None = None
    reason: str | None = None

    def on(self, config: RunnableConfig) -> RunnableConfig:
        """A copy of `config` carrying this note."""
        return {**config, "configurable": {**config.get("configurable", {}),
                                           DECISION_NOTE: self}}


def note_of(config: RunnableConfig) -> DecisionNote | None:
    """The DecisionNote a put_writes() call's config carries, if any (one dict lookup: the
    price every other write pays)."""
    note = config.get("configurable", {}).get(DECISION_NOTE)
    return note if isinstance(note, DecisionNote) else None


class NewDecision(NamedTuple):
    """A decision row before it has its place in the chain (the answer as JSON text)."""

    thread_id: str
    checkpoint_ns: str
    interrupt_id: str
    node: str | None
    answer: str
    by: str | None
    reason: str | None
    at: str
    outcome: str


class Chained(NamedTuple):
    """A row with its place and hash: (seq, row, hash)."""

    seq: int
    row: NewDecision
    hash: str


def _plain(value: Any) -> Any:
    """What json.dumps cannot take, as data: pydantic models and dataclasses as dicts, the
    rest as repr() (so that logging an answer never fails)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return repr(value)


_ANSWER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_plain)
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Made once: json.dumps with options builds an encoder per call, most of its cost here."""


def answer_text(answer: Any) -> str:
    """An answer as the log stores it: JSON text, keys in their order."""
    kind = type(answer)
    # (the scalars as the encoder writes them, without its per-call set-up: most answers)
    if kind is int:
        return int.__repr__(answer)
    if kind is bool:
        return "true" if answer else "false"
    if answer is None:
        return "null"
    return _ANSWER.encode(answer)


def _item(value: Any) -> str:
    """One value of a row's canonical JSON: text through the C string encoder (what
    _CANONICAL uses for text too), without the encoder's per-call set-up."""
    if type(value) is str:
        return encode_basestring(value)
    return "null" if value is None else _CANONICAL.encode(value)


def _canonical(seq: int, row: NewDecision) -> str:
    """`[seq, *row]` as _CANONICAL writes it, byte for byte (the hash depends on it):
    assembled a field at a time, half the cost of encoding the list."""
    head = str(seq) if type(seq) is int else _CANONICAL.encode(seq)
    return f"[{head},{','.join(map(_item, row))}]"


def _hash(prev: str, seq: int, row: NewDecision) -> str:
    # hashlib loads OpenSSL (~12 M instructions): imported at the first decision, not with
    # every saver.
    import hashlib

    return hashlib.sha256(f"{prev}\n{_canonical(seq, row)}".encode()).hexdigest()


def chain(head: tuple[int, str], rows: Iterable[NewDecision]) -> list[Chained]:
    """`rows` placed after the chain's head (last seq, last hash; (0, "") for an empty log)."""
    seq, prev = head
    out: list[Chained] = []
    for row in rows:
        seq += 1
        prev = _hash(prev, seq, row)
        out.append(Chained(seq, row, prev))
    return out


class ChainCheck:
    """Walks a log in seq order, a page at a time, checking each row's place and hash."""

    def __init__(self) -> None:
        self.seq, self.prev = 0, ""

    def feed(self, rows: Iterable[Chained]) -> ChainBreak | None:
        """The first bad row among `rows` (the next ones of the log), or None."""
        for found in rows:
            if found.seq != self.seq + 1:
                return ChainBreak(seq=self.seq + 1, problem="removed")
            if found.hash != _hash(self.prev, found.seq, found.row):
                return ChainBreak(seq=found.seq, problem="changed")
            self.seq, self.prev = found.seq, found.hash
        return None

    def end(self, head: tuple[int, str]) -> ChainBreak | None:
        """After the last row: judged against the head the saver keeps, the rows taken off
        the end (or a last row changed along with its hash)."""
        if head[0] > self.seq:
            return ChainBreak(seq=self.seq + 1, problem="removed")
        if head != (self.seq, self.prev):
            return ChainBreak(seq=self.seq, problem="changed")
        return None


def first_break(rows: Iterable[Chained], head: tuple[int, str]) -> ChainBreak | None:
    """The first row of `rows` (the whole log, in seq order) that was changed or removed,
    judged against the head the saver keeps; None when the log is intact."""
    check = ChainCheck()
    return check.feed(rows) or check.end(head)


def decision(found: Chained) -> Decision:
    """The Decision record of a stored row."""
    row = found.row
    try:
        answer = json.loads(row.answer)
    except (ValueError, TypeError) as exc:  # (JSONDecodeError is a ValueError)
        raise damaged_decision(found, exc) from exc
    return Decision(
        seq=found.seq, thread_id=row.thread_id, checkpoint_ns=row.checkpoint_ns,
        interrupt_id=row.interrupt_id, node=row.node, answer=answer,
        by=row.by, reason=row.reason, at=row.at,
        outcome=row.outcome,  # type: ignore[arg-type]
        hash=found.hash)


def damaged_decision(found: Chained, exc: BaseException) -> SerializationError:
    """The error of a decision row whose answer is not the JSON text it was written as."""
    error = SerializationError(
        f"Decision {found.seq} (interrupt {found.row.interrupt_id!r} of thread "
        f"{found.row.thread_id!r}) cannot be read ({type(exc).__name__}: {exc}): the decision "
        "log was changed or damaged. `hitlgraph audit verify` shows where its chain breaks.",
        reason="a damaged decision row")
    error.thread_id = str(found.row.thread_id)
    return error


class DecisionQuery(NamedTuple):
    """list_decisions()'s arguments, checked."""

    thread_id: str | None
    by: str | None
    since: str | None
    limit: int
    thread_prefix: str | None = None


def _since(since: str | datetime | None) -> str | None:
    if since is None:
        return None
    if isinstance(since, datetime):
        if since.tzinfo is None:
            raise ValueError(f"since={since!r} has no time zone: pass an aware datetime, "
                             "e.g. datetime.now(timezone.utc).")
        return since.astimezone(timezone.utc).isoformat(timespec="microseconds")
    if isinstance(since, str):
        try:
            return _since(datetime.fromisoformat(since.replace("Z", "+00:00")))
        except ValueError as exc:
            raise ValueError(f"since={since!r} is not an ISO 8601 time with a time zone, "
                             "e.g. '2026-12-01T00:00:00+00:00'.") from exc
    raise TypeError(f"since must be an ISO 8601 str or a datetime, got "
                    f"{type(since).__name__}: {since!r}.")


def decision_query(*, thread_id: str | None, by: str | None, since: str | datetime | None,
                   limit: int, thread_prefix: str | None = None) -> DecisionQuery:
    """The query of a list_decisions() call.

    Raises:
        ValueError: `limit` is below 1, or `since` is not a time with a time zone.
        TypeError: `since` is neither text nor a datetime.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit={limit!r} must be an int of at least 1.")
    return DecisionQuery(
        thread_id=None if thread_id is None else str(thread_id),
        by=None if by is None else str(by), since=_since(since), limit=limit,
        thread_prefix=thread_prefix or None)


def matches(row: NewDecision, query: DecisionQuery) -> bool:
    """Whether a row is one the query asks for (the in-memory saver's filter)."""
    return ((query.thread_id is None or row.thread_id == query.thread_id)
            and (query.by is None or row.by == query.by)
            and (query.since is None or row.at >= query.since)
            and (query.thread_prefix is None or row.thread_id.startswith(query.thread_prefix)))


def rows_of(note: DecisionNote, thread_id: str, ns: str, node: str | None, at: str,
            asked: dict[str, tuple[str, str | None]],
            texts: Sequence[tuple[str, str]] | None = None) -> list[NewDecision]:
    """The rows of a note's answers; `asked` gives the namespace and node of each interrupt
    the index holds (a subgraph's are its own), the call's own otherwise. `texts`: the
    answers as answer_texts made them, when they were written down before (the in-memory
    saver does so when the write is stored, and makes the rows later)."""
    rows = []
    for iid, text in texts if texts is not None else answer_texts(note):
        where, asker = asked.get(iid, (ns, node))
        rows.append(NewDecision(thread_id, where, iid, asker, text, note.by, note.reason, at,
                                note.outcome))
    return rows


def answer_texts(note: DecisionNote) -> tuple[tuple[str, str], ...]:
    """(interrupt id, answer as the log stores it) of each of a note's answers."""
    return tuple((iid, answer_text(answer)) for iid, answer in note.answers)


def resolved_rows(thread_id: str, at: str, dropped: Sequence[tuple[str, str, str | None]]
                  ) -> list[NewDecision]:
    """The rows of the open interrupts (interrupt id, namespace, node) an update_state
    checkpoint closed unanswered."""
    return [NewDecision(thread_id, ns, iid, node, "null", None, None, at, "resolved")
            for iid, ns, node in dropped]
