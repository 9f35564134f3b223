"""apply_expired(): carry out the review policies that are due, once each, however many
processes call it at once.

What makes each policy happen once:

- `Expire.answer(value)` resumes the thread through the graph with
  `Command(resume={id: value}, by="policy", reason="expired: default answer")`, so its node
  runs as it would for a person's answer. The resume's claim of the answer is the
  compare-and-set: of several callers (or a person answering at the same moment) one wins,
  the others find the interrupt answered ("skipped").
- `Expire.cancel()` and `Expire.escalate(...)` change the index entry compare-and-set on the
  deadline they saw (the saver's apply_expiry), logged by "policy". The caller that won a
  cancel then ends the run through the graph: `update_state(..., None, as_node=END)` drops
  the thread's tasks and keeps its values, in a checkpoint whose metadata says why
  ("expired_interrupt": the interrupt id, "expired_reason": "expired: <reason>"), which
  get_state shows. Without a graph, or if the process stops in between, the thread stays
  paused with the interrupt closed (answers refused) and the decision log says why.
- `warn_before` appends an "interrupt.warning" event once (the saver's send_warning sets the
  entry's warned flag compare-and-set).

It reads and writes through the saver's methods only (a leaf of hitlgraph.review: no import
of the savers' modules, which import this package).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from hitlgraph._control import Command
from hitlgraph._policy import POLICY_BY, Expire, cancel_reason
from hitlgraph.constants import END
from hitlgraph.errors import CheckpointConflictError, InvalidAnswerError, ResumeError
from hitlgraph.review._assignment import InterruptNotOpenError
from hitlgraph.review._decisions import Decision
from hitlgraph.review._pending import PendingIndex, PendingInterrupt
from hitlgraph.review._times import as_time, utc_now

__all__ = ["PAGES", "PolicyApplied", "PolicyResult", "aapply_expired", "apply_expired"]

PolicyResult = Literal["answered", "cancelled", "escalated", "warned", "skipped", "failed"]
"""What apply_expired did with one due interrupt:

- "answered": resumed with the default answer (its node ran).
- "cancelled": closed unanswered (`Expire.cancel()`) and, given a graph, the run ended; the
  decision log says "expired".
- "escalated": reassigned, with its new deadline (`Expire.escalate(...)`).
- "warned": its "interrupt.warning" event was appended.
- "skipped": another caller, or a person, got there first.
- "failed": the default answer was refused (it does not match the response_schema) or the
  node failed; `detail` says why. The interrupt stays open, and is tried again next time.
"""
PAGES = 10
"""Pages of `limit` due interrupts one call looks through at most (due interrupts without
an `on_expire` are passed over: they only show as overdue)."""
ANSWER_REASON = "expired: default answer"
NO_GRAPH = "no graph was given to resume the thread with its default answer"


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyApplied:
    """One thing apply_expired did."""

    thread_id: str
    checkpoint_ns: str
    interrupt_id: str
    result: PolicyResult
    detail: str | None = None
    """Why it failed, whom an escalation went to, or why a cancelled run was not ended."""
    decision: Decision | None = None
    """The decision log's row, for "cancelled" and "escalated" (an answer's row is written
    by the resume: read it with list_decisions(thread_id=...))."""


def _saver_and_graph(graph: Any, saver: Any) -> tuple[Any, Any]:
    """The saver to read (the graph's checkpointer unless given) and a graph that resumes
    through it (None: none was given)."""
    if saver is None:
        saver = getattr(graph, "checkpointer", None)
    if not isinstance(saver, PendingIndex) or not hasattr(saver, "apply_expiry"):
        raise TypeError(
            f"apply_expired needs a saver with an index of open interrupts (every saver "
            f"hitlgraph ships), got {type(saver).__name__}. Compile the graph with one, e.g. "
            "builder.compile(checkpointer=SqliteSaver.from_conn_string('db.sqlite')), or "
            "pass saver=.")
    if graph is not None and getattr(graph, "checkpointer", None) is not saver:
        graph = copy.copy(graph)
        graph.checkpointer = saver
    return graph, saver


def _rule(item: PendingInterrupt) -> Expire | None:
    """The due interrupt's on_expire (None: none)."""
    return item.policy.on_expire if item.policy is not None else None


def _applied(item: PendingInterrupt, done: Any) -> PolicyApplied:
    """The record of an apply_expiry's outcome (None: another caller did it)."""
    rule = _rule(item)
    if done is None or rule is None:
        return _result(item, "skipped")
    if rule.kind == "cancel":
        return _result(item, "cancelled", None, done.decisions[0])
    return _result(item, "escalated", rule.to, done.decisions[0])


def _result(item: PendingInterrupt, result: PolicyResult, detail: str | None = None,
            decision: Decision | None = None) -> PolicyApplied:
    return PolicyApplied(thread_id=item.thread_id, checkpoint_ns=item.checkpoint_ns,
                         interrupt_id=item.interrupt_id, result=result, detail=detail,
                         decision=decision)


def _resume(item: PendingInterrupt) -> tuple[Command[Any], dict[str, Any]]:
    rule = _rule(item)
    value = rule.value if rule is not None else None
    return (Command(resume={item.interrupt_id: value}, by=POLICY_BY, reason=ANSWER_REASON),
            {"configurable": {"thread_id": item.thread_id}})


def _ending(item: PendingInterrupt) -> dict[str, Any]:
    """The config of the update that ends a cancelled interrupt's run: its metadata says
    which interrupt's deadline ended it, and why."""
    rule = _rule(item)
    return {"configurable": {"thread_id": item.thread_id},
            "metadata": {"expired_interrupt": item.interrupt_id,
                         "expired_reason": cancel_reason(rule) if rule else "expired"}}


def _expiring(item: PendingInterrupt) -> Expire | None:
    """The rule to apply to the due interrupt through the index (None: resume it with its
    default answer instead)."""
    rule = _rule(item)
    if rule is not None and rule.kind != "answer" and item.expires_at is not None:
        return rule
    return None


def _raised(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Exception | None:
    """What call(*args, **kwargs) raised, or None. Recorded, not raised: one thread's
    failure must not stop the others (and a cancel's interrupt is closed all the same)."""
    try:
        call(*args, **kwargs)
    except Exception as exc:
        return exc
    return None


async def _araised(call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
                   ) -> Exception | None:
    """_raised() of a call that returns an awaitable."""
    try:
        await call(*args, **kwargs)
    except Exception as exc:
        return exc
    return None


def _ends(graph: Any, applied: PolicyApplied) -> bool:
    """Whether to end the run after `applied` (a cancel this caller won, and a graph)."""
    return graph is not None and applied.result == "cancelled"


def _ended(applied: PolicyApplied, error: BaseException | None) -> PolicyApplied:
    """A cancel after the attempt to end its run: as it was, or with why the run was not
    ended in its `detail`."""
    if error is None:
        return applied
    return dataclasses.replace(applied, detail=f"the interrupt is closed, but its run was not "
                               f"ended: {type(error).__name__}: {error}")


def _answered(item: PendingInterrupt, error: BaseException | None) -> PolicyApplied:
    """The record of a default answer's resume, by what it raised (None: nothing)."""
    if error is None:
        return _result(item, "answered")
    if isinstance(error, InvalidAnswerError):
        return _result(item, "failed", f"the default answer was refused: {error}")
    if isinstance(error, (ResumeError, CheckpointConflictError, InterruptNotOpenError)):
        return _result(item, "skipped")
    return _result(item, "failed", f"{type(error).__name__}: {error}")


def _due(saver: Any, at: str, limit: int, graph_id: str | None) -> list[PendingInterrupt]:
    """The due interrupts that have an on_expire, nearest deadline first, at most `limit`
    (looking through at most PAGES pages)."""
    found: list[PendingInterrupt] = []
    after = None
    for _ in range(PAGES):
        page = list(saver.list_pending(expired_before=at, order="deadline", limit=limit,
                                       after=after, graph_id=graph_id))
        found.extend(p for p in page if p.policy is not None and p.policy.on_expire)
        if len(page) < limit or len(found) >= limit:
            break
        after = page[-1].cursor
    return found[:limit]


def _check(now: str | datetime | None, limit: int) -> str:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit={limit!r} must be an int of at least 1.")
    return as_time("now", now) or utc_now()


def apply_expired(graph: Any, saver: Any = None, *, now: str | datetime | None = None,
                  limit: int = 100, graph_id: str | None = None) -> list[PolicyApplied]:
    """Carry out the review policies due at `now`: warnings whose time came, then the
    `on_expire` of each interrupt whose deadline passed (see the module docstring for how
    each happens once, even with several processes calling this at once).

    Args:
        graph: the compiled graph the threads run (an answer resumes through it); None with
            a `saver`: default answers are not given ("failed"), the other policies are.
        saver: the saver whose index to read (default: the graph's checkpointer).
        now: the time to judge by (an aware datetime or ISO 8601 text; default: now).
        limit: at most this many warnings, and this many due interrupts, per call.
        graph_id: only the interrupts of threads run with this graph (as list_pending()'s
            graph_id): where threads of several graphs share a saver, each graph's own.

    Returns:
        What was done, one record per interrupt touched.

    Raises:
        TypeError: no saver with an index of open interrupts.
        ValueError: `limit` below 1, or `now` without a time zone.

    Example:
        >>> from hitlgraph.review import apply_expired
        >>> for done in apply_expired(graph):  # doctest: +SKIP
        ...     print(done.thread_id, done.result)
    """
    at = _check(now, limit)
    graph, saver = _saver_and_graph(graph, saver)
    done: list[PolicyApplied] = []
    for thread_id, interrupt_id, warn_at in saver.warnings_due(at, limit):
        if _open(saver.send_warning, thread_id, interrupt_id, warn_at=warn_at):
            done.append(PolicyApplied(thread_id=thread_id, checkpoint_ns="",
                                      interrupt_id=interrupt_id, result="warned"))
    for item in _due(saver, at, limit, graph_id):
        rule = _expiring(item)
        if rule is None:
            done.append(_answered(item, _raised(graph.invoke, *_resume(item)))
                        if graph is not None else _result(item, "failed", NO_GRAPH))
            continue
        done.append(_applied(item, _open(saver.apply_expiry, item.thread_id, item.interrupt_id,
                                         deadline=item.expires_at, rule=rule)))
        if _ends(graph, done[-1]):
            done[-1] = _ended(done[-1], _raised(
                graph.update_state, _ending(item), None, as_node=END))
    return done


def _open(change: Any, *args: Any, **kwargs: Any) -> Any:
    """What an index change returned; None when the interrupt closed since it was listed."""
    try:
        return change(*args, **kwargs)
    except InterruptNotOpenError:
        return None


async def aapply_expired(graph: Any, saver: Any = None, *, now: str | datetime | None = None,
                         limit: int = 100, graph_id: str | None = None
                         ) -> list[PolicyApplied]:
    """apply_expired() for asyncio programs: the graph resumes with ainvoke, the saver's
    async methods read and write the index."""
    at = _check(now, limit)
    graph, saver = _saver_and_graph(graph, saver)
    done: list[PolicyApplied] = []
    for thread_id, interrupt_id, warn_at in await saver.awarnings_due(at, limit):
        if await _aopen(saver.asend_warning(thread_id, interrupt_id, warn_at=warn_at)):
            done.append(PolicyApplied(thread_id=thread_id, checkpoint_ns="",
                                      interrupt_id=interrupt_id, result="warned"))
    for item in await _adue(saver, at, limit, graph_id):
        rule = _expiring(item)
        if rule is None:
            done.append(_answered(item, await _araised(graph.ainvoke, *_resume(item)))
                        if graph is not None else _result(item, "failed", NO_GRAPH))
            continue
        done.append(_applied(item, await _aopen(saver.aapply_expiry(
            item.thread_id, item.interrupt_id, deadline=item.expires_at, rule=rule))))
        if _ends(graph, done[-1]):
            done[-1] = _ended(done[-1], await _araised(
                graph.aupdate_state, _ending(item), None, as_node=END))
    return done


async def _aopen(change: Any) -> Any:
    """_open() of an awaitable."""
    try:
        return await change
    except InterruptNotOpenError:
        return None


async def _adue(saver: Any, at: str, limit: int, graph_id: str | None
                ) -> list[PendingInterrupt]:
    """_due() over alist_pending()."""
    found: list[PendingInterrupt] = []
    after = None
    for _ in range(PAGES):
        page = [p async for p in saver.alist_pending(
            expired_before=at, order="deadline", limit=limit, after=after, graph_id=graph_id)]
        found.extend(p for p in page if p.policy is not None and p.policy.on_expire)
        if len(page) < limit or len(found) >= limit:
            break
        after = page[-1].cursor
    return found[:limit]
