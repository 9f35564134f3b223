"""The checkpoint saver contract, as checks any saver can be run against.

InMemorySaver defines the semantics; every saver hitlgraph ships passes these checks, and a
saver of your own should too. Each check takes a fresh, empty saver; `Backend` says how to
make one. With pytest:

    import pytest
    from hitlgraph.checkpoint import conformance

    MINE = conformance.Backend("mine", open=lambda: MySaver.from_conn_string("..."))

    @pytest.mark.parametrize("name", list(conformance.CHECKS))
    def test_my_saver(name: str) -> None:
        conformance.run(MINE, name)

or, without a test runner, ``conformance.run_all(MINE)``. A failed check raises
AssertionError saying what differed.

Sync checks call the sync methods (get_tuple, list, put, ...); async checks (named "async_...")
call the async ones under `asyncio.run`. A saver bound to an event loop running in another
thread (one that exposes it as `saver.loop`, as AsyncPostgresSaver does) gets its async checks
run on that loop instead; `on_loop_thread` makes such a saver from an async context manager.

What is checked: round trips of every Checkpoint field, metadata and pending writes; values
rebuilt from per-channel versions when put() stores only `new_versions`; list() newest first
with filter (Python equality, including True == 1), before, limit, namespaces and all threads,
across more rows than a page; put_writes() replacing special channels (error, interrupt),
claiming answers (resume) once, keeping the first write at other indexes, and honouring
WriteRules.expected_latest; lists that grow by appending (stored as deltas by some savers);
delete_thread(); prune(keep_last);
compare-and-set through WriteRules.expected_latest; SQL-looking ids, keys and values stored as data;
nothing stored when a value cannot be serialized; several threads sharing one saver; and the
async methods.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar, cast
from uuid import UUID

from hitlgraph._ids import checkpoint_id
from hitlgraph.checkpoint.base import (
    WRITE_RULES,
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    Fence,
    PendingWrite,
    RunnableConfig,
    WriteRules,
    empty_checkpoint,
)
from hitlgraph.errors import CheckpointConflictError, FencedWriteError

__all__ = [
    "ASYNC_CHECKS",
    "CHECKS",
    "EVIL",
    "SYNC_CHECKS",
    "Backend",
    "BlobKeys",
    "chain",
    "conf",
    "ids",
    "make_checkpoint",
    "on_loop_thread",
    "run",
    "run_all",
]

_S = TypeVar("_S", bound=BaseCheckpointSaver)

EVIL = "x'; DROP TABLE checkpoints; --"
"""Text that would end a quoted SQL string and drop a table if a saver pasted it into SQL."""

BlobKeys = Callable[[BaseCheckpointSaver, str], set[tuple[str, str, str]]]
"""The stored values of a thread, as (checkpoint_ns, channel, str(version)) keys."""


@dataclass(frozen=True)
class Backend:
    """A saver under test.

    Attributes:
        name: shown in reports.
        open: makes a fresh, empty saver, closed when its `with` block ends.
        blob_keys: optional view of the values a saver keeps for a thread, so that the prune
            check can see that values no kept checkpoint references are deleted.
    """

    name: str
    open: Callable[[], AbstractContextManager[BaseCheckpointSaver]]
    blob_keys: BlobKeys | None = None


# -- helpers (also handy in a saver's own tests) -------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def make_checkpoint(
    values: dict[str, Any], versions: dict[str, Any], **extra: Any
) -> Checkpoint:
    """A checkpoint with a new id, these channel values and versions, and `extra` fields."""
    checkpoint = empty_checkpoint(checkpoint_id(), _now())
    checkpoint["channel_values"] = dict(values)
    checkpoint["channel_versions"] = dict(versions)
    for key, value in extra.items():
        checkpoint[key] = value  # type: ignore[literal-required]
    return checkpoint


def conf(thread_id: str, ns: str = "", checkpoint: str | None = None, **more: Any
         ) -> RunnableConfig:
    """A config naming a thread, a namespace, optionally a checkpoint, and `more` keys."""
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns, **more}
    if checkpoint is not None:
        configurable["checkpoint_id"] = checkpoint
    return {"configurable": configurable}


def expecting(checkpoint_id: str) -> dict[str, Any]:
    """configurable keys asking for compare-and-set: store only while `checkpoint_id` ("" for
    none) is the thread's latest checkpoint in the namespace."""
    return {WRITE_RULES: WriteRules(expected_latest=checkpoint_id)}


def fenced_by(key: str, token: int) -> dict[str, Any]:
    """configurable keys carrying a fence: store only while `token` is `key`'s latest."""
    return {WRITE_RULES: WriteRules(fence=Fence(key, token))}


def ids(tuples: Iterable[CheckpointTuple]) -> list[str]:
    """The checkpoint ids of listed tuples, in order."""
    return [t.checkpoint["id"] for t in tuples]


def _id(config: RunnableConfig) -> str:
    return str(config["configurable"]["checkpoint_id"])


def chain(
    saver: BaseCheckpointSaver,
    thread_id: str,
    count: int,
    *,
    ns: str = "",
    metadata: list[dict[str, Any]] | None = None,
) -> list[RunnableConfig]:
    """`count` checkpoints on a thread, each the child of the one before: channel "a" is
    written once ("first"), channel "b" at every step (0, 1, ...). Returns their configs."""
    configs: list[RunnableConfig] = []
    parent: str | None = None
    for i in range(count):
        values = {"a": "first", "b": i}
        versions = {"a": 1, "b": i + 1}
        new_versions = {"a": 1, "b": i + 1} if i == 0 else {"b": i + 1}
        meta = metadata[i] if metadata else {"source": "loop", "step": i}
        config = saver.put(conf(thread_id, ns, parent), make_checkpoint(values, versions),
                           meta, new_versions)  # type: ignore[arg-type]
        parent = _id(config)
        configs.append(config)
    return configs


def _meta(**items: Any) -> CheckpointMetadata:
    """Metadata with keys beyond CheckpointMetadata's (list filters may name any key)."""
    return cast(CheckpointMetadata, items)


def _eq(actual: Any, expected: Any, what: str = "") -> None:
    if actual != expected:
        raise AssertionError(f"{what or 'value'}:\n  got      {actual!r}\n  expected {expected!r}")


def _ok(condition: object, what: str) -> None:
    if not condition:
        raise AssertionError(what)


@contextmanager
def _raises(exc_type: type[BaseException], what: str) -> Iterator[list[BaseException]]:
    caught: list[BaseException] = []
    try:
        yield caught
    except exc_type as exc:
        caught.append(exc)
        return
    raise AssertionError(f"{what}: expected {exc_type.__name__}, nothing was raised")


# -- sync checks -----------------------------------------------------------------------------


def check_round_trip(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Every checkpoint field, metadata and the config come back as put; history is a copy."""
    messages: list[Any] = ["hi", {"role": "user"}]
    values = {"messages": messages, "count": 3, "none": None}
    checkpoint = make_checkpoint(values, {"messages": 1, "count": 1, "none": 1},
                                 triggers=["node"], updated_channels=["messages"],
                                 writers=["node"])
    config = saver.put(conf("t1"), checkpoint, {"source": "input", "step": -1},
                       {"messages": 1, "count": 1, "none": 1})
    _eq(config, conf("t1", "", checkpoint["id"]), "put()'s config")
    messages.append("mutated after put")  # history must not change

    latest = saver.get_tuple(conf("t1"))
    by_id = saver.get_tuple(config)
    _ok(latest is not None and by_id is not None, "get_tuple found nothing")
    assert latest is not None
    _eq(latest, by_id, "latest vs by id")
    _eq(latest.config, config, "config")
    _eq(latest.checkpoint, {
        "v": 1, "id": checkpoint["id"], "ts": checkpoint["ts"],
        "channel_values": {"messages": ["hi", {"role": "user"}], "count": 3, "none": None},
        "channel_versions": {"messages": 1, "count": 1, "none": 1},
        "triggers": ["node"], "updated_channels": ["messages"], "writers": ["node"],
    }, "checkpoint")
    _eq(latest.metadata, {"source": "input", "step": -1}, "metadata")
    _eq(latest.parent_config, None, "parent_config")
    _eq(latest.pending_writes, [], "pending_writes")
    _eq(saver.get(conf("t1")), latest.checkpoint, "get()")

    _eq(saver.get_tuple(conf("other")), None, "another thread")
    _eq(saver.get_tuple(conf("t1", "sub")), None, "another namespace")
    _eq(saver.get_tuple(conf("t1", "", checkpoint_id())), None, "an unknown id")
    _eq(saver.get_next_version(None), 1, "first version")
    _eq(saver.get_next_version(1), 2, "next version")


def check_rich_values(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Values of every type the default serializer keeps, large values and non-ASCII text."""
    values: dict[str, Any] = {
        "tuple": (1, (2, "x")), "set": {1, 2}, "frozenset": frozenset({"a"}),
        "bytes": b"\x00\xff" * 10, "when": datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc),
        "day": date(2024, 5, 1), "delta": timedelta(seconds=90), "decimal": Decimal("1.10"),
        "uuid": UUID(int=7), "big": 2**100, "float": 0.1, "text": "zażółć 漢字 🙂",
        "keys": {1: "int key", (1, 2): "tuple key"}, "large": "x" * 2_000_000,
        "ключ": "значение",
    }
    versions = dict.fromkeys(values, 1)
    config = saver.put(conf("rich"), make_checkpoint(values, versions),
                       _meta(source="input", step=-1, note="ünïcode"), versions)
    saver.put_writes(config, [("large", b"y" * 1_000_000), ("text", "漢字")], "task")
    found = saver.get_tuple(conf("rich"))
    _ok(found is not None, "get_tuple found nothing")
    assert found is not None
    for key, value in values.items():
        _eq(found.checkpoint["channel_values"][key], value, f"channel {key!r}")
        _eq(type(found.checkpoint["channel_values"][key]), type(value), f"type of {key!r}")
    _eq(dict(found.metadata), {"source": "input", "step": -1, "note": "ünïcode"}, "metadata")
    _eq(found.pending_writes, [("task", "large", b"y" * 1_000_000), ("task", "text", "漢字")],
        "pending_writes")


def check_channel_values_rebuilt_from_versions(saver: BaseCheckpointSaver, backend: Backend
                                               ) -> None:
    """put() gets only the changed channels' values; reads rebuild the rest from versions."""
    first = make_checkpoint({"a": 1, "b": "x", "c": [1]}, {"a": 1, "b": 1, "c": 1})
    c1 = saver.put(conf("t"), first, {"step": 0}, {"a": 1, "b": 1, "c": 1})
    # The second checkpoint carries only the value of the channel it changed.
    second = make_checkpoint({"a": 2}, {"a": 2, "b": 1, "c": 1})
    c2 = saver.put(c1, second, {"step": 1}, {"a": 2})
    third = make_checkpoint({"c": [1, 2]}, {"a": 2, "b": 1, "c": 2})
    c3 = saver.put(c2, third, {"step": 2}, {"c": 2})

    latest = saver.get_tuple(conf("t"))
    assert latest is not None
    _eq(latest.checkpoint["channel_values"], {"a": 2, "b": "x", "c": [1, 2]}, "latest values")
    _eq(latest.config, c3, "latest config")
    _eq(latest.parent_config, c2, "latest parent")
    old = saver.get_tuple(c2)
    assert old is not None
    _eq(old.checkpoint["channel_values"], {"a": 2, "b": "x", "c": [1]}, "second's values")
    oldest = saver.get_tuple(c1)
    assert oldest is not None
    _eq(oldest.checkpoint["channel_values"], {"a": 1, "b": "x", "c": [1]}, "first's values")
    _eq(oldest.parent_config, None, "first's parent")


def check_channel_without_value_is_absent(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """A channel with a version but no value (empty) is left out of channel_values."""
    checkpoint = make_checkpoint({"a": 1}, {"a": 1, "empty": 1})
    saver.put(conf("t"), checkpoint, {}, {"a": 1, "empty": 1})
    found = saver.get_tuple(conf("t"))
    assert found is not None
    _eq(found.checkpoint["channel_values"], {"a": 1}, "channel_values")
    _eq(found.checkpoint["channel_versions"], {"a": 1, "empty": 1}, "channel_versions")


def check_list_filter_before_limit(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """list() of a thread: newest first, with filter, before and limit, alone and together."""
    metadata = [{"source": "input" if i % 2 else "loop", "step": i} for i in range(6)]
    configs = chain(saver, "t1", 6, metadata=metadata)
    all_ids = [_id(c) for c in configs]
    newest_first = all_ids[::-1]

    listed = list(saver.list(conf("t1")))
    _eq(ids(listed), newest_first, "list")
    _eq(listed[0].checkpoint["channel_values"], {"a": "first", "b": 5}, "listed values")
    _eq(listed[-1].parent_config, None, "oldest's parent")
    _eq(listed[1].parent_config, configs[3], "a parent")
    _eq(ids(saver.list(conf("t1"), limit=2)), newest_first[:2], "limit")
    _eq(ids(saver.list(conf("t1"), before=configs[3])), newest_first[3:], "before")
    _eq(ids(saver.list(conf("t1"), before=configs[4], limit=2)), newest_first[2:4],
        "before + limit")
    _eq(ids(saver.list(conf("t1"), filter={"source": "input"})),
        [all_ids[5], all_ids[3], all_ids[1]], "filter")
    _eq(ids(saver.list(conf("t1"), filter={"source": "loop"}, limit=2)),
        [all_ids[4], all_ids[2]], "filter + limit")
    _eq(ids(saver.list(conf("t1"), filter={"source": "loop", "step": 2})), [all_ids[2]],
        "two filter keys")
    _eq(ids(saver.list(conf("t1"), filter={"source": "nope"})), [], "filter matching none")
    _eq(ids(saver.list(conf("t1", "", all_ids[2]))), [all_ids[2]], "config with an id")
    _eq(ids(saver.list(conf("nobody"))), [], "unknown thread")
    _eq(list(saver.list(conf("t1"), limit=0)), [], "limit=0")


def check_list_namespaces_and_all_threads(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """list(None) spans all threads, a thread alone spans its namespaces, newest first."""
    a = chain(saver, "ta", 3)
    b = chain(saver, "tb", 2)
    sub = chain(saver, "ta", 2, ns="child:1")
    a_ids = {_id(c) for c in a}
    b_ids = {_id(c) for c in b}
    sub_ids = {_id(c) for c in sub}

    _eq(set(ids(saver.list(None))), a_ids | b_ids | sub_ids, "list(None)")
    _eq(set(ids(saver.list({"configurable": {}}))), a_ids | b_ids | sub_ids, "empty config")
    _eq(set(ids(saver.list({"configurable": {"thread_id": "ta"}}))), a_ids | sub_ids,
        "thread without namespace")
    _eq(set(ids(saver.list(conf("ta")))), a_ids, "root namespace")
    _eq(set(ids(saver.list(conf("ta", "child:1")))), sub_ids, "child namespace")
    _eq(set(ids(saver.list(None, filter={"step": 1}))), {_id(a[1]), _id(b[1]), _id(sub[1])},
        "filter over all threads")
    _eq(len(list(saver.list(None, limit=4))), 4, "limit over all threads")
    for found in saver.list(None):
        _eq(found.checkpoint["channel_values"]["a"], "first", "values over all threads")
    latest_sub = saver.get_tuple(conf("ta", "child:1"))
    assert latest_sub is not None
    _eq(latest_sub.config, sub[-1], "latest of a namespace")

    made = []
    for i in range(4):
        for thread in ("x", "y"):
            made.append(_id(chain(saver, f"{thread}{i}", 1)[0]))
    newest = [c for c in ids(saver.list(None)) if c in made]
    _eq(newest, made[::-1], "all threads, newest first")
    _eq(ids(saver.list(None, limit=3)), made[::-1][:3], "all threads with limit")


def check_list_many(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """list() over more checkpoints than a backend reads at once (pages of 100 are common)."""
    count = 230
    metadata = [{"source": "loop", "step": i, "even": i % 2 == 0} for i in range(count)]
    configs = chain(saver, "t", count, metadata=metadata)
    chain(saver, "u", 3)
    newest = [_id(c) for c in configs][::-1]
    _eq(ids(saver.list(conf("t"))), newest, "all")
    _eq(ids(saver.list(conf("t"), limit=150)), newest[:150], "limit")
    _eq(ids(saver.list(conf("t"), filter={"even": True})), newest[1::2], "filter")
    _eq(ids(saver.list(conf("t"), filter={"even": False}, limit=110)), newest[::2][:110],
        "filter + limit")
    _eq(ids(saver.list(conf("t"), before=configs[120])), newest[count - 120:], "before")
    _eq(len(list(saver.list(None))), count + 3, "all threads")


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


def _grow(saver: BaseCheckpointSaver, thread_id: str, steps: int, *, parent: str | None = None,
          start: list[Any] | None = None, string_versions: bool = False,
          ) -> list[tuple[RunnableConfig, list[Any]]]:
    """A chain whose "messages" channel grows by appending each step, as a chat's does."""
    made: list[tuple[RunnableConfig, list[Any]]] = []
    messages = list(start or [])
    for i in range(steps):
        messages = [*messages, {"role": "user", "content": f"message {i} " + "x" * (i % 7)}]
        checkpoint = make_checkpoint({"messages": messages, "step": i}, {})
        version: Any = checkpoint["id"] if string_versions else len(messages)
        checkpoint["channel_versions"] = {"messages": version, "step": version}
        config = saver.put(conf(thread_id, "", parent), checkpoint, {"step": i},
                           {"messages": version, "step": version})
        parent = _id(config)
        made.append((config, messages))
    return made


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


def check_sql_looking_data_is_data(saver: BaseCheckpointSaver, backend: Backend) -> None:
    """Thread ids, namespaces, channels, task ids and metadata keys and values that look like
    SQL (or JSON paths) are stored and matched as plain data."""
    chain(saver, "innocent", 2)
    evil_meta = {"source": EVIL, 'a"b': 'v"1', EVIL: "k", "$.step": 7, "step": 40,
                 "ключ": "значение", "a\\b": "bs", "%s": "%(x)s", "k'": "'"}
    configs = chain(saver, EVIL, 2, metadata=[evil_meta, {"source": "loop", "step": 1}])
    found = saver.get_tuple(conf(EVIL))
    assert found is not None
    _eq(found.config, configs[1], "latest of an SQL-looking thread")
    _eq(ids(saver.list(conf(EVIL))), [_id(c) for c in configs[::-1]], "list")
    first = [_id(configs[0])]
    for key, value in evil_meta.items():
        _eq(ids(saver.list(None, filter={key: value})), first, f"filter on {key!r}")
    _eq(ids(saver.list(None, filter={'a"b': "v"})), [], "a prefix")
    _eq(ids(saver.list(None, filter={"$.step": 40})), [], "a JSON path as a key")
    _eq(ids(saver.list(None, filter={"source": "x' OR '1'='1"})), [], "an injected OR")
    _eq(ids(saver.list(None, filter={"source": "%"})), [], "a LIKE wildcard")
    _eq(ids(saver.list(None, filter={"step' OR 1=1 --": None}, limit=1)) != [], True,
        "a missing key filtered on None")

    evil_ns = saver.put(conf(EVIL, EVIL), make_checkpoint({EVIL: EVIL}, {EVIL: 1}),
                        {}, {EVIL: 1})
    saver.put_writes(configs[1], [(EVIL, EVIL)], EVIL, EVIL)
    found = saver.get_tuple(conf(EVIL))
    assert found is not None
    _eq(found.pending_writes, [(EVIL, EVIL, EVIL)], "SQL-looking writes")
    in_ns = saver.get_tuple(evil_ns)
    assert in_ns is not None
    _eq(in_ns.checkpoint["channel_values"], {EVIL: EVIL}, "SQL-looking channel")
    saver.prune(EVIL, keep_last=1)
    _eq(len(list(saver.list(conf(EVIL)))), 1, "pruned")
    saver.delete_thread(EVIL)
    _eq(saver.get_tuple(conf(EVIL)), None, "deleted")
    _eq(len(list(saver.list(conf("innocent")))), 2, "another thread")


_METAS: list[dict[str, Any]] = [
    {"source": "loop", "step": 1, "flag": True, "score": 1.5, "tags": ["a"],
     "nested": {"k": 1}, "note": None, "zero": 0},
    {"source": "loop", "step": 2, "flag": False, "tags": [], "nested": {"k": 2}, "zero": 0.0},
    {"source": "input", "step": -1, "flag": 1, "score": 1, "text": "1", "zero": False},
    {"source": "update", "step": 3, "text": '{"k": 1}', "nested": '{"k": 1}', "big": 2**70,
     "nul": "a\x00b"},
]
_FILTERS: list[dict[Any, Any]] = [
    {"step": 1}, {"step": "1"}, {"flag": True}, {"flag": 1}, {"flag": 1.0}, {"flag": False},
    {"flag": 0}, {"note": None}, {"score": 1.5}, {"score": 1}, {"tags": ["a"]}, {"tags": []},
    {"nested": {"k": 1}}, {"nested": '{"k": 1}'}, {"text": "1"}, {"text": 1},
    {"source": "loop", "step": 2}, {"missing": "x"}, {"missing": None}, {"step": 2**70},
    {"big": 2**70}, {"big": float(2**70)}, {"zero": 0}, {"zero": False}, {"zero": -0.0},
    {"step": float("nan")}, {"score": float("inf")}, {"text": "\ud800"},
    {"nul": "a\x00b"}, {1: "x"}, {"step": 1, "flag": True}, {"flag": True, "score": 1},
]


def check_metadata_filter_is_python_equality(saver: BaseCheckpointSaver, backend: Backend
                                             ) -> None:
    """A filter keeps exactly the checkpoints whose metadata.get(key) == value in Python."""
    configs = chain(saver, "t", len(_METAS), metadata=_METAS)
    for filter in _FILTERS:
        expected = [
            _id(c) for c, meta in zip(configs, _METAS, strict=True)
            if all(meta.get(k) == v for k, v in filter.items())
        ][::-1]
        _eq(ids(saver.list(conf("t"), filter=filter)), expected, f"filter {filter!r}")
        _eq(ids(saver.list(None, filter=filter, limit=1)), expected[:1],
            f"filter {filter!r} over all threads, limit 1")


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


# -- async checks ----------------------------------------------------------------------------


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


# -- running ---------------------------------------------------------------------------------

SyncCheck = Callable[[BaseCheckpointSaver, Backend], None]
AsyncCheck = Callable[[BaseCheckpointSaver, Backend], Coroutine[Any, Any, None]]

SYNC_CHECKS: dict[str, SyncCheck] = {
    "round_trip": check_round_trip,
    "rich_values": check_rich_values,
    "channel_values_rebuilt_from_versions": check_channel_values_rebuilt_from_versions,
    "channel_without_value_is_absent": check_channel_without_value_is_absent,
    "list_filter_before_limit": check_list_filter_before_limit,
    "list_namespaces_and_all_threads": check_list_namespaces_and_all_threads,
    "list_many": check_list_many,
    "put_writes": check_put_writes,
    "put_writes_claims": check_put_writes_claims,
    "growing_lists": check_growing_lists,
    "step_writes_of_growing_lists": check_step_writes_of_growing_lists,
    "fences": check_fences,
    "rewind": check_rewind,
    "delete_thread": check_delete_thread,
    "prune": check_prune,
    "compare_and_set": check_compare_and_set,
    "sql_looking_data_is_data": check_sql_looking_data_is_data,
    "metadata_filter_is_python_equality": check_metadata_filter_is_python_equality,
    "unserializable_value_stores_nothing": check_unserializable_value_stores_nothing,
    "several_threads_share_one_saver": check_several_threads_share_one_saver,
}
ASYNC_CHECKS: dict[str, AsyncCheck] = {
    "async_round_trip": check_async_round_trip,
    "async_list_many": check_async_list_many,
}
CHECKS: dict[str, SyncCheck | AsyncCheck] = {**SYNC_CHECKS, **ASYNC_CHECKS}
"""Every check by name: sync ones first, then async ones."""


def _run_async(saver: BaseCheckpointSaver, coro: Coroutine[Any, Any, None]) -> None:
    loop = getattr(saver, "loop", None)
    if isinstance(loop, asyncio.AbstractEventLoop) and loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            asyncio.run_coroutine_threadsafe(coro, loop).result()
            return
    asyncio.run(coro)


def run(backend: Backend, check: str | SyncCheck | AsyncCheck) -> None:
    """Run one check (by name or function) on a fresh saver of `backend`.

    Raises:
        AssertionError: the saver broke the contract; the message says where.
    """
    fn = CHECKS[check] if isinstance(check, str) else check
    with backend.open() as saver:
        if asyncio.iscoroutinefunction(fn):
            _run_async(saver, fn(saver, backend))
        else:
            fn(saver, backend)


def run_all(backend: Backend, *, skip: Iterable[str] = ()) -> None:
    """Run every check but those named in `skip`, each on a fresh saver; stop at the first
    failure, its message prefixed with the backend's and the check's names."""
    skipped = set(skip)
    for name, fn in CHECKS.items():
        if name in skipped:
            continue
        try:
            run(backend, fn)
        except AssertionError as exc:
            raise AssertionError(f"{backend.name}: {name}: {exc}") from exc


@contextmanager
def on_loop_thread(
    open: Callable[[], AbstractAsyncContextManager[_S]],
) -> Iterator[_S]:
    """A saver made by an async context manager, living on an event loop that runs in a
    thread of its own for the `with` block: its sync methods can then be called from this
    thread, and its async checks run on that loop.

    Example:
        >>> Backend("async", open=lambda: on_loop_thread(  # doctest: +SKIP
        ...     lambda: AsyncPostgresSaver.from_conn_string(DSN)))
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="hitlgraph-saver-loop", daemon=True)
    thread.start()
    manager = open()

    async def enter() -> _S:
        return await manager.__aenter__()

    async def leave() -> None:
        await manager.__aexit__(None, None, None)

    try:
        saver = asyncio.run_coroutine_threadsafe(enter(), loop).result()
        try:
            yield saver
        finally:
            asyncio.run_coroutine_threadsafe(leave(), loop).result()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

