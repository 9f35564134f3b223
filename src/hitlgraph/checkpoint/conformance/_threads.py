"""Checks of list_threads() / alist_threads() (for a saver that is a
checkpoint.base.ThreadListing): which threads, in which order, their latest top-level
checkpoint, pages, literal prefixes, and argument errors."""

from __future__ import annotations

from hitlgraph.checkpoint.base import BaseCheckpointSaver, ThreadInfo, ThreadListing
from hitlgraph.checkpoint.conformance._helpers import (
    EVIL,
    Backend,
    _eq,
    _id,
    _raises,
    chain,
    conf,
    make_checkpoint,
)

_NAMES = ("b", "a", "a%b", "a_b", "axb", "A", "é", "\uffff", "\U0001f600", EVIL)
"""Thread ids whose code point order differs from case-insensitive, LIKE or UTF-16 order."""


def _listed(found: list[ThreadInfo]) -> list[str]:
    return [info.thread_id for info in found]


def _threads(saver: BaseCheckpointSaver) -> dict[str, str]:
    """The _NAMES threads, three top-level checkpoints each, and subgraph checkpoints that
    must change nothing; returns each thread's latest top-level checkpoint id."""
    latest = {name: _id(chain(saver, name, 3)[-1]) for name in _NAMES}
    chain(saver, "a", 2, ns="child:1")
    chain(saver, "only-a-subgraph", 1, ns="child:1")
    return latest


def check_list_threads(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """list_threads(): every thread with a top-level checkpoint, by id in code point order,
    with its latest top-level checkpoint's id and time; pages through `after`; `prefix`
    taken literally (no wildcard, case-sensitive); deleted threads gone; bad arguments
    refused before anything is read."""
    if not isinstance(saver, ThreadListing):
        return
    _eq(list(saver.list_threads()), [], "threads of an empty saver")
    latest = _threads(saver)
    found = list(saver.list_threads(limit=100))
    _eq(_listed(found), sorted(_NAMES), "every thread, by id")
    _eq([info.checkpoint_id for info in found], [latest[t] for t in sorted(_NAMES)],
        "each thread's latest top-level checkpoint")
    for info in found:
        tup = saver.get_tuple(conf(info.thread_id))
        assert tup is not None
        _eq(info.created_at, tup.checkpoint["ts"], f"the time of {info.thread_id!r}'s latest")
    paged: list[str] = []
    after: str | None = None
    for _ in range(len(_NAMES)):
        page = list(saver.list_threads(limit=3, after=after))
        paged += _listed(page)
        if len(page) < 3:
            break
        after = page[-1].cursor
    _eq(paged, sorted(_NAMES), "pages of 3 through `after`")
    for prefix, expected in (("a", ["a", "a%b", "a_b", "axb"]), ("a%", ["a%b"]),
                             ("a_", ["a_b"]), ("A", ["A"]), (EVIL[:3], [EVIL]), ("zz", [])):
        _eq(_listed(list(saver.list_threads(prefix=prefix))), expected, f"prefix {prefix!r}")
    _eq(_listed(list(saver.list_threads(prefix="a", limit=2))), ["a", "a%b"], "prefix, limit")
    _eq(_listed(list(saver.list_threads(prefix="a", after="a%b"))), ["a_b", "axb"],
        "prefix after a cursor")
    _eq(_listed(list(saver.list_threads(prefix="a", after="0"))), ["a", "a%b", "a_b", "axb"],
        "a cursor before the prefix's ids")
    _eq(_listed(list(saver.list_threads(prefix="a", after="b"))), [], "a cursor past them")
    newer = saver.put(conf("b", "", latest["b"]), make_checkpoint({"b": 9}, {"b": 9}),
                      {"source": "loop", "step": 9}, {"b": 9})
    _eq([i.checkpoint_id for i in saver.list_threads(prefix="b")], [_id(newer)],
        "the latest after another put")
    saver.delete_thread("a")
    _eq(_listed(list(saver.list_threads(prefix="a"))), ["a%b", "a_b", "axb"], "after delete")
    for bad, exc_type in (({"limit": 0}, ValueError), ({"limit": "5"}, TypeError),
                          ({"prefix": 5}, TypeError), ({"after": 5}, TypeError)):
        with _raises(exc_type, f"list_threads(**{bad!r})"):
            saver.list_threads(**bad)


async def check_async_list_threads(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """alist_threads() gives what list_threads() gives, pages and prefixes included."""
    if not isinstance(saver, ThreadListing):
        return
    latest: dict[str, str] = {}
    for name in _NAMES:
        parent: str | None = None
        for step in range(2):
            config = await saver.aput(conf(name, "", parent), make_checkpoint({"b": step},
                                      {"b": step + 1}), {"source": "loop", "step": step},
                                      {"b": step + 1})
            parent = latest[name] = _id(config)
    await saver.aput(conf("only-a-subgraph", "child:1"), make_checkpoint({}, {}), {}, {})
    found = [info async for info in saver.alist_threads(limit=100)]
    _eq(_listed(found), sorted(_NAMES), "every thread, by id")
    _eq([info.checkpoint_id for info in found], [latest[t] for t in sorted(_NAMES)],
        "each thread's latest top-level checkpoint")
    page = [info async for info in saver.alist_threads(limit=2, after="a")]
    _eq(_listed(page), ["a%b", "a_b"], "a page after a cursor")
    _eq(_listed([info async for info in saver.alist_threads(prefix="a_")]), ["a_b"], "prefix")
    with _raises(ValueError, "alist_threads(limit=0)"):
        [info async for info in saver.alist_threads(limit=0)]
