"""Checks of what reads give back: round trips of every field and value type, values rebuilt
from per-channel versions, and list() with its filter, before, limit, namespaces and pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from hitlgraph._ids import checkpoint_id
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.conformance._helpers import (
    EVIL,
    Backend,
    _eq,
    _id,
    _meta,
    _ok,
    chain,
    conf,
    ids,
    make_checkpoint,
)


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
