"""Checks of what writes store and refuse: pending writes and claimed answers, compare-and-set,
fences, lists that grow by appending, values that cannot be serialized, and several Python
threads writing through one saver."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from hitlgraph.checkpoint.base import BaseCheckpointSaver, PendingWrite, RunnableConfig
from hitlgraph.checkpoint.conformance._helpers import (
    Backend,
    _eq,
    _grow,
    _id,
    _ok,
    _raises,
    chain,
    conf,
    expecting,
    fenced_by,
    ids,
    make_checkpoint,
)
from hitlgraph.errors import CheckpointConflictError, FencedWriteError


def check_put_writes(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Special channels' writes replace in place; others keep the first write per index.
    Pending writes come grouped by task (tasks in the order of their first write), each task's
    in the order written."""
    config = chain(saver, "t", 1)[0]
    saver.put_writes(config, [("a", 1), ("b", 2)], "task-1", "path")
    saver.put_writes(config, [("__interrupt__", {"value": "first"})], "task-1")
    saver.put_writes(config, [("c", 3)], "task-2")
    # Same indexes again: normal writes are kept as first written ...
    saver.put_writes(config, [("a", 100), ("b", 200), ("d", 4)], "task-1")
    # ... a special channel's write replaces the earlier one, in place.
    saver.put_writes(config, [("__interrupt__", {"value": "second"})], "task-1")
    saver.put_writes(config, [("__error__", "boom")], "task-2")
    saver.put_writes(config, [], "task-3")
    # Twice in one call: the first position, the last value.
    saver.put_writes(config, [("__error__", "e1"), ("e", 5), ("__error__", "e2")], "task-4")

    found = saver.get_tuple(config)
    assert found is not None
    expected = [
        ("task-1", "a", 1),
        ("task-1", "b", 2),
        ("task-1", "__interrupt__", {"value": "second"}),
        ("task-1", "d", 4),
        ("task-2", "c", 3),
        ("task-2", "__error__", "boom"),
        ("task-4", "__error__", "e2"),
        ("task-4", "e", 5),
    ]
    _eq(found.pending_writes, expected, "pending_writes")
    listed = next(iter(saver.list(config)))
    _eq(listed.pending_writes, expected, "listed pending_writes")
    # Writes belong to one checkpoint only.
    child = saver.put(config, make_checkpoint({}, {"a": 1, "b": 1}), {}, {})
    child_found = saver.get_tuple(child)
    assert child_found is not None
    _eq(child_found.pending_writes, [], "a child's pending_writes")
    other_ns = saver.put(conf("t", "child"), make_checkpoint({}, {}), {}, {})
    other_found = saver.get_tuple(other_ns)
    assert other_found is not None
    _eq(other_found.pending_writes, [], "another namespace's pending_writes")


def check_put_writes_claims(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Answers to interrupts ("__resume__") are claimed once; with an expected latest
    checkpoint, writes go only to the thread's latest checkpoint. A conflict raises
    CheckpointConflictError."""
    first, second = chain(saver, "t", 2)
    saver.put_writes(second, [("__resume__", ["yes"])], "task")
    with _raises(CheckpointConflictError, "claiming an answered interrupt") as caught:
        saver.put_writes(second, [("__resume__", ["no"])], "task")
    error = caught[0]
    assert isinstance(error, CheckpointConflictError)
    _eq((error.thread_id, error.answered), ("t", True), "error")
    # Another slot (a second answer) and another task are free.
    saver.put_writes(second, [("__resume__", ["yes", "again"])], "task")
    saver.put_writes(second, [("__resume__", ["other"])], "task-2")
    found = saver.get_tuple(second)
    assert found is not None
    _eq(found.pending_writes, [("task", "__resume__", ["yes"]),
                               ("task", "__resume__", ["yes", "again"]),
                               ("task-2", "__resume__", ["other"])], "claimed answers")

    latest = expecting(_id(second))
    saver.put_writes(conf("t", "", _id(second), **latest), [("x", 1)], "task-3")
    with _raises(CheckpointConflictError, "writing to a checkpoint that is not the latest"
                 ) as caught:
        saver.put_writes(conf("t", "", _id(first), **latest), [("x", 2)], "task-3")
    error = caught[0]
    assert isinstance(error, CheckpointConflictError)
    _eq((error.thread_id, error.expected, error.actual), ("t", _id(first), _id(second)),
        "error")
    old = saver.get_tuple(first)
    assert old is not None
    _eq(old.pending_writes, [], "writes of the refused call")
    found = saver.get_tuple(second)
    assert found is not None
    _eq((found.pending_writes or [])[-1:], [("task-3", "x", 1)], "writes with an expected latest")


def check_compare_and_set(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """With WriteRules.expected_latest, put() stores only if the thread's latest is the expected
    one."""
    first = saver.put(conf("t", **expecting("")), make_checkpoint({}, {}), {}, {})
    first_id = _id(first)

    with _raises(CheckpointConflictError, "expecting no checkpoint") as caught:
        saver.put(conf("t", **expecting("")), make_checkpoint({}, {}), {}, {})
    error = caught[0]
    assert isinstance(error, CheckpointConflictError)
    _eq((error.thread_id, error.expected, error.actual), ("t", None, first_id), "error")

    second = saver.put(conf("t", "", first_id, **expecting(first_id)),
                       make_checkpoint({}, {}), {}, {})
    second_id = _id(second)
    with _raises(CheckpointConflictError, "expecting an old checkpoint") as caught:
        saver.put(conf("t", "", first_id, **expecting(first_id)),
                  make_checkpoint({"x": 1}, {"x": 1}), {}, {"x": 1})
    error = caught[0]
    assert isinstance(error, CheckpointConflictError)
    _eq((error.thread_id, error.expected, error.actual), ("t", first_id, second_id), "error")
    # The losing put stored nothing.
    _eq(ids(saver.list(conf("t"))), [second_id, first_id], "after a conflict")
    # Namespaces and threads are separate.
    saver.put(conf("t", "child", **expecting("")), make_checkpoint({}, {}), {}, {})
    saver.put(conf("t2", **expecting("")), make_checkpoint({}, {}), {}, {})
    # Without the key, put does not check.
    saver.put(conf("t", "", first_id), make_checkpoint({}, {}), {}, {})
    _eq(len(list(saver.list(conf("t")))), 3, "an unchecked put")


def check_fences(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """A write carrying a fence token is stored only while the token is its key's latest; a
    refused call stores nothing (put, put_writes, put_step), whatever else it carried."""
    first = saver.advance_fence("run-1")
    _eq(saver.advance_fence("other-run"), 1, "a new key's first token")

    def fenced(token: int, parent: str | None = None, key: str = "run-1") -> RunnableConfig:
        config = conf("fenced", "", parent)
        config["configurable"].update(fenced_by(key, token))
        return config

    made = saver.put(fenced(first), make_checkpoint({"a": 1}, {"a": 1}), {"step": 0}, {"a": 1})
    saver.put_writes(fenced(first, _id(made)), [("a", 2)], "task-1")
    second = saver.advance_fence("run-1")
    _ok(second > first, "advance_fence gives a newer token")
    refused: list[Callable[[], object]] = [
        lambda: saver.put(fenced(first, _id(made)), make_checkpoint({"a": 3}, {"a": 3}), {},
                          {"a": 3}),
        lambda: saver.put_writes(fenced(first, _id(made)), [("b", 1)], "task-2"),
        lambda: saver.put(fenced(second, _id(made), key="never-advanced"),
                          make_checkpoint({"a": 3}, {"a": 3}), {}, {"a": 3}),
    ]
    put_step = getattr(saver, "put_step", None)
    if put_step is not None:
        refused.append(lambda: put_step(
            [(fenced(first, _id(made)), [("c", 1)], "task-3", "")], fenced(first, _id(made)),
            make_checkpoint({"a": 4}, {"a": 4}), {}, {"a": 4}))
    for call in refused:
        try:
            call()
        except FencedWriteError:
            continue
        raise AssertionError("a write with a stale fence token was stored")
    latest = saver.get_tuple(conf("fenced"))
    assert latest is not None
    _eq((_id(latest.config), latest.pending_writes), (_id(made), [("task-1", "a", 2)]),
        "the thread after refused writes")
    newer = saver.put(fenced(second, _id(made)), make_checkpoint({"a": 5}, {"a": 5}), {}, {"a": 5})
    found = saver.get_tuple(conf("fenced"))
    assert found is not None
    _eq(_id(found.config), _id(newer), "a write with the current token")


def check_growing_lists(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """A list channel that grows by appending (which a saver may store as deltas) reads back
    whole at every checkpoint, after prune, after a fork from an old checkpoint, and with the
    engine's string versions."""
    for string_versions in (False, True):
        thread = f"chat-{string_versions}"
        made = _grow(saver, thread, 40, string_versions=string_versions)
        for config, messages in made:
            found = saver.get_tuple(config)
            assert found is not None
            _eq(found.checkpoint["channel_values"]["messages"], messages, "a grown list")
        listed = list(saver.list(conf(thread)))
        _eq([t.checkpoint["channel_values"]["messages"] for t in listed],
            [m for _, m in made][::-1], "grown lists listed")
        # Fork: a child of an old checkpoint, extending that checkpoint's list.
        fork_from, fork_messages = made[10]
        forked = _grow(saver, thread, 3, parent=_id(fork_from), start=fork_messages,
                       string_versions=string_versions)
        if not string_versions:  # int versions repeat on a fork: the fork's replace them
            made = made[:11]
        for config, messages in forked:
            found = saver.get_tuple(config)
            assert found is not None
            _eq(found.checkpoint["channel_values"]["messages"], messages, "a forked list")
        saver.prune(thread, keep_last=2)
        for config, messages in forked[-2:]:
            found = saver.get_tuple(config)
            assert found is not None
            _eq(found.checkpoint["channel_values"]["messages"], messages, "a list after prune")
        # Growing on after a prune (the versions a new delta would extend may be gone).
        latest_config, latest_messages = forked[-1]
        more = _grow(saver, thread, 5, parent=_id(latest_config), start=latest_messages,
                     string_versions=string_versions)
        for config, messages in more:
            found = saver.get_tuple(config)
            assert found is not None
            _eq(found.checkpoint["channel_values"]["messages"], messages, "grown after prune")
        saver.delete_thread(thread)
        again = _grow(saver, thread, 3, string_versions=string_versions)
        found = saver.get_tuple(conf(thread))
        assert found is not None
        _eq(found.checkpoint["channel_values"]["messages"], again[-1][1], "after delete")


def check_step_writes_of_growing_lists(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """A finished step's writes that are exactly the items a list channel gained (which a
    saver may store once, in the channel's value) read back as written: at every checkpoint,
    listed, after a fork, and after prune."""
    put_step = getattr(saver, "put_step", None)
    if put_step is None:
        return
    thread = "step-writes"
    parent: str | None = None
    messages: list[Any] = []
    made: list[tuple[RunnableConfig, list[PendingWrite]]] = []
    for i in range(30):
        item = {"role": "ai", "content": f"reply {i} " + "y" * (i % 5)}
        writes: list[PendingWrite] = [(f"task-{i}", "messages", [item]),
                                      (f"task-{i}", "branch:to:agent", None)]
        if i % 4 == 3:  # a second task appends too: its write is not the whole increment
            writes.append((f"other-{i}", "messages", [{"role": "tool", "content": str(i)}]))
        calls = [(conf(thread, "", parent), [(c, v) for t, c, v in writes if t == task], task, "")
                 for task in dict.fromkeys(t for t, _, _ in writes)] if parent else []
        messages = [*messages, *(v[0] for _, c, v in writes if c == "messages")]
        checkpoint = make_checkpoint({"messages": messages, "step": i}, {})
        version = i + 1
        checkpoint["channel_versions"] = {"messages": version, "step": version}
        config = put_step(calls, conf(thread, "", parent), checkpoint, {"step": i},
                          {"messages": version, "step": version})
        if parent is not None:
            made.append((conf(thread, "", parent), writes))
        parent = _id(config)
    for config, writes in made:
        found = saver.get_tuple(config)
        assert found is not None
        _eq(found.pending_writes, writes, "a step's writes")
    listed = {_id(t.config): t.pending_writes for t in saver.list(conf(thread))}
    for config, writes in made:
        _eq(listed[_id(config)], writes, "a step's writes, listed")
    saver.prune(thread, keep_last=4)
    for config, writes in made[-3:]:
        found = saver.get_tuple(config)
        assert found is not None
        _eq(found.pending_writes, writes, "a step's writes after prune")


def check_unserializable_value_stores_nothing(saver: BaseCheckpointSaver, backend: Backend
                                              ) -> None:
    """A value the serializer refuses fails put()/put_writes() and stores nothing."""
    with _raises(TypeError, "put() of a lock"):
        saver.put(conf("t"), make_checkpoint({"bad": threading.Lock()}, {"bad": 1}), {},
                  {"bad": 1})
    _eq(saver.get_tuple(conf("t")), None, "after a failed put")
    config = chain(saver, "t", 1)[0]
    with _raises(TypeError, "put_writes() of a lock"):
        saver.put_writes(config, [("ok", 1), ("bad", threading.Lock())], "task")
    found = saver.get_tuple(config)
    assert found is not None
    _eq(found.pending_writes, [], "after a failed put_writes")


def check_several_threads_share_one_saver(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Python threads may use one saver at once."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            configs = chain(saver, f"thread-{n}", 20)
            for config in configs:
                saver.put_writes(config, [("b", n)], f"task-{n}")
                _ok(saver.get_tuple(config) is not None, "a checkpoint just written")
            list(saver.list(None, limit=5))
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    _eq(errors, [], "errors in threads")
    _eq(len(list(saver.list(None))), 120, "checkpoints written by threads")
    for n in range(6):
        listed = list(saver.list(conf(f"thread-{n}")))
        _eq([t.checkpoint["channel_values"]["b"] for t in listed], list(range(20))[::-1],
            f"thread-{n}'s chain")
        _ok(all(t.pending_writes == [(f"task-{n}", "b", n)] for t in listed),
            f"thread-{n}'s writes")
