"""The index of open interrupts in the SQL savers, written once (the rule is
hitlgraph.review's; what a write changes is checkpoint._pending's): a task's writes updating
it, a page of list_pending(), and the migration step that builds it for an older database.

Closing on a stored checkpoint is each schema's own (a trigger in SQLite, a clause of the
guarded insert in PostgreSQL), so a put pays no statement for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hitlgraph._policy import ReviewPolicy
from hitlgraph.checkpoint._events import NewEvent
from hitlgraph.checkpoint._pending import (
    Change,
    PendingQuery,
    Stored,
    change_of,
    damaged_entry,
    record,
)
from hitlgraph.checkpoint._pending_policy import policy_columns
from hitlgraph.checkpoint._rows import matches
from hitlgraph.checkpoint._store import events
from hitlgraph.checkpoint._store.encode import EncodedWrites
from hitlgraph.checkpoint._store.ops import Ops, Statement, gather, queue
from hitlgraph.checkpoint.serde import SerializerProtocol
from hitlgraph.constants import INTERRUPT
from hitlgraph.review import PendingInterrupt

if TYPE_CHECKING:
    from hitlgraph.checkpoint._store.dialect import Dialect

__all__ = ["backfill", "backfill_policies", "index_writes", "list_page", "stored"]


def _open_rows(thread_id: str, ns: str, checkpoint_id: str, task_id: str, change: Change
               ) -> list[tuple[Any, ...]]:
    """`Dialect.open_pending`'s parameters for each interrupt a change opens."""
    return [(thread_id, ns, checkpoint_id, task_id, opened.interrupt_id, change.node,
             change.created_at, opened.value_type, opened.value, opened.response_schema,
             thread_id, ns, checkpoint_id)
            for opened in change.opened or ()]


def _announce(dialect: Dialect, key: tuple[str, str, str, str], change: Change,
              before: set[str], held: Sequence[Sequence[Any]]) -> Ops[None]:
    """The "interrupt.created" events of the entries the task holds now (`held`: the
    (interrupt id, graph id) open_pending stored) and did not before (a task asking again
    what it asked keeps its entries' events; a subgraph's interrupt its parent's task records
    again was announced where it was raised, so open_pending stored no row for it)."""
    data = {opened.interrupt_id: opened.event_data for opened in change.opened or ()}
    yield from events.emit(dialect, [
        NewEvent("interrupt.created", change.created_at, key[0], key[1], iid, graph, data[iid])
        for iid, graph in held if iid not in before and iid in data])


def _reopen(dialect: Dialect, key: tuple[str, str, str, str], change: Change, *,
            first: bool, live: bool) -> Ops[None]:
    """Replace the task's entries by those `change` opens: one batch, whose replies tell
    which entries the task held before (close_task_pending's) and which it holds now
    (open_pending's), so the entries need no read of their own. `first` and `live` as in
    _changes."""
    opens = [Statement(dialect.open_pending, row) for row in _open_rows(*key, change)]
    statements = opens if first else [Statement(dialect.close_task_pending, key), *opens]
    if not live or not change.opened:
        yield from queue(statements)
        return
    replies = yield from gather(statements)
    before = set() if first else {row[0] for row in replies[0] or ()}
    held = [row for reply in replies[len(statements) - len(opens):] for row in reply or ()]
    yield from _set_policies(dialect, key, change)
    yield from _announce(dialect, key, change, before, held)


def _changes(dialect: Dialect, thread_id: str, ns: str, checkpoint_id: str, task_id: str,
             change: Change, *, first: bool = False, live: bool = True) -> Ops[None]:
    """`first`: the task stored nothing before, so it has no entries to replace; `live`:
    the schema is the current one, so the entries' policies are stored and their events
    appended (not in the migration that builds the index, which comes before both)."""
    if change.opened is not None:
        yield from _reopen(dialect, (thread_id, ns, checkpoint_id, task_id), change,
                           first=first, live=live)
    yield from queue([Statement(dialect.answer_pending, (answered, thread_id, iid))
                      for iid, answered in change.answers or ()])
    if live:
        yield from queue([Statement(dialect.count_given, (names, thread_id, iid))
                          for iid, names in change.given or ()])


def index_writes(dialect: Dialect, encoded: EncodedWrites, *, first: bool) -> Ops[None]:
    """Update the index for a task's stored writes (in their transaction); `first`: they were
    surely the task's first (Dialect.store_writes)."""
    if encoded.change is not None:
        yield from _changes(dialect, encoded.thread_id, encoded.ns, encoded.checkpoint_id,
                            encoded.task_id, encoded.change, first=first)


def _where(dialect: Dialect, query: PendingQuery, after: tuple[str, str, str] | None
           ) -> tuple[str, tuple[Any, ...]]:
    """list_pending()'s conditions (from the dialect's constant fragments) and parameters."""
    mark = dialect.pending_param
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("graph_id", query.graph_id), ("thread_id", query.thread_id),
                          ("node", query.node), ("group_name", query.group)):
        if value is not None:
            clauses.append(f"p.{column} = {mark}")
            params.append(value)
    if query.assignee is not None:
        clauses.append(f"(p.assignee = {mark} OR p.assignee IS NULL)" if query.unassigned
                       else f"p.assignee = {mark}")
        params.append(query.assignee)
    elif query.unassigned:
        clauses.append("p.assignee IS NULL")
    if query.expired_before is not None:
        clauses.append(f"p.due <= {mark}")  # (an entry without a deadline has due "~")
        params.append(query.expired_before)
    for key, value in query.metadata:
        clause = dialect.filter_clause(key, value)
        if clause is not None:
            clauses.append(clause[0])
            params.extend(clause[1])
    if after is not None:
        if query.order == "deadline":
            clauses.append(f"(p.due, p.thread_id, p.interrupt_id) > ({mark}, {mark}, {mark})")
        else:
            clauses.append(
                f"(p.created_at, p.thread_id, p.interrupt_id) < ({mark}, {mark}, {mark})")
        params.extend(after)
    return " AND ".join(clauses) or dialect.everything, tuple(params)


def stored(row: Sequence[Any]) -> Stored:
    """The index entry of a page's row (Dialect.select_pending's columns)."""
    return Stored(row[0], row[1], row[2], row[3], row[4], row[5], row[9],
                  (row[10], _bytes(row[0], row[3], row[11])), row[12], row[13], row[14],
                  row[15], row[16], row[17],
                  None if row[18] is None else (row[18], _bytes(row[0], row[3], row[19])),
                  row[21])


def _bytes(thread_id: Any, interrupt_id: Any, value: Any) -> bytes:
    try:
        return bytes(value)
    except TypeError as exc:  # a column changed by hand to another type
        raise damaged_entry(thread_id, interrupt_id, exc) from exc


def list_page(dialect: Dialect, serde: SerializerProtocol, query: PendingQuery
              ) -> Ops[list[PendingInterrupt]]:
    """One page of open interrupts in the query's order. One statement reading `limit` index
    rows, unless a metadata filter only Python can decide makes it read on."""
    found: list[PendingInterrupt] = []
    after = query.after
    while True:
        where, params = _where(dialect, query, after)
        wanted = query.limit - len(found)
        sql = dialect.select_pending(where, with_metadata=bool(query.metadata),
                                     order=query.order)
        rows = (yield Statement(sql, (*params, wanted))) or []
        for row in rows:
            if query.metadata and not matches(dialect.load_metadata(serde, row),
                                              query.metadata):
                continue
            found.append(record(serde, stored(row), query.order))
        if len(rows) < wanted or len(found) >= query.limit:
            return found
        last = rows[-1]
        after = (last[20] if query.order == "deadline" else last[9], last[0], last[3])


def _set_policies(dialect: Dialect, key: tuple[str, str, str, str], change: Change
                  ) -> Ops[None]:
    """Store the policy columns of the task's entries asked with a policy."""
    yield from queue([Statement(dialect.set_policy, (*opened.policy, key[0], opened.interrupt_id,
                                                     *key[1:]))
                      for opened in change.opened or () if opened.policy is not None])


def backfill(dialect: Dialect, serde: SerializerProtocol) -> Ops[None]:
    """Migration step: index the open interrupts of an existing database, from the
    `__interrupt__` and `__resume__` writes of each namespace's latest checkpoint (their
    checkpoint's time standing for when they were asked). An interrupt this serializer
    cannot read is left out of the index; its thread still reads and resumes as before."""
    changes: dict[tuple[str, str, str, str], Change] = {}
    for write in (yield from dialect.interrupt_writes()):
        thread_id, ns, checkpoint_id, task_id, path, channel, typed, created_at = write
        try:
            change = change_of(serde, [(channel, serde.loads_typed(typed))], path)
        except Exception:  # e.g. a type this process has not registered
            continue
        if change is None:
            continue
        key = (thread_id, ns, checkpoint_id, task_id)
        before = changes.get(key)
        changes[key] = change._replace(
            created_at=created_at,
            opened=change.opened if change.opened is not None else (
                before.opened if before else None),
            answers=change.answers or (before.answers if before else ()))
    # a subgraph's interrupts first: the engine records them there before its parent's task
    for key in sorted(changes, key=lambda k: k[1] == ""):
        yield from _changes(dialect, *key, changes[key], live=False)



def backfill_policies(dialect: Dialect, serde: SerializerProtocol) -> Ops[None]:
    """Migration step: store the policies of the open entries of a database indexed before
    the index had policy columns, their times counted from each entry's created_at. An
    interrupt this serializer cannot read keeps no policy, as in `backfill`."""
    mark = dialect.pending_param
    for write in (yield from dialect.interrupt_writes()):
        thread_id, ns, checkpoint_id, task_id, _path, channel, typed, _ts = write
        if channel != INTERRUPT:
            continue
        try:
            items = serde.loads_typed(typed)
        except Exception:  # e.g. a type this process has not registered
            continue
        for item in items if isinstance(items, (list, tuple)) else ():
            policy = getattr(item, "policy", None)
            if not isinstance(policy, ReviewPolicy):
                continue
            found = yield Statement(
                f"SELECT created_at FROM {dialect.pending_table} WHERE thread_id = {mark} "
                f"AND interrupt_id = {mark}", (thread_id, item.id))
            if found:
                yield Statement(dialect.set_policy, (
                    *policy_columns(serde, policy, found[0][0]), thread_id, item.id, ns,
                    checkpoint_id, task_id))
