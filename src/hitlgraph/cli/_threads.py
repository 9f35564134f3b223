"""What each thread of a saver waits for, read from its checkpoints (no graph code needed), or
from a graph's get_state() when one is given."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, NamedTuple

from hitlgraph.channels.delta import stored_view
from hitlgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._errors import CliError, ExitCode, tampered_is_exit_6
from hitlgraph.cli._jsonable import to_jsonable
from hitlgraph.constants import ERROR, INTERRUPT, RESUME, TASK_RESULT, TASKS
from hitlgraph.pregel._algo import answers_in_force
from hitlgraph.review import PendingIndex
from hitlgraph.review import PendingInterrupt as IndexedInterrupt
from hitlgraph.types import StateSnapshot

__all__ = [
    "DEFAULT_LIMIT",
    "GRAPH_KEY",
    "PendingFilter",
    "PendingInterrupt",
    "ThreadPage",
    "ThreadSummary",
    "answers_given",
    "history_rows",
    "paused_threads",
    "pending_from_writes",
    "recorded_graph",
    "summary_from_snapshot",
    "summary_from_tuple",
    "thread_page",
    "thread_summary",
    "visible_values",
]

_SPECIAL = frozenset({INTERRUPT, RESUME, ERROR, TASK_RESULT})

GRAPH_KEY = "hitlgraph_graph"
"""The checkpoint metadata key holding the MODULE:GRAPH a `hitlgraph` command ran the thread
with (from the run config's "metadata"), so later commands need no --graph."""


class PendingInterrupt(NamedTuple):
    """An interrupt waiting for an answer. (This module's records are NamedTuples: a frozen
    dataclass costs five times as much to build at import, before the first prompt.)"""

    id: str
    value: Any
    node: str | None = None
    """The node that asked (known when read through the graph)."""


class ThreadSummary(NamedTuple):
    """A thread as its latest checkpoint shows it.

    Attributes:
        next: nodes that run next (from the checkpoint's triggers without a graph; exact with
            one). Empty when the run is done.
        interrupts: questions waiting for an answer.
        errors: errors of nodes that failed in the step after the checkpoint.
    """

    thread_id: str
    checkpoint_id: str | None
    created_at: str | None
    step: int | None
    source: str | None
    next: tuple[str, ...]
    values: Any = None
    interrupts: tuple[PendingInterrupt, ...] = ()
    errors: tuple[str, ...] = ()
    graph: str | None = None
    """The MODULE:GRAPH recorded in the checkpoint's metadata (see GRAPH_KEY), if any."""

    @property
    def status(self) -> str:
        """"paused" (waits for answers), "failed" (a node raised), "stopped" (more to run: a
        breakpoint or a stopped process) or "done"."""
        if self.interrupts:
            return "paused"
        if self.errors:
            return "failed"
        return "stopped" if self.next else "done"

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data (values excluded)."""
        return {
            "thread_id": self.thread_id,
            "status": self.status,
            "checkpoint_id": self.checkpoint_id,
            "created_at": self.created_at,
            "step": self.step,
            "next": list(self.next),
            "interrupts": [{"id": i.id, "node": i.node, "value": i.value}
                           for i in self.interrupts],
            "errors": list(self.errors),
            "graph": self.graph,
        }


def pending_from_writes(writes: list[tuple[str, str, Any]] | None
                        ) -> tuple[tuple[PendingInterrupt, ...], tuple[str, ...]]:
    """The open interrupts and the errors in a checkpoint's pending writes.

    An interrupt is open when its task wrote it ("__interrupt__"), no "__resume__" write of the
    task answers its id, and the task has no normal write (it has not finished).
    """
    asked: dict[str, list[Any]] = {}
    answered: dict[str, set[str]] = {}
    finished: set[str] = set()
    errors: dict[str, str] = {}
    for task_id, channel, value in writes or ():
        if channel == INTERRUPT:
            asked[task_id] = list(value or ())
        elif channel == RESUME:
            answered.setdefault(task_id, set()).update(str(k) for k in _answers(value))
        elif channel == ERROR:
            errors[task_id] = str(value)
        elif channel not in _SPECIAL:
            finished.add(task_id)
    out: list[PendingInterrupt] = []
    for task_id, items in asked.items():
        if task_id in finished:
            continue
        for item in items:
            iid = str(getattr(item, "id", ""))
            if iid not in answered.get(task_id, set()):
                out.append(PendingInterrupt(iid, getattr(item, "value", item)))
    failed = tuple(text for task_id, text in errors.items() if task_id not in finished)
    return tuple(out), failed


def _answers(resume: Any) -> dict[str, Any]:
    """The answers in force in a "__resume__" write: a log of [id, answer, in force] entries,
    or a plain {id: answer} dict."""
    if isinstance(resume, dict):
        return resume
    if isinstance(resume, list):
        return answers_in_force(resume)
    return {}


def answers_given(saver: BaseCheckpointSaver, thread_id: str) -> list[Any]:
    """The answers the thread's unfinished tasks have had so far, in the order given (a node
    asking several questions in turn has these behind it)."""
    tup = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
    writes = tup.pending_writes if tup is not None else None
    done = {task for task, channel, _ in writes or () if channel not in _SPECIAL}
    return [answer for task, channel, value in writes or ()
            if channel == RESUME and task not in done for answer in _answers(value).values()]


def visible_values(tup: CheckpointTuple) -> dict[str, Any]:
    """The checkpoint's state keys, without the engine's own channels (a DeltaChannel's as its
    snapshot and the updates since: folding them needs the graph's reducer)."""
    return {
        key: stored_view(value) for key, value in tup.checkpoint["channel_values"].items()
        if not key.startswith(("__", "branch:to:", "join:"))
    }


def summary_from_tuple(tup: CheckpointTuple) -> ThreadSummary:
    """The summary of a thread whose latest checkpoint is `tup`."""
    interrupts, errors = pending_from_writes(tup.pending_writes)
    checkpoint = tup.checkpoint
    next_ = list(checkpoint.get("triggers") or ())
    next_ += [getattr(s, "node", str(s)) for s in checkpoint["channel_values"].get(TASKS, ())]
    conf = tup.config["configurable"]
    step = tup.metadata.get("step")
    if len(set(next_)) == 1:  # one node runs next: every open interrupt is its
        interrupts = tuple(PendingInterrupt(i.id, i.value, next_[0]) for i in interrupts)
    return ThreadSummary(
        thread_id=str(conf["thread_id"]), checkpoint_id=conf.get("checkpoint_id"),
        created_at=checkpoint.get("ts"), step=int(step) if step is not None else None,
        source=tup.metadata.get("source"), next=tuple(dict.fromkeys(next_)),
        values=visible_values(tup), interrupts=interrupts, errors=errors,
        graph=_graph_in(tup.metadata),
    )


def summary_from_snapshot(thread_id: str, snap: StateSnapshot) -> ThreadSummary:
    """The summary of a thread from a graph's get_state() (exact next and interrupts)."""
    by_id = {i.id: task.name for task in snap.tasks for i in task.interrupts}
    errors = tuple(str(task.error) for task in snap.tasks if task.error is not None)
    meta = snap.metadata or {}
    step = meta.get("step")
    return ThreadSummary(
        thread_id=thread_id,
        checkpoint_id=snap.config.get("configurable", {}).get("checkpoint_id"),
        created_at=snap.created_at, step=int(step) if step is not None else None,
        source=meta.get("source"), next=tuple(snap.next), values=snap.values,
        interrupts=tuple(PendingInterrupt(i.id, i.value, by_id.get(i.id))
                         for i in snap.interrupts),
        errors=errors, graph=_graph_in(meta),
    )


def _graph_in(metadata: Any) -> str | None:
    spec = (metadata or {}).get(GRAPH_KEY)
    return spec if isinstance(spec, str) and spec else None


def recorded_graph(saver: BaseCheckpointSaver, thread_id: str) -> str | None:
    """The MODULE:GRAPH last recorded in the thread's checkpoints, or None (a thread run
    elsewhere, e.g. from Python)."""
    for tup in saver.list({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}):
        spec = _graph_in(tup.metadata)
        if spec is not None:
            return spec
    return None


DEFAULT_LIMIT = 50
"""How many threads `hitlgraph threads` lists when --limit is not given (one page)."""


class ThreadPage(NamedTuple):
    """One page of `hitlgraph threads`."""

    threads: list[ThreadSummary]
    more: str | None
    """The --after cursor of the next page; None when this page is the last."""


def thread_page(saver: SqliteSaver, *, limit: int = DEFAULT_LIMIT,
                after: str | None = None) -> ThreadPage:
    """A page of the saver's threads by id (`hitlgraph threads`): the ids from one indexed
    read (list_threads), then each listed thread's latest checkpoint decoded; what the
    database holds beyond the page is never read."""
    with tampered_is_exit_6():
        infos = list(saver.list_threads(limit=limit + 1, after=after))
        found = [saver.get_tuple({"configurable": {"thread_id": info.thread_id,
                                                   "checkpoint_ns": ""}})
                 for info in infos[:limit]]
        summaries = [summary_from_tuple(tup) for tup in found if tup is not None]
    return ThreadPage(summaries, infos[limit - 1].cursor if len(infos) > limit else None)


class PendingFilter(NamedTuple):
    """Which waiting questions `hitlgraph threads --pending` lists (the index's own filters:
    see `hitlgraph.review.PendingIndex.list_pending`)."""

    assignee: str | None = None
    group: str | None = None
    unassigned: bool = False
    overdue: bool = False
    """Only questions whose deadline (interrupt(..., expires_in=)) has passed, the longest
    overdue first."""

    def query(self) -> dict[str, Any]:
        """list_pending()'s keyword arguments for this filter."""
        if not self.overdue:
            return {"assignee": self.assignee, "group": self.group,
                    "unassigned": self.unassigned}
        return {"assignee": self.assignee, "group": self.group, "unassigned": self.unassigned,
                "expired_before": datetime.now(timezone.utc), "order": "deadline"}

    def __bool__(self) -> bool:
        return bool(self.assignee or self.group or self.unassigned or self.overdue)


_INDEX_PAGE = 200
"""How many index records `paused_threads` reads per statement."""


def paused_threads(saver: PendingIndex, *, limit: int = DEFAULT_LIMIT,
                   after: str | None = None, only: PendingFilter | None = None) -> ThreadPage:
    """The threads waiting for an answer, newest question first (`hitlgraph threads
    --pending`): read from the saver's index of open interrupts, a page at a time, until
    `limit` threads are found, without decoding any checkpoint. A summary made from the
    index knows the questions, their nodes and the graph, not the step or the values (step
    None, values None). The next page starts after the last question read, so a thread
    whose questions are spread over two pages shows on both.

    Args:
        limit: at most this many threads.
        after: the `more` cursor of the previous page.
        only: list only the questions this filter lets through.

    Raises:
        CliError: `after` is not a cursor of this listing (USAGE).
    """
    query = (only or PendingFilter()).query()
    asked: dict[str, list[IndexedInterrupt]] = {}
    more: str | None = None
    try:
        for item in _open_questions(saver, after, query):
            if item.thread_id not in asked and len(asked) == limit:
                break
            asked.setdefault(item.thread_id, []).append(item)
            more = item.cursor
        else:
            more = None
    except ValueError as exc:
        raise CliError(f"--after {after!r} is not a cursor of this listing ({exc}). Pass the "
                       "one the previous page printed, with the same filters.",
                       ExitCode.USAGE) from None
    return ThreadPage([_summary_from_index(thread_id, items) for thread_id, items in
                       asked.items()], more)


def _open_questions(saver: PendingIndex, after: str | None, query: dict[str, Any]
                    ) -> Iterator[IndexedInterrupt]:
    """The index's records in its order, read a page at a time as they are consumed."""
    while True:
        page = list(saver.list_pending(limit=_INDEX_PAGE, after=after, **query))
        yield from page
        if len(page) < _INDEX_PAGE:
            return
        after = page[-1].cursor


def _summary_from_index(thread_id: str, items: list[IndexedInterrupt]) -> ThreadSummary:
    root = next((i for i in items if not i.checkpoint_ns), items[0])
    return ThreadSummary(
        thread_id=thread_id, checkpoint_id=root.checkpoint_id, created_at=items[0].created_at,
        step=None, source=None,
        next=tuple(dict.fromkeys(i.node for i in items if i.node is not None)),
        interrupts=tuple(PendingInterrupt(i.interrupt_id, i.value, i.node) for i in items),
        graph=root.graph_id)


def thread_summary(saver: BaseCheckpointSaver, thread_id: str) -> ThreadSummary | None:
    """The summary of one thread, or None when the saver has no checkpoint of it."""
    with tampered_is_exit_6():
        tup = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
    return summary_from_tuple(tup) if tup is not None else None


def history_rows(saver: BaseCheckpointSaver, thread_id: str,
                 limit: int | None = None) -> list[dict[str, Any]]:
    """The thread's checkpoints, newest first, as JSON-ready rows (`hitlgraph history`)."""
    rows = []
    for tup in saver.list({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}},
                          limit=limit):
        s = summary_from_tuple(tup)
        parent = (tup.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        rows.append({
            "checkpoint_id": s.checkpoint_id, "parent_checkpoint_id": parent,
            "step": s.step, "source": s.source, "created_at": s.created_at,
            "writers": list(tup.checkpoint.get("writers") or ()), "next": list(s.next),
            "interrupts": [{"id": i.id, "value": to_jsonable(i.value)} for i in s.interrupts],
            "values": to_jsonable(s.values), "graph": s.graph,
        })
    return rows
