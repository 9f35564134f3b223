"""Checks of the index of open interrupts (hitlgraph.review): list_pending() and
alist_pending() must follow the rule written in hitlgraph.review whatever the saver. A saver
without the capability (not a `review.PendingIndex`) passes them trivially."""

from __future__ import annotations

from typing import Any

from hitlgraph.checkpoint.base import BaseCheckpointSaver, RunnableConfig
from hitlgraph.checkpoint.conformance._helpers import (
    Backend,
    _eq,
    _id,
    _ok,
    _raises,
    conf,
    expecting,
    make_checkpoint,
)
from hitlgraph.review import PendingIndex, PendingInterrupt
from hitlgraph.types import Interrupt

__all__ = [
    "check_async_list_pending",
    "check_pending_closed_by_later_checkpoints",
    "check_pending_opened_answered_and_withdrawn",
    "check_pending_pages_and_filters",
    "check_pending_removed_with_threads",
    "check_pending_subgraph_recorded_once",
]


def _put(saver: BaseCheckpointSaver, thread: str, parent: str | None = None, ns: str = "",
         *, cas: bool = True, **metadata: Any) -> RunnableConfig:
    """A checkpoint of `thread` (compare-and-set against `parent`, as the engine's are)."""
    more = expecting(parent or "") if cas else {}
    return saver.put(conf(thread, ns, parent, **more), make_checkpoint({"x": 1}, {"x": 1}),
                     {"source": "loop", "step": 0, **metadata},  # type: ignore[typeddict-item]
                     {"x": 1})


def _ask(saver: BaseCheckpointSaver, at: RunnableConfig, task: str, node: str,
         *asked: tuple[str, Any]) -> None:
    saver.put_writes(at, [("__interrupt__", [Interrupt(v, id=i) for i, v in asked])], task,
                     node)


_SCHEMA = {"type": "object", "title": "Answer",
           "properties": {"ok": {"type": "boolean"}, "note": {"type": "string"}},
           "required": ["ok"]}
"""A response_schema as interrupt(..., response_schema=...) stores it (keys in their order:
a form shows the fields in it)."""


def _open(saver: BaseCheckpointSaver, **query: Any) -> list[PendingInterrupt]:
    assert isinstance(saver, PendingIndex)
    return list(saver.list_pending(**query))


def _ids(saver: BaseCheckpointSaver, **query: Any) -> list[str]:
    return [p.interrupt_id for p in _open(saver, **query)]


def check_pending_opened_answered_and_withdrawn(saver: BaseCheckpointSaver,
                                                backend: Backend) -> None:
    """An `__interrupt__` write opens its interrupts (record fields as written, an
    interrupt's response_schema with its keys in order); a second one of the task replaces
    them; a claimed answer closes one, a withdrawn answer reopens it; other writes change
    nothing."""
    if not isinstance(saver, PendingIndex):
        return
    at = _put(saver, "t", graph_id="support", team="a")
    saver.put_writes(at, [("x", 2)], "other-task", "other")
    _ask(saver, at, "task-1", "review", ("i1", {"q": "ok?"}))
    [found] = _open(saver)
    _eq((found.thread_id, found.checkpoint_ns, found.checkpoint_id, found.interrupt_id,
         found.node, found.value, found.response_schema, found.graph_id),
        ("t", "", _id(at), "i1", "review", {"q": "ok?"}, None, "support"), "the record")
    _ok(found.created_at[:4].isdigit() and found.created_at.endswith("+00:00"),
        f"created_at is ISO 8601 in UTC: {found.created_at!r}")
    saver.put_writes(at, [("__interrupt__", [
        Interrupt("next?", id="i2", response_schema=_SCHEMA), Interrupt("and?", id="i3")])],
        "task-1", "review")
    _eq(sorted(_ids(saver)), ["i2", "i3"], "a task's second interrupt write replaces its first")
    schemas = {p.interrupt_id: p.response_schema for p in _open(saver)}
    _eq(schemas, {"i2": _SCHEMA, "i3": None}, "each record's response_schema")
    _eq(list(schemas["i2"] or {}), list(_SCHEMA), "the response_schema's keys, in order")
    saver.put_writes(at, [("__resume__", [["i2", "yes", True]])], "task-1", "review")
    _eq(_ids(saver), ["i3"], "after i2's answer was claimed")
    saver.put_writes(at, [("__resume__", [["i2", "yes", True], ["i2", None, False]])],
                     "task-1", "review")
    _eq(sorted(_ids(saver)), ["i2", "i3"], "after i2's answer was withdrawn")


def check_pending_closed_by_later_checkpoints(saver: BaseCheckpointSaver,
                                              backend: Backend) -> None:
    """A newer checkpoint of the thread and namespace closes them: the next step's (with the
    compare-and-set), update_state's (without), a fork's (child of an older checkpoint)."""
    if not isinstance(saver, PendingIndex):
        return
    first = _put(saver, "t")
    _ask(saver, first, "task", "n", ("a", 1))
    _put(saver, "bystander")
    _ask(saver, _put(saver, "other"), "task", "n", ("b", 1))
    second = _put(saver, "t", _id(first))
    _eq(_ids(saver), ["b"], "after the next checkpoint")
    _ask(saver, second, "task", "n", ("c", 1))
    third = _put(saver, "t", _id(second), cas=False)
    _eq(_ids(saver), ["b"], "after a checkpoint written without compare-and-set")
    _ask(saver, third, "task", "n", ("d", 1))
    _put(saver, "t", _id(first), cas=False)  # a fork: the child of an older checkpoint
    _eq(_ids(saver), ["b"], "after a fork")


def check_pending_subgraph_recorded_once(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """An interrupt a subgraph raised (written by its task, then by the parent's task) is one
    record, the subgraph's; the subgraph's next checkpoint or the root's closes it."""
    if not isinstance(saver, PendingIndex):
        return
    root = _put(saver, "t", graph_id="g")
    child = _put(saver, "t", ns="sub:1", graph_id="g")
    _ask(saver, child, "inner-task", "inner", ("i", "why?"))
    _ask(saver, root, "outer-task", "sub", ("i", "why?"))
    [found] = _open(saver)
    _eq((found.checkpoint_ns, found.node, found.checkpoint_id), ("sub:1", "inner", _id(child)),
        "where the interrupt was raised")
    _put(saver, "t", _id(child), ns="sub:1")
    _eq(_ids(saver), [], "after the subgraph's next checkpoint")
    _ask(saver, _put(saver, "t", "", ns="sub:2", cas=False), "inner-task", "inner", ("j", 1))
    _put(saver, "t", _id(root))
    _eq(_ids(saver), [], "after the root namespace's next checkpoint")


def check_pending_removed_with_threads(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """delete_thread() closes a thread's; rewind() to a checkpoint closes what came after it
    and reopens the interrupts of the writes it is given."""
    if not isinstance(saver, PendingIndex):
        return
    first = _put(saver, "t")
    _ask(saver, first, "task-1", "n", ("old", 1))
    asked = saver.get_tuple(first)
    assert asked is not None
    second = _put(saver, "t", _id(first))
    _ask(saver, second, "task-2", "n", ("new", 2))
    _ask(saver, _put(saver, "kept"), "task", "n", ("kept", 3))
    saver.rewind(first, list(asked.pending_writes or ()))
    _eq(sorted(_ids(saver)), ["kept", "old"], "after rewind")
    saver.delete_thread("t")
    _eq(_ids(saver), ["kept"], "after delete_thread")


def check_pending_pages_and_filters(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Newest first; `after` continues a listing page by page (no record twice, none left
    out); graph_id, thread_id, node and metadata filter; a bad cursor or limit is a
    ValueError naming it."""
    if not isinstance(saver, PendingIndex):
        return
    for i in range(7):
        at = _put(saver, f"t{i}", graph_id="even" if i % 2 == 0 else "odd", n=i)
        _ask(saver, at, "task", f"node{i % 3}", (f"i{i}", i))
    everything = _open(saver, limit=100)
    _eq([p.interrupt_id for p in everything], [f"i{i}" for i in range(6, -1, -1)],
        "newest first")
    pages: list[str] = []
    after = None
    while True:
        page = _open(saver, limit=3, after=after)
        pages += [p.interrupt_id for p in page]
        if len(page) < 3:
            break
        after = page[-1].cursor
    _eq(pages, [p.interrupt_id for p in everything], "page by page")
    _eq(_ids(saver, graph_id="odd"), ["i5", "i3", "i1"], "graph_id")
    _eq(_ids(saver, thread_id="t4"), ["i4"], "thread_id")
    _eq(_ids(saver, node="node0"), ["i6", "i3", "i0"], "node")
    _eq(_ids(saver, metadata={"n": 2}), ["i2"], "metadata")
    _eq(_ids(saver, metadata={"graph_id": "even"}, limit=2), ["i6", "i4"], "metadata, limit")
    _eq(_ids(saver, graph_id="none"), [], "no match")
    with _raises(ValueError, "a bad cursor") as caught:
        _open(saver, after="not-a-cursor")
    _ok("not-a-cursor" in str(caught[0]), f"the error names the cursor: {caught[0]}")
    with _raises(ValueError, "limit 0"):
        _open(saver, limit=0)


async def check_async_list_pending(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """alist_pending() yields what list_pending() does."""
    if not isinstance(saver, PendingIndex):
        return
    for i in range(3):
        at = await saver.aput(conf(f"t{i}"), make_checkpoint({"x": 1}, {"x": 1}),
                              {"graph_id": "g"}, {"x": 1})  # type: ignore[typeddict-unknown-key]
        await saver.aput_writes(at, [("__interrupt__", [Interrupt(i, id=f"i{i}")])], "task",
                                "n")
    got = [p async for p in saver.alist_pending(graph_id="g", limit=2)]
    _eq([(p.interrupt_id, p.value) for p in got], [("i2", 2), ("i1", 1)], "a page")
    rest = [p async for p in saver.alist_pending(limit=5, after=got[-1].cursor)]
    _eq([p.interrupt_id for p in rest], ["i0"], "the next page")
