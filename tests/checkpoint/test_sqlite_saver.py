"""SqliteSaver and AsyncSqliteSaver: the saver contract (shared with InMemorySaver), SQL safety,
multi-process use of one file, migrations and the async shell.

All SQLite tests use real files under tmp_path.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from hitlgraph._ids import checkpoint_id
from hitlgraph.checkpoint.base import (
    EXPECTED_LATEST,
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    RunnableConfig,
    empty_checkpoint,
)
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver, _sql
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.errors import CheckpointConflictError

EVIL = "x'; DROP TABLE checkpoints; --"


# -- helpers -----------------------------------------------------------------------------------


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def make_checkpoint(
    values: dict[str, Any], versions: dict[str, int], **extra: Any
) -> Checkpoint:
    checkpoint = empty_checkpoint(checkpoint_id(), now())
    checkpoint["channel_values"] = dict(values)
    checkpoint["channel_versions"] = dict(versions)
    for key, value in extra.items():
        checkpoint[key] = value  # type: ignore[literal-required]
    return checkpoint


def conf(thread_id: str, ns: str = "", checkpoint: str | None = None, **more: Any
         ) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns, **more}
    if checkpoint is not None:
        configurable["checkpoint_id"] = checkpoint
    return {"configurable": configurable}


def ids(tuples: Iterator[CheckpointTuple] | list[CheckpointTuple]) -> list[str]:
    return [t.checkpoint["id"] for t in tuples]


def chain(
    saver: BaseCheckpointSaver,
    thread_id: str,
    count: int,
    *,
    ns: str = "",
    metadata: list[dict[str, Any]] | None = None,
) -> list[RunnableConfig]:
    """`count` checkpoints on a thread: channel "a" written once, "b" at every step."""
    configs: list[RunnableConfig] = []
    parent: str | None = None
    for i in range(count):
        values = {"a": "first", "b": i}
        versions = {"a": 1, "b": i + 1}
        new_versions = {"a": 1, "b": i + 1} if i == 0 else {"b": i + 1}
        meta = metadata[i] if metadata else {"source": "loop", "step": i}
        config = saver.put(conf(thread_id, ns, parent), make_checkpoint(values, versions),
                           meta, new_versions)  # type: ignore[arg-type]
        parent = config["configurable"]["checkpoint_id"]
        configs.append(config)
    return configs


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver]:
    if request.param == "memory":
        yield InMemorySaver()
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.db")) as sqlite_saver:
            yield sqlite_saver


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.db")) as sqlite_saver:
        yield sqlite_saver


# -- the shared contract -----------------------------------------------------------------------


def test_put_get_round_trip(saver: BaseCheckpointSaver) -> None:
    messages: list[Any] = ["hi", {"role": "user"}]
    values = {"messages": messages, "count": 3, "none": None}
    checkpoint = make_checkpoint(values, {"messages": 1, "count": 1, "none": 1},
                                 triggers=["node"], updated_channels=["messages"],
                                 writers=["node"])
    config = saver.put(conf("t1"), checkpoint, {"source": "input", "step": -1},
                       {"messages": 1, "count": 1, "none": 1})
    assert config == conf("t1", "", checkpoint["id"])
    messages.append("mutated after put")  # history must not change

    latest = saver.get_tuple(conf("t1"))
    by_id = saver.get_tuple(config)
    assert latest is not None and by_id is not None
    assert latest == by_id
    assert latest.config == config
    assert latest.checkpoint == {
        "v": 1, "id": checkpoint["id"], "ts": checkpoint["ts"],
        "channel_values": {"messages": ["hi", {"role": "user"}], "count": 3, "none": None},
        "channel_versions": {"messages": 1, "count": 1, "none": 1},
        "triggers": ["node"], "updated_channels": ["messages"], "writers": ["node"],
    }
    assert latest.metadata == {"source": "input", "step": -1}
    assert latest.parent_config is None
    assert latest.pending_writes == []
    assert saver.get(conf("t1")) == latest.checkpoint

    assert saver.get_tuple(conf("other")) is None
    assert saver.get_tuple(conf("t1", "sub")) is None
    assert saver.get_tuple(conf("t1", "", checkpoint_id())) is None


def test_channel_values_rebuilt_from_versions(saver: BaseCheckpointSaver) -> None:
    first = make_checkpoint({"a": 1, "b": "x", "c": [1]}, {"a": 1, "b": 1, "c": 1})
    c1 = saver.put(conf("t"), first, {"step": 0}, {"a": 1, "b": 1, "c": 1})
    # The second checkpoint carries only the value of the channel it changed.
    second = make_checkpoint({"a": 2}, {"a": 2, "b": 1, "c": 1})
    c2 = saver.put(c1, second, {"step": 1}, {"a": 2})
    third = make_checkpoint({"c": [1, 2]}, {"a": 2, "b": 1, "c": 2})
    c3 = saver.put(c2, third, {"step": 2}, {"c": 2})

    latest = saver.get_tuple(conf("t"))
    assert latest is not None
    assert latest.checkpoint["channel_values"] == {"a": 2, "b": "x", "c": [1, 2]}
    assert latest.config == c3
    assert latest.parent_config == c2
    old = saver.get_tuple(c2)
    assert old is not None and old.checkpoint["channel_values"] == {"a": 2, "b": "x", "c": [1]}
    oldest = saver.get_tuple(c1)
    assert oldest is not None
    assert oldest.checkpoint["channel_values"] == {"a": 1, "b": "x", "c": [1]}
    assert oldest.parent_config is None


def test_channel_without_value_is_absent(saver: BaseCheckpointSaver) -> None:
    checkpoint = make_checkpoint({"a": 1}, {"a": 1, "empty": 1})
    saver.put(conf("t"), checkpoint, {}, {"a": 1, "empty": 1})
    found = saver.get_tuple(conf("t"))
    assert found is not None
    assert found.checkpoint["channel_values"] == {"a": 1}
    assert found.checkpoint["channel_versions"] == {"a": 1, "empty": 1}


def test_list_newest_first_with_filter_before_limit(saver: BaseCheckpointSaver) -> None:
    metadata = [{"source": "input" if i % 2 else "loop", "step": i} for i in range(6)]
    configs = chain(saver, "t1", 6, metadata=metadata)
    all_ids = [c["configurable"]["checkpoint_id"] for c in configs]
    newest_first = all_ids[::-1]

    listed = list(saver.list(conf("t1")))
    assert ids(listed) == newest_first
    assert listed[0].checkpoint["channel_values"] == {"a": "first", "b": 5}
    assert listed[-1].parent_config is None
    assert listed[1].parent_config == configs[3]
    assert ids(saver.list(conf("t1"), limit=2)) == newest_first[:2]
    assert ids(saver.list(conf("t1"), before=configs[3])) == newest_first[3:]
    assert ids(saver.list(conf("t1"), before=configs[4], limit=2)) == newest_first[2:4]
    assert ids(saver.list(conf("t1"), filter={"source": "input"})) == [
        all_ids[5], all_ids[3], all_ids[1]]
    assert ids(saver.list(conf("t1"), filter={"source": "loop"}, limit=2)) == [
        all_ids[4], all_ids[2]]
    assert ids(saver.list(conf("t1"), filter={"source": "loop", "step": 2})) == [all_ids[2]]
    assert ids(saver.list(conf("t1"), filter={"source": "nope"})) == []
    assert ids(saver.list(conf("t1", "", all_ids[2]))) == [all_ids[2]]
    assert ids(saver.list(conf("nobody"))) == []


@pytest.mark.parametrize("kind", [
    "memory",
    "sqlite",
])
def test_list_limit_zero_is_empty(kind: str, tmp_path: Path) -> None:
    if kind == "memory":
        memory = InMemorySaver()
        chain(memory, "t", 2)
        assert list(memory.list(conf("t"), limit=0)) == []
        return
    with SqliteSaver.from_conn_string(str(tmp_path / "limit.db")) as saver:
        chain(saver, "t", 2)
        assert list(saver.list(conf("t"), limit=0)) == []


def test_list_namespaces_and_all_threads(saver: BaseCheckpointSaver) -> None:
    a = chain(saver, "ta", 3)
    b = chain(saver, "tb", 2)
    sub = chain(saver, "ta", 2, ns="child:1")
    a_ids = {c["configurable"]["checkpoint_id"] for c in a}
    b_ids = {c["configurable"]["checkpoint_id"] for c in b}
    sub_ids = {c["configurable"]["checkpoint_id"] for c in sub}

    assert set(ids(saver.list(None))) == a_ids | b_ids | sub_ids
    assert set(ids(saver.list({"configurable": {}}))) == a_ids | b_ids | sub_ids
    assert set(ids(saver.list({"configurable": {"thread_id": "ta"}}))) == a_ids | sub_ids
    assert set(ids(saver.list(conf("ta")))) == a_ids
    assert set(ids(saver.list(conf("ta", "child:1")))) == sub_ids
    assert set(ids(saver.list(None, filter={"step": 1}))) == {
        a[1]["configurable"]["checkpoint_id"], b[1]["configurable"]["checkpoint_id"],
        sub[1]["configurable"]["checkpoint_id"]}
    assert len(list(saver.list(None, limit=4))) == 4
    for found in saver.list(None):
        assert found.checkpoint["channel_values"]["a"] == "first"
    latest_sub = saver.get_tuple(conf("ta", "child:1"))
    assert latest_sub is not None and latest_sub.config == sub[-1]


def test_sqlite_lists_all_threads_newest_first(db: SqliteSaver) -> None:
    made = []
    for i in range(4):
        for thread in ("x", "y"):
            made.append(chain(db, f"{thread}{i}", 1)[0]["configurable"]["checkpoint_id"])
    assert ids(db.list(None)) == made[::-1]
    assert ids(db.list(None, limit=3)) == made[::-1][:3]


def test_put_writes_replace_special_insert_normal(saver: BaseCheckpointSaver) -> None:
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

    found = saver.get_tuple(config)
    assert found is not None
    assert found.pending_writes == [
        ("task-1", "a", 1),
        ("task-1", "b", 2),
        ("task-1", "__interrupt__", {"value": "second"}),
        ("task-2", "c", 3),
        ("task-1", "d", 4),
        ("task-2", "__error__", "boom"),
    ]
    listed = next(iter(saver.list(config)))
    assert listed.pending_writes == found.pending_writes
    # Writes belong to one checkpoint only.
    child = saver.put(config, make_checkpoint({}, {"a": 1, "b": 1}), {}, {})
    child_found = saver.get_tuple(child)
    assert child_found is not None and child_found.pending_writes == []


def test_delete_thread(saver: BaseCheckpointSaver) -> None:
    doomed = chain(saver, "doomed", 3)
    chain(saver, "doomed", 2, ns="child")
    saver.put_writes(doomed[-1], [("a", 1)], "task")
    kept = chain(saver, "kept", 2)
    saver.put_writes(kept[-1], [("b", 2)], "task")

    saver.delete_thread("doomed")
    assert saver.get_tuple(conf("doomed")) is None
    assert saver.get_tuple(conf("doomed", "child")) is None
    assert list(saver.list({"configurable": {"thread_id": "doomed"}})) == []
    still = saver.get_tuple(conf("kept"))
    assert still is not None
    assert still.checkpoint["channel_values"] == {"a": "first", "b": 1}
    assert still.pending_writes == [("task", "b", 2)]
    saver.delete_thread("never existed")
    # The thread can start again.
    again = chain(saver, "doomed", 1)
    found = saver.get_tuple(conf("doomed"))
    assert found is not None and found.config == again[0] and found.pending_writes == []


def blob_keys(saver: BaseCheckpointSaver, thread_id: str) -> set[tuple[str, str, int]]:
    if isinstance(saver, InMemorySaver):
        return {(k[1], k[2], k[3]) for k in saver.blobs if k[0] == thread_id}
    assert isinstance(saver, SqliteSaver)
    rows = saver.conn.execute(
        "SELECT checkpoint_ns, channel, version FROM blobs WHERE thread_id = ?", (thread_id,)
    ).fetchall()
    return {(ns, chan, int(version)) for ns, chan, version in rows}


def test_prune_keeps_latest_and_referenced_blobs(saver: BaseCheckpointSaver) -> None:
    configs = chain(saver, "t", 5)
    sub = chain(saver, "t", 3, ns="child")
    chain(saver, "other", 3)
    for config in configs:
        saver.put_writes(config, [("b", "w")], "task")

    saver.prune("t", keep_last=2)
    assert ids(saver.list(conf("t"))) == [
        configs[4]["configurable"]["checkpoint_id"], configs[3]["configurable"]["checkpoint_id"]]
    assert ids(saver.list(conf("t", "child"))) == [
        sub[2]["configurable"]["checkpoint_id"], sub[1]["configurable"]["checkpoint_id"]]
    assert len(list(saver.list(conf("other")))) == 3
    # "a" was written only by the first checkpoint: its value survives for the kept ones.
    latest = saver.get_tuple(conf("t"))
    assert latest is not None
    assert latest.checkpoint["channel_values"] == {"a": "first", "b": 4}
    assert latest.pending_writes == [("task", "b", "w")]
    assert blob_keys(saver, "t") == {
        ("", "a", 1), ("", "b", 4), ("", "b", 5),
        ("child", "a", 1), ("child", "b", 2), ("child", "b", 3),
    }
    assert saver.get_tuple(configs[0]) is None
    assert len(blob_keys(saver, "other")) == 4

    saver.prune("t", keep_last=1)
    assert ids(saver.list(conf("t"))) == [configs[4]["configurable"]["checkpoint_id"]]
    with pytest.raises(ValueError, match="keep_last"):
        saver.prune("t", keep_last=0)


def test_compare_and_set(saver: BaseCheckpointSaver) -> None:
    first = saver.put(conf("t", **{EXPECTED_LATEST: ""}), make_checkpoint({}, {}), {}, {})
    first_id = first["configurable"]["checkpoint_id"]

    with pytest.raises(CheckpointConflictError) as caught:
        saver.put(conf("t", **{EXPECTED_LATEST: ""}), make_checkpoint({}, {}), {}, {})
    assert (caught.value.thread_id, caught.value.expected, caught.value.actual) == (
        "t", None, first_id)

    second = saver.put(conf("t", "", first_id, **{EXPECTED_LATEST: first_id}),
                       make_checkpoint({}, {}), {}, {})
    second_id = second["configurable"]["checkpoint_id"]
    with pytest.raises(CheckpointConflictError) as caught:
        saver.put(conf("t", "", first_id, **{EXPECTED_LATEST: first_id}),
                  make_checkpoint({"x": 1}, {"x": 1}), {}, {"x": 1})
    assert (caught.value.thread_id, caught.value.expected, caught.value.actual) == (
        "t", first_id, second_id)
    # The losing put stored nothing.
    assert ids(saver.list(conf("t"))) == [second_id, first_id]
    # Namespaces and threads are separate.
    saver.put(conf("t", "child", **{EXPECTED_LATEST: ""}), make_checkpoint({}, {}), {}, {})
    saver.put(conf("t2", **{EXPECTED_LATEST: ""}), make_checkpoint({}, {}), {}, {})
    # Without the key, put does not check.
    saver.put(conf("t", "", first_id), make_checkpoint({}, {}), {}, {})


def test_sql_looking_thread_id_and_filter_are_data(saver: BaseCheckpointSaver) -> None:
    chain(saver, "innocent", 2)
    evil_meta = {"source": EVIL, 'a"b': 'v"1', EVIL: "k", "$.step": 7, "step": 40,
                 "ключ": "значение", "a\\b": "bs"}
    configs = chain(saver, EVIL, 2, metadata=[evil_meta, {"source": "loop", "step": 1}])
    found = saver.get_tuple(conf(EVIL))
    assert found is not None and found.config == configs[1]
    assert ids(saver.list(conf(EVIL))) == [c["configurable"]["checkpoint_id"]
                                           for c in configs[::-1]]
    first = [configs[0]["configurable"]["checkpoint_id"]]
    for key, value in evil_meta.items():
        assert ids(saver.list(None, filter={key: value})) == first, key
    assert ids(saver.list(None, filter={'a"b': "v"})) == []
    assert ids(saver.list(None, filter={"$.step": 40})) == []
    assert ids(saver.list(None, filter={"source": "x' OR '1'='1"})) == []
    assert ids(saver.list(None, filter={"step' OR 1=1 --": None}, limit=1)) != []

    saver.put_writes(configs[1], [(EVIL, EVIL)], EVIL, EVIL)
    found = saver.get_tuple(conf(EVIL))
    assert found is not None and found.pending_writes == [(EVIL, EVIL, EVIL)]
    saver.prune(EVIL, keep_last=1)
    saver.delete_thread(EVIL)
    assert saver.get_tuple(conf(EVIL)) is None
    assert len(list(saver.list(conf("innocent")))) == 2
    if isinstance(saver, SqliteSaver):
        tables = {name for (name,) in saver.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"checkpoints", "blobs", "writes"} <= tables


METAS: list[dict[str, Any]] = [
    {"source": "loop", "step": 1, "flag": True, "score": 1.5, "tags": ["a"],
     "nested": {"k": 1}, "note": None},
    {"source": "loop", "step": 2, "flag": False, "tags": [], "nested": {"k": 2}},
    {"source": "input", "step": -1, "flag": 1, "score": 1, "text": "1"},
    {"source": "update", "step": 3, "text": '{"k": 1}', "nested": '{"k": 1}'},
]
FILTERS: list[dict[str, Any]] = [
    {"step": 1}, {"step": "1"}, {"flag": True}, {"flag": 1}, {"flag": 1.0}, {"flag": False},
    {"flag": 0}, {"note": None}, {"score": 1.5}, {"score": 1}, {"tags": ["a"]}, {"tags": []},
    {"nested": {"k": 1}}, {"nested": '{"k": 1}'}, {"text": "1"}, {"text": 1},
    {"source": "loop", "step": 2}, {"missing": "x"}, {"missing": None}, {"step": 2**70},
    {"step": float("nan")}, {"score": float("inf")}, {"text": "\ud800"},
    cast("dict[str, Any]", {1: "x"}),
]


@pytest.mark.parametrize("filter", FILTERS, ids=repr)
def test_metadata_filter_matches_python_equality(
    saver: BaseCheckpointSaver, filter: dict[str, Any]
) -> None:
    configs = chain(saver, "t", len(METAS), metadata=METAS)
    expected = [
        c["configurable"]["checkpoint_id"]
        for c, meta in zip(configs, METAS, strict=True)
        if all(meta.get(k) == v for k, v in filter.items())
    ][::-1]
    assert ids(saver.list(conf("t"), filter=filter)) == expected
    assert ids(saver.list(None, filter=filter, limit=1)) == expected[:1]


def test_unserializable_value_stores_nothing(saver: BaseCheckpointSaver) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the serializer's own error type
        saver.put(conf("t"), make_checkpoint({"bad": threading.Lock()}, {"bad": 1}), {},
                  {"bad": 1})
    assert saver.get_tuple(conf("t")) is None
    config = chain(saver, "t", 1)[0]
    with pytest.raises(Exception):  # noqa: B017
        saver.put_writes(config, [("ok", 1), ("bad", threading.Lock())], "task")
    found = saver.get_tuple(config)
    assert found is not None and found.pending_writes == []


def test_several_threads_share_one_saver(saver: BaseCheckpointSaver) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            configs = chain(saver, f"thread-{n}", 20)
            for config in configs:
                saver.put_writes(config, [("b", n)], f"task-{n}")
                assert saver.get_tuple(config) is not None
            list(saver.list(None, limit=5))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert len(list(saver.list(None))) == 120


# -- SQLite only -------------------------------------------------------------------------------


def test_list_reads_in_pages(db: SqliteSaver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sql, "LIST_PAGE_SIZE", 3)
    metadata = [{"source": "loop", "step": i, "even": i % 2 == 0} for i in range(11)]
    configs = chain(db, "t", 11, metadata=metadata)
    chain(db, "u", 4)
    all_ids = [c["configurable"]["checkpoint_id"] for c in configs][::-1]
    assert ids(db.list(conf("t"))) == all_ids
    assert ids(db.list(conf("t"), limit=7)) == all_ids[:7]
    assert ids(db.list(conf("t"), filter={"even": True})) == all_ids[::2]
    assert ids(db.list(conf("t"), filter={"even": True}, limit=4)) == all_ids[::2][:4]
    assert ids(db.list(conf("t"), filter={"step": [1]})) == []
    assert len(list(db.list(None))) == 15
    # A listing started before a write goes on reading pages after it.
    iterator = db.list(conf("t"))
    assert next(iterator).checkpoint["id"] == all_ids[0]
    chain(db, "late", 1)
    assert ids(iterator) == all_ids[1:]


def test_latest_lookup_uses_the_index(db: SqliteSaver) -> None:
    chain(db, "t", 50)
    plan = " ".join(
        str(row[-1]) for row in db.conn.execute(
            "EXPLAIN QUERY PLAN " + _sql._SELECT_LATEST, ("t", ""))
    )
    assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_pragmas_and_setup_idempotent(tmp_path: Path) -> None:
    path = str(tmp_path / "setup.db")
    with SqliteSaver.from_conn_string(path) as saver:
        assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert saver.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert saver.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        saver.setup()
        assert _sql.migrate(saver.conn) == len(_sql.MIGRATIONS) - 1
        versions = [v for (v,) in saver.conn.execute(
            f"SELECT v FROM {_sql.MIGRATIONS_TABLE} ORDER BY v")]
        assert versions == list(range(len(_sql.MIGRATIONS)))
        chain(saver, "t", 2)
    # A saver built on a plain connection sets itself up on first use.
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        lazy = SqliteSaver(conn)
        assert not lazy.is_setup
        found = lazy.get_tuple(conf("t"))
        assert lazy.is_setup and found is not None
        assert found.checkpoint["channel_values"] == {"a": "first", "b": 1}
    finally:
        conn.close()
    # A default (non-autocommit) connection works too.
    conn = sqlite3.connect(path)
    try:
        legacy = SqliteSaver(conn)
        chain(legacy, "legacy", 2)
        assert len(list(legacy.list(conf("legacy")))) == 2
        assert not conn.in_transaction
    finally:
        conn.close()


def test_in_memory_database(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(":memory:") as saver:
        chain(saver, "t", 3)
        assert len(list(saver.list(None))) == 3


def test_new_saver_reads_what_an_earlier_one_wrote(tmp_path: Path) -> None:
    path = str(tmp_path / "reopen.db")
    with SqliteSaver.from_conn_string(path) as saver:
        configs = chain(saver, "t", 3)
        saver.put_writes(configs[-1], [("b", "pending")], "task")
    with SqliteSaver.from_conn_string(path) as again:
        found = again.get_tuple(conf("t"))
        assert found is not None
        assert found.config == configs[-1]
        assert found.checkpoint["channel_values"] == {"a": "first", "b": 2}
        assert found.pending_writes == [("task", "b", "pending")]
    script = textwrap.dedent("""
        import json, sys
        from hitlgraph.checkpoint.sqlite import SqliteSaver
        with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
            found = saver.get_tuple({"configurable": {"thread_id": "t"}})
            print(json.dumps([found.config, found.checkpoint["channel_values"],
                              found.pending_writes]))
    """)
    out = subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == (
        '[{"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "'
        + configs[-1]["configurable"]["checkpoint_id"]
        + '"}}, {"a": "first", "b": 2}, [["task", "b", "pending"]]]'
    )


def test_compare_and_set_between_two_connections(tmp_path: Path) -> None:
    path = str(tmp_path / "race.db")
    with SqliteSaver.from_conn_string(path) as one, SqliteSaver.from_conn_string(path) as two:
        base = chain(one, "t", 1)[0]
        base_id = base["configurable"]["checkpoint_id"]
        seen_by_one = one.get_tuple(conf("t"))
        seen_by_two = two.get_tuple(conf("t"))
        assert seen_by_one is not None and seen_by_two is not None
        assert seen_by_one.config == seen_by_two.config == base
        won = one.put(conf("t", "", base_id, **{EXPECTED_LATEST: base_id}),
                      make_checkpoint({"b": "one"}, {"a": 1, "b": 2}), {}, {"b": 2})
        with pytest.raises(CheckpointConflictError) as caught:
            two.put(conf("t", "", base_id, **{EXPECTED_LATEST: base_id}),
                    make_checkpoint({"b": "two"}, {"a": 1, "b": 2}), {}, {"b": 2})
        assert caught.value.actual == won["configurable"]["checkpoint_id"]
        latest = two.get_tuple(conf("t"))
        assert latest is not None and latest.checkpoint["channel_values"]["b"] == "one"


WORKER = textwrap.dedent("""
    import os, sys, time
    from hitlgraph._ids import checkpoint_id
    from hitlgraph.checkpoint.base import EXPECTED_LATEST, empty_checkpoint
    from hitlgraph.checkpoint.sqlite import SqliteSaver
    from hitlgraph.errors import CheckpointConflictError

    path, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    while not os.path.exists(go):
        time.sleep(0.005)
    conflicts = 0
    with SqliteSaver.from_conn_string(path) as saver:
        parent = None
        for i in range(count):
            # Its own thread: a plain chain with writes.
            checkpoint = empty_checkpoint(checkpoint_id(), "ts")
            checkpoint["channel_values"] = {"n": i}
            checkpoint["channel_versions"] = {"n": i + 1}
            configurable = {"thread_id": name}
            if parent:
                configurable["checkpoint_id"] = parent
            config = saver.put({"configurable": configurable}, checkpoint,
                               {"step": i, "who": name}, {"n": i + 1})
            parent = config["configurable"]["checkpoint_id"]
            saver.put_writes(config, [("n", i)], "task")
            # The shared thread: read, increment, compare-and-set; retry on conflict.
            while True:
                latest = saver.get_tuple({"configurable": {"thread_id": "shared"}})
                latest_id = latest.checkpoint["id"] if latest else None
                total = latest.checkpoint["channel_values"]["total"] if latest else 0
                version = latest.checkpoint["channel_versions"]["total"] if latest else None
                new_version = saver.get_next_version(version)
                checkpoint = empty_checkpoint(checkpoint_id(), "ts")
                checkpoint["channel_values"] = {"total": total + 1}
                checkpoint["channel_versions"] = {"total": new_version}
                configurable = {"thread_id": "shared", EXPECTED_LATEST: latest_id or ""}
                if latest_id:
                    configurable["checkpoint_id"] = latest_id
                try:
                    saver.put({"configurable": configurable}, checkpoint, {"who": name},
                              {"total": new_version})
                    break
                except CheckpointConflictError:
                    conflicts += 1
    print(conflicts)
""")


def test_two_processes_share_one_file(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    go = tmp_path / "go"
    count = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, path, name, str(count), str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("p1", "p2")
    ]
    go.touch()
    results = [proc.communicate(timeout=300) for proc in procs]
    conflicts = 0
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
        conflicts += int(out)
    with SqliteSaver.from_conn_string(path) as saver:
        for name in ("p1", "p2"):
            own = list(saver.list(conf(name)))
            assert len(own) == count
            assert [t.checkpoint["channel_values"]["n"] for t in own] == list(
                range(count))[::-1]
            assert all(t.pending_writes == [("task", "n", t.metadata["step"])] for t in own)
        shared = list(saver.list(conf("shared")))[::-1]
        # No lost update: every increment landed, on a single unbranched chain.
        assert len(shared) == 2 * count
        assert [t.checkpoint["channel_values"]["total"] for t in shared] == list(
            range(1, 2 * count + 1))
        assert shared[0].parent_config is None
        for parent, child in itertools.pairwise(shared):
            assert child.parent_config == parent.config
        assert {t.metadata.get("who") for t in shared} == {"p1", "p2"}
    print(f"compare-and-set conflicts retried: {conflicts}")


SETUP_WORKER = textwrap.dedent("""
    import os, sys, time
    from hitlgraph.checkpoint.sqlite import SqliteSaver
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.001)
    with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
        saver.setup()
""")


def test_two_processes_set_up_one_new_file(tmp_path: Path) -> None:
    path = str(tmp_path / "fresh.db")
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", SETUP_WORKER, path, str(go)],
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    conn = sqlite3.connect(path)
    try:
        versions = [v for (v,) in conn.execute(
            f"SELECT v FROM {_sql.MIGRATIONS_TABLE} ORDER BY v")]
        assert versions == list(range(len(_sql.MIGRATIONS)))
    finally:
        conn.close()


# -- async -------------------------------------------------------------------------------------


def test_async_saver_round_trip(tmp_path: Path) -> None:
    path = str(tmp_path / "async.db")

    async def main() -> None:
        async with AsyncSqliteSaver.from_conn_string(path) as saver:
            first = make_checkpoint({"a": 1, "b": "x"}, {"a": 1, "b": 1})
            c1 = await saver.aput(conf("t", **{EXPECTED_LATEST: ""}), first,
                                  {"source": "input", "step": -1}, {"a": 1, "b": 1})
            second = make_checkpoint({"a": 2}, {"a": 2, "b": 1})
            c2 = await saver.aput(c1, second, {"source": "loop", "step": 0}, {"a": 2})
            await saver.aput_writes(c2, [("a", 3), ("__interrupt__", "why")], "task")

            latest = await saver.aget_tuple(conf("t"))
            assert latest is not None
            assert latest.config == c2 and latest.parent_config == c1
            assert latest.checkpoint["channel_values"] == {"a": 2, "b": "x"}
            assert latest.pending_writes == [("task", "a", 3), ("task", "__interrupt__", "why")]
            assert await saver.aget(c1) is not None

            listed = [t.config async for t in saver.alist(conf("t"))]
            assert listed == [c2, c1]
            assert [t.config async for t in saver.alist(None, filter={"step": -1})] == [c1]
            assert [t.config async for t in saver.alist(conf("t"), limit=1)] == [c2]
            assert [t.config async for t in saver.alist(conf("t"), before=c2)] == [c1]

            with pytest.raises(CheckpointConflictError):
                await saver.aput(conf("t", "", c1["configurable"]["checkpoint_id"],
                                      **{EXPECTED_LATEST: c1["configurable"]["checkpoint_id"]}),
                                 make_checkpoint({}, {}), {}, {})

            # Sync methods work from another thread while the loop runs.
            from_thread = await asyncio.to_thread(saver.get_tuple, conf("t"))
            assert from_thread == latest

            # Concurrent operations are serialized safely.
            await asyncio.gather(*(
                saver.aput(conf(f"many-{i}"), make_checkpoint({"i": i}, {"i": 1}), {}, {"i": 1})
                for i in range(20)
            ))
            assert len([t async for t in saver.alist(None)]) == 22

            await saver.aprune("t", keep_last=1)
            assert [t.config async for t in saver.alist(conf("t"))] == [c2]
            pruned = await saver.aget_tuple(conf("t"))
            assert pruned is not None and pruned.checkpoint["channel_values"] == {"a": 2, "b": "x"}
            await saver.adelete_thread("t")
            assert await saver.aget_tuple(conf("t")) is None
            await saver.asetup()

        async with AsyncSqliteSaver.from_conn_string(":memory:") as memory_saver:
            await memory_saver.aput(conf("m"), make_checkpoint({"a": 1}, {"a": 1}), {}, {"a": 1})
            assert await memory_saver.aget_tuple(conf("m")) is not None

    asyncio.run(main())
    # What the async saver wrote is on disk for a sync one.
    with SqliteSaver.from_conn_string(path) as saver:
        assert len(list(saver.list(None))) == 20
