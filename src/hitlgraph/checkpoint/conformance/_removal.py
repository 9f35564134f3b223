"""Checks of what removes checkpoints: rewind(), delete_thread() and prune(), which must take
exactly what they are asked to, values included, and leave other threads alone."""

from __future__ import annotations

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.conformance._helpers import (
    Backend,
    _eq,
    _grow,
    _id,
    _ok,
    _raises,
    chain,
    conf,
    ids,
)


def check_rewind(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """rewind(config, writes) makes config's checkpoint the latest again: later checkpoints
    (every namespace) and their values go, its pending writes become `writes`; the thread then
    grows on from there, other threads untouched."""
    made = _grow(saver, "rewound", 6)
    back_to, messages = made[2]
    before = saver.get_tuple(back_to)
    assert before is not None
    saver.put_writes(back_to, [("messages", ["answer"]), ("__interrupt__", "q")], "task-a")
    with_writes = saver.get_tuple(back_to)
    assert with_writes is not None
    kept_writes = list(with_writes.pending_writes or ())
    # What a run did after back_to: writes on it, later checkpoints, a subgraph's checkpoints.
    saver.put_writes(back_to, [("__resume__", ["yes"])], "task-a")
    saver.put_writes(back_to, [("other", 1)], "task-b")
    chain(saver, "rewound", 2, ns="child:1")
    other = chain(saver, "bystander", 2)
    saver.rewind(back_to, kept_writes)

    latest = saver.get_tuple(conf("rewound"))
    assert latest is not None
    _eq(_id(latest.config), _id(back_to), "the latest after rewind")
    _eq(latest.checkpoint["channel_values"]["messages"], messages, "its values")
    _eq(latest.pending_writes, kept_writes, "its pending writes")
    _eq(ids(saver.list(conf("rewound"))), [_id(c) for c, _ in made[:3]][::-1], "history")
    _eq(list(saver.list(conf("rewound", "child:1"))), [], "a later subgraph namespace")
    _eq(len(list(saver.list(conf("bystander")))), len(other), "another thread")
    if backend.blob_keys is not None:
        versions = {v for n, c, v in backend.blob_keys(saver, "rewound") if c == "messages"}
        _ok(str(len(made[3][1])) not in versions, "a rewound checkpoint's value was kept")
    grown = _grow(saver, "rewound", 3, parent=_id(back_to), start=messages)
    for config, grown_messages in grown:
        found = saver.get_tuple(config)
        assert found is not None
        _eq(found.checkpoint["channel_values"]["messages"], grown_messages, "grown after rewind")
    try:
        saver.rewind(conf("rewound", "", "no-such-checkpoint"), [])
    except ValueError as exc:
        _ok("no-such-checkpoint" in str(exc), "the error names the checkpoint")
    else:
        raise AssertionError("rewind to a missing checkpoint did not raise ValueError")


def check_delete_thread(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """delete_thread() removes a thread's checkpoints, values and writes in every namespace."""
    doomed = chain(saver, "doomed", 3)
    chain(saver, "doomed", 2, ns="child")
    saver.put_writes(doomed[-1], [("a", 1)], "task")
    kept = chain(saver, "kept", 2)
    saver.put_writes(kept[-1], [("b", 2)], "task")

    saver.delete_thread("doomed")
    _eq(saver.get_tuple(conf("doomed")), None, "deleted root namespace")
    _eq(saver.get_tuple(conf("doomed", "child")), None, "deleted child namespace")
    _eq(list(saver.list({"configurable": {"thread_id": "doomed"}})), [], "deleted list")
    if backend.blob_keys is not None:
        _eq(backend.blob_keys(saver, "doomed"), set(), "deleted thread's values")
    still = saver.get_tuple(conf("kept"))
    assert still is not None
    _eq(still.checkpoint["channel_values"], {"a": "first", "b": 1}, "other thread's values")
    _eq(still.pending_writes, [("task", "b", 2)], "other thread's writes")
    saver.delete_thread("never existed")
    # The thread can start again.
    again = chain(saver, "doomed", 1)
    found = saver.get_tuple(conf("doomed"))
    assert found is not None
    _eq((found.config, found.pending_writes), (again[0], []), "restarted thread")


def check_prune(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """prune(keep_last) keeps the newest checkpoints per namespace and the values they use."""
    configs = chain(saver, "t", 5)
    sub = chain(saver, "t", 3, ns="child")
    chain(saver, "other", 3)
    for config in configs:
        saver.put_writes(config, [("b", "w")], "task")

    saver.prune("t", keep_last=2)
    _eq(ids(saver.list(conf("t"))), [_id(configs[4]), _id(configs[3])], "kept")
    _eq(ids(saver.list(conf("t", "child"))), [_id(sub[2]), _id(sub[1])], "kept in child")
    _eq(len(list(saver.list(conf("other")))), 3, "another thread")
    # "a" was written only by the first checkpoint: its value survives for the kept ones.
    latest = saver.get_tuple(conf("t"))
    assert latest is not None
    _eq(latest.checkpoint["channel_values"], {"a": "first", "b": 4}, "kept values")
    _eq(latest.pending_writes, [("task", "b", "w")], "kept writes")
    older = saver.get_tuple(configs[3])
    assert older is not None
    _eq(older.checkpoint["channel_values"], {"a": "first", "b": 3}, "second kept values")
    child = saver.get_tuple(conf("t", "child"))
    assert child is not None
    _eq(child.checkpoint["channel_values"], {"a": "first", "b": 2}, "kept values in child")
    _eq(saver.get_tuple(configs[0]), None, "a pruned checkpoint")
    if backend.blob_keys is not None:
        _eq(backend.blob_keys(saver, "t"), {
            ("", "a", "1"), ("", "b", "4"), ("", "b", "5"),
            ("child", "a", "1"), ("child", "b", "2"), ("child", "b", "3"),
        }, "values kept")
        _eq(len(backend.blob_keys(saver, "other")), 4, "another thread's values")

    saver.prune("t", keep_last=1)
    _eq(ids(saver.list(conf("t"))), [_id(configs[4])], "keep_last=1")
    latest = saver.get_tuple(conf("t"))
    assert latest is not None
    _eq(latest.checkpoint["channel_values"], {"a": "first", "b": 4}, "values after keep_last=1")
    saver.prune("never existed", keep_last=1)
    with _raises(ValueError, "prune(keep_last=0)"):
        saver.prune("t", keep_last=0)
