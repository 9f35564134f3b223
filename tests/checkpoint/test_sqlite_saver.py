"""SqliteSaver and AsyncSqliteSaver: what is SQLite's own (pages, indexes, pragmas, migrations,
several connections and processes on one file, the async shell). The saver contract shared
with InMemorySaver and PostgresSaver is tests/checkpoint/test_conformance.py.

All SQLite tests use real files under tmp_path.
"""

from __future__ import annotations

import asyncio
import itertools
import operator
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypedDict

import ormsgpack
import pytest

from hitlgraph.checkpoint._store.calls import Call
from hitlgraph.checkpoint._store.schema import migrate
from hitlgraph.checkpoint.conformance import chain, conf, expecting, make_checkpoint
from hitlgraph.checkpoint.sqlite import SqliteSaver, _sql
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.errors import CheckpointConflictError
from hitlgraph.graph import END, START, StateGraph

sys.path.insert(0, str(Path(__file__).parent))
from _saver_checks import check_list_reads_in_pages, store_and_delete_evil_thread


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.db")) as sqlite_saver:
        yield sqlite_saver


# -- SQLite only -------------------------------------------------------------------------------


def test_sql_looking_data_leaves_the_tables(db: SqliteSaver) -> None:
    store_and_delete_evil_thread(db)
    tables = {name for (name,) in db.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"checkpoints", "blobs", "writes", _sql.MIGRATIONS_TABLE} <= tables


def test_list_reads_in_pages(db: SqliteSaver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sql.DIALECT, "list_page_size", 3)
    check_list_reads_in_pages(db)


def test_latest_lookup_uses_the_index(db: SqliteSaver) -> None:
    chain(db, "t", 50)
    plan = " ".join(
        str(row[-1]) for row in db.conn.execute(
            "EXPLAIN QUERY PLAN " + _sql.DIALECT.select_latest, ("t", ""))
    )
    assert "USING PRIMARY KEY" in plan and "TEMP B-TREE" not in plan, plan


@contextmanager
def statements_of(saver: SqliteSaver) -> Iterator[list[str]]:
    """The SQL the saver's connection runs inside the block (a row of an executemany each)."""
    seen: list[str] = []
    saver.conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        saver.conn.set_trace_callback(None)


def test_values_and_writes_are_read_in_one_statement_by_primary_key(db: SqliteSaver) -> None:
    values = {f"c{i}": i for i in range(300)}  # more channels than one statement reads
    versions = dict.fromkeys(values, 1)
    config = db.put(conf("t"), make_checkpoint(values, versions), {}, versions)
    with statements_of(db) as seen:
        got = db.get_tuple(config)
    assert got is not None and got.checkpoint["channel_values"] == values
    assert len(seen) == 5 and sum("JOIN blobs" in sql for sql in seen) == 2, seen  # and BEGIN,
    # the checkpoint's row, COMMIT; the first of the two reads its pending writes too
    plan = " ".join(str(row[-1]) for row in db.conn.execute(
        "EXPLAIN QUERY PLAN " + _sql._select_stored(3, writes=True),
        ("a", 1, "b", 1, "c", 1, "t", "", "t", "", "c")))
    assert "channel=? AND version=?" in plan and "SCAN b" not in plan, plan


def test_compare_and_set_put_stores_values_in_one_call_and_a_refusal_nothing(
        db: SqliteSaver) -> None:
    first = db.put(conf("t", **expecting("")), make_checkpoint({"a": 1}, {"a": 1}), {}, {"a": 1})
    first_id = first["configurable"]["checkpoint_id"]
    with statements_of(db) as seen:
        db.put(conf("t", checkpoint=first_id, **expecting(first_id)),
               make_checkpoint({"a": 2}, {"a": 2}), {}, {"a": 2})
    assert [sql.split()[0] for sql in seen] == [
        "BEGIN", "SELECT", "INSERT", "INSERT", "COMMIT"], seen
    with pytest.raises(CheckpointConflictError):
        db.put(conf("t", checkpoint=first_id, **expecting(first_id)),
               make_checkpoint({"a": 3}, {"a": 3}), {}, {"a": 3})
    assert db.conn.execute("SELECT COUNT(*) FROM blobs WHERE version = 3").fetchone() == (0,)
    assert db.conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone() == (2,)


def test_a_tasks_first_writes_are_one_insert(db: SqliteSaver) -> None:
    config = db.put(conf("t"), make_checkpoint({"a": 1}, {"a": 1}), {}, {"a": 1})
    with statements_of(db) as seen:
        db.put_writes(config, [("a", 2), ("b", 3)], "task-1")
    assert [sql.split()[0] for sql in seen] == ["BEGIN", "INSERT", "COMMIT"], seen


def test_pragmas_and_setup_idempotent(tmp_path: Path) -> None:
    path = str(tmp_path / "setup.db")
    with SqliteSaver.from_conn_string(path) as saver:
        assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert saver.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert saver.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        saver.setup()
        applied = saver._drive(Call(migrate(_sql.DIALECT, saver.serde), write=True))
        assert applied == len(_sql.MIGRATIONS) - 1
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
        won = one.put(conf("t", "", base_id, **expecting(base_id)),
                      make_checkpoint({"b": "one"}, {"a": 1, "b": 2}), {}, {"b": 2})
        with pytest.raises(CheckpointConflictError) as caught:
            two.put(conf("t", "", base_id, **expecting(base_id)),
                    make_checkpoint({"b": "two"}, {"a": 1, "b": 2}), {}, {"b": 2})
        assert caught.value.actual == won["configurable"]["checkpoint_id"]
        latest = two.get_tuple(conf("t"))
        assert latest is not None and latest.checkpoint["channel_values"]["b"] == "one"


WORKER = textwrap.dedent("""
    import os, sys, time
    from hitlgraph._ids import checkpoint_id
    from hitlgraph.checkpoint.base import empty_checkpoint
    from hitlgraph.checkpoint.conformance import expecting
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
                configurable = {"thread_id": "shared", **expecting(latest_id or "")}
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
            c1 = await saver.aput(conf("t", **expecting("")), first,
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
                                      **expecting(c1["configurable"]["checkpoint_id"])),
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


# -- compact storage ---------------------------------------------------------------------------


class Chat(TypedDict):
    messages: Annotated[list[str], operator.add]


def _grow_chat(db: SqliteSaver, steps: int) -> Any:
    def agent(state: Chat) -> dict[str, Any]:
        return {"messages": [f"{len(state['messages']):04d}".ljust(200, "m")]}

    graph = StateGraph(Chat)
    graph.add_node("agent", agent)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges(
        "agent", lambda s: END if len(s["messages"]) >= steps else "agent", ["agent", END])
    app = graph.compile(checkpointer=db)
    config = {"configurable": {"thread_id": "chat"}, "recursion_limit": steps + 10}
    app.invoke({"messages": []}, config)
    return app, config


def test_checkpoint_time_and_plain_metadata_are_not_stored_twice(db: SqliteSaver) -> None:
    app, config = _grow_chat(db, 5)
    rows = db.conn.execute("SELECT ts, metadata_type, metadata FROM checkpoints").fetchall()
    assert rows and all(row == (None, None, None) for row in rows)
    for state in app.get_state_history(config):
        found = db.get_tuple(state.config)
        assert found is not None and found.checkpoint["ts"] == state.created_at
        assert found.metadata["source"] in ("input", "loop")


class _Name(str):
    pass


@pytest.mark.parametrize("value", [(1, 2), b"\x00", 2**70, float("inf"), {1: "a"},
                                   _Name("n"), [1, (2,)]],
                         ids=["tuple", "bytes", "big int", "inf", "int key", "str subclass",
                              "nested tuple"])
def test_metadata_json_cannot_hold_is_stored_as_msgpack(db: SqliteSaver, value: Any) -> None:
    odd = {"source": "update", "step": 1, "parents": {}, "odd": value}
    config = db.put(conf("t"), make_checkpoint({}, {}), odd, {})  # type: ignore[arg-type]
    found = db.get_tuple(config)
    assert found is not None and found.metadata == odd
    assert type(found.metadata["odd"]) is type(value) or isinstance(value, _Name)
    assert db.conn.execute("SELECT metadata IS NOT NULL FROM checkpoints").fetchone() == (1,)


def test_a_steps_appended_items_are_stored_once(db: SqliteSaver) -> None:
    app, config = _grow_chat(db, 60)
    kinds = [entry[2] for (packed,) in db.conn.execute("SELECT writes FROM writes")
             for entry in ormsgpack.unpackb(packed) if entry[1] == "messages"]
    assert kinds.count("ref") >= 55  # the rest are full values (the first, and snapshots)
    history = list(app.get_state_history(config))
    checked = 0
    for newer, older in itertools.pairwise(history):
        if older.metadata["step"] < 0:  # the input checkpoint: __start__ wrote the input
            continue
        found = db.get_tuple(older.config)
        assert found is not None
        written = [v for _, chan, v in found.pending_writes if chan == "messages"]
        assert written == [newer.values["messages"][-1:]]
        checked += 1
    assert checked == 60


def test_500_appends_of_200_bytes_stay_under_5x_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    with SqliteSaver.from_conn_string(str(path)) as db:
        app, config = _grow_chat(db, 500)
        assert len(app.get_state(config).values["messages"]) == 500
    size = sum(p.stat().st_size for p in tmp_path.glob("chat.db*"))
    assert size <= 5 * 500 * 200, size


def test_long_values_live_in_blob_data_and_leave_with_their_rows(db: SqliteSaver) -> None:
    def count() -> int:
        return int(db.conn.execute("SELECT COUNT(*) FROM blob_data").fetchone()[0])

    long = "x" * (2 * _sql.INLINE_MAX)
    first = db.put(conf("t"), make_checkpoint({"a": long, "b": "short"}, {"a": 1, "b": 1}),
                   {}, {"a": 1, "b": 1})
    db.put_writes(first, [("a", long), ("b", "short")], "task-1")
    assert count() == 2  # the long value, and the task's packed writes
    found = db.get_tuple(first)
    assert found is not None and found.checkpoint["channel_values"]["a"] == long
    assert found.pending_writes == [("task-1", "a", long), ("task-1", "b", "short")]
    db.put_writes(first, [("__error__", "y" * 2 * _sql.INLINE_MAX)], "task-1")
    assert count() == 2  # the task's row was rewritten: its old packed writes went
    second = db.put(conf("t", "", _id_of(first)),
                    make_checkpoint({"a": long + "!", "b": "short"}, {"a": 2, "b": 1}), {},
                    {"a": 2})
    db.prune("t", keep_last=1)
    assert count() == 1  # only the kept checkpoint's value
    assert db.get_tuple(second).checkpoint["channel_values"]["a"] == long + "!"  # type: ignore[union-attr]
    db.delete_thread("t")
    assert count() == 0


def _id_of(config: Any) -> str:
    return str(config["configurable"]["checkpoint_id"])
