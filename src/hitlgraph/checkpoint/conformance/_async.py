"""Checks of the async methods (aput, aget_tuple, alist, ...), run under asyncio.run or on the
saver's own loop (see _runner)."""

from __future__ import annotations

import asyncio

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.conformance._helpers import (
    Backend,
    _eq,
    _id,
    _meta,
    conf,
    expecting,
    make_checkpoint,
)
from hitlgraph.errors import CheckpointConflictError


async def check_async_round_trip(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """aput, aput_writes, aget_tuple, aget, alist, aprune and adelete_thread, CAS included."""
    first = make_checkpoint({"a": 1, "b": "x"}, {"a": 1, "b": 1})
    c1 = await saver.aput(conf("t", **expecting("")), first,
                          {"source": "input", "step": -1}, {"a": 1, "b": 1})
    second = make_checkpoint({"a": 2}, {"a": 2, "b": 1})
    c2 = await saver.aput(c1, second, {"source": "loop", "step": 0}, {"a": 2})
    await saver.aput_writes(c2, [("a", 3), ("__interrupt__", "why")], "task")

    latest = await saver.aget_tuple(conf("t"))
    assert latest is not None
    _eq((latest.config, latest.parent_config), (c2, c1), "configs")
    _eq(latest.checkpoint["channel_values"], {"a": 2, "b": "x"}, "values")
    _eq(latest.pending_writes, [("task", "a", 3), ("task", "__interrupt__", "why")], "writes")
    _eq(latest.metadata, {"source": "loop", "step": 0}, "metadata")
    oldest = await saver.aget(c1)
    assert oldest is not None
    _eq(oldest["channel_values"], {"a": 1, "b": "x"}, "aget")

    _eq([t.config async for t in saver.alist(conf("t"))], [c2, c1], "alist")
    _eq([t.config async for t in saver.alist(None, filter={"step": -1})], [c1], "filter")
    _eq([t.config async for t in saver.alist(conf("t"), limit=1)], [c2], "limit")
    _eq([t.config async for t in saver.alist(conf("t"), before=c2)], [c1], "before")
    _eq([t.config async for t in saver.alist(conf("t"), limit=0)], [], "limit=0")

    try:
        await saver.aput(conf("t", "", _id(c1), **expecting(_id(c1))),
                         make_checkpoint({}, {}), {}, {})
    except CheckpointConflictError as exc:
        _eq((exc.expected, exc.actual), (_id(c1), _id(c2)), "conflict")
    else:
        raise AssertionError("aput() with a stale expected latest did not conflict")

    # Sync methods work from another thread while the loop runs.
    from_thread = await asyncio.to_thread(saver.get_tuple, conf("t"))
    _eq(from_thread, latest, "get_tuple from a worker thread")

    # Concurrent operations are safe.
    await asyncio.gather(*(
        saver.aput(conf(f"many-{i}"), make_checkpoint({"i": i}, {"i": 1}), {}, {"i": 1})
        for i in range(20)
    ))
    _eq(len([t async for t in saver.alist(None)]), 22, "after concurrent aput")
    for i in range(20):
        found = await saver.aget_tuple(conf(f"many-{i}"))
        assert found is not None
        _eq(found.checkpoint["channel_values"], {"i": i}, "a concurrent aput")

    await saver.aprune("t", keep_last=1)
    _eq([t.config async for t in saver.alist(conf("t"))], [c2], "aprune")
    pruned = await saver.aget_tuple(conf("t"))
    assert pruned is not None
    _eq(pruned.checkpoint["channel_values"], {"a": 2, "b": "x"}, "values after aprune")
    await saver.adelete_thread("t")
    _eq(await saver.aget_tuple(conf("t")), None, "adelete_thread")


async def check_async_list_many(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """alist() over more checkpoints than a backend reads at once."""
    configs = []
    parent: str | None = None
    for i in range(130):
        config = await saver.aput(conf("t", "", parent), make_checkpoint({"n": i}, {"n": i + 1}),
                                  _meta(step=i, even=i % 2 == 0), {"n": i + 1})
        parent = _id(config)
        configs.append(config)
    newest = [_id(c) for c in configs][::-1]
    _eq([t.checkpoint["id"] async for t in saver.alist(conf("t"))], newest, "alist")
    _eq([t.checkpoint["id"] async for t in saver.alist(conf("t"), filter={"even": True},
                                                       limit=60)],
        newest[1::2][:60], "filter + limit")
