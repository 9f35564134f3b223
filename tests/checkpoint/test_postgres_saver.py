"""PostgresSaver and AsyncPostgresSaver: what is PostgreSQL's own (migrations, processes racing
on one database, connections and pools, the async shell, the import guard). The saver
contract shared with InMemorySaver and SqliteSaver is tests/checkpoint/test_conformance.py.

Each test gets a fresh schema of the database HITLGRAPH_TEST_POSTGRES_DSN names (see
conftest.py): without it they skip, and under CI=true they fail.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hitlgraph._install import install_command
from hitlgraph.checkpoint.conformance import EVIL, chain, conf, expecting, make_checkpoint
from hitlgraph.errors import CheckpointConflictError

sys.path.insert(0, str(Path(__file__).parent))
from _saver_checks import check_list_reads_in_pages, store_and_delete_evil_thread


def run_python(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture
def saver(pg_conninfo: str) -> Iterator[Any]:
    from hitlgraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(pg_conninfo) as pg_saver:
        yield pg_saver


def tables(conninfo: str) -> set[str]:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    return {name for (name,) in rows}


def migrations(conninfo: str) -> list[int]:
    import psycopg

    from hitlgraph.checkpoint.postgres import _sql

    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(f"SELECT v FROM {_sql.MIGRATIONS_TABLE} ORDER BY v").fetchall()
    return [v for (v,) in rows]


# -- importing -------------------------------------------------------------------------------

BLOCK_PSYCOPG = textwrap.dedent("""
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("psycopg", "psycopg_pool", "psycopg_binary"):
                raise ImportError(f"No module named {name!r} (blocked by the test)")
            return None

    sys.meta_path.insert(0, Block())
""")


def test_import_guard_names_the_extra() -> None:
    out = run_python(BLOCK_PSYCOPG + textwrap.dedent("""
        import hitlgraph, hitlgraph.checkpoint.sqlite, hitlgraph.checkpoint.conformance
        try:
            import hitlgraph.checkpoint.postgres
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("imported without psycopg")
    """))
    assert out.returncode == 0, out.stderr
    assert install_command("postgres") in out.stdout


def test_import_hitlgraph_does_not_import_psycopg() -> None:
    out = run_python(textwrap.dedent("""
        import sys
        import hitlgraph, hitlgraph.checkpoint.sqlite, hitlgraph.checkpoint.conformance
        print(sorted(m for m in sys.modules if m.startswith("psycopg")))
    """))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def collect(ops: Any, reply: Any = None) -> list[Any]:
    """Drive an operation of `_sql` with no database: every statement gets `reply` as rows."""
    from hitlgraph.checkpoint._store.ops import Batch

    statements = []
    try:
        statement = next(ops)
        while True:
            if isinstance(statement, Batch):
                statements.extend(statement.statements)
                statement = ops.send([reply] * len(statement.statements))
                continue
            statements.append(statement)
            statement = ops.send(reply)
    except StopIteration:
        return statements


def test_user_data_never_enters_sql_text() -> None:
    from hitlgraph.checkpoint._store import gc, reads, writes
    from hitlgraph.checkpoint._store.encode import encode_put, encode_writes
    from hitlgraph.checkpoint.postgres._sql import DIALECT as d
    from hitlgraph.checkpoint.serde import MsgpackSerializer

    serde = MsgpackSerializer()
    evil_conf = conf(EVIL, EVIL, EVIL, **expecting(EVIL))
    checkpoint = make_checkpoint({EVIL: EVIL}, {EVIL: EVIL})
    encoded = encode_put(d, serde, evil_conf, checkpoint, {EVIL: EVIL}, {EVIL: EVIL})
    statements = collect(writes.put(d, encoded), [(EVIL, 1, False, None)])
    statements += collect(writes.put_writes(d, encode_writes(
        serde, conf(EVIL, EVIL, EVIL), [(EVIL, EVIL), ("__error__", EVIL)], EVIL, EVIL)))
    statements += collect(reads.get_tuple(d, serde, evil_conf), [])
    statements += collect(gc.delete_thread(d, EVIL)) + collect(gc.prune(d, EVIL, 1))
    cursor = reads.list_cursor(d, evil_conf, filter={EVIL: EVIL, "step": 1, "x": [EVIL]},
                               before=evil_conf, limit=3)
    assert cursor is not None
    statements += collect(reads.list_page(d, serde, cursor), [])
    assert len(statements) >= 8
    for statement in statements:
        assert EVIL not in statement.sql and "DROP" not in statement.sql
        if isinstance(statement.params, dict):
            names = set(re.findall(r"%\((\w+)\)s", statement.sql))
            assert names == set(statement.params) and "%s" not in statement.sql
        else:
            assert statement.sql.count("%s") == len(statement.params), statement.sql


# -- schema ----------------------------------------------------------------------------------


def test_setup_twice_creates_the_schema_once(pg_conninfo: str) -> None:
    import psycopg

    from hitlgraph.checkpoint.postgres import PostgresSaver, _sql

    with PostgresSaver.from_conn_string(pg_conninfo) as saver:
        saver.setup()
        saver.is_setup = False
        saver.setup()
        chain(saver, "t", 2)
    assert set(_sql.TABLES) <= tables(pg_conninfo)
    assert migrations(pg_conninfo) == list(range(len(_sql.MIGRATIONS)))
    # A saver on a plain connection sets itself up on first use.
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        lazy = PostgresSaver(conn)
        assert not lazy.is_setup
        found = lazy.get_tuple(conf("t"))
        assert lazy.is_setup and found is not None
        assert found.checkpoint["channel_values"] == {"a": "first", "b": 1}


SETUP_WORKER = textwrap.dedent("""
    import os, sys, time
    from hitlgraph.checkpoint.postgres import PostgresSaver
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.001)
    with PostgresSaver.from_conn_string(sys.argv[1]) as saver:
        saver.setup()
""")


def test_processes_set_up_one_new_schema_at_once(pg_conninfo: str, tmp_path: Path) -> None:
    from hitlgraph.checkpoint.postgres import _sql

    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", SETUP_WORKER, pg_conninfo, str(go)],
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert set(_sql.TABLES) <= tables(pg_conninfo)
    assert migrations(pg_conninfo) == list(range(len(_sql.MIGRATIONS)))


def test_latest_lookup_uses_the_primary_key(saver: Any) -> None:
    from hitlgraph.checkpoint.postgres import _sql

    chain(saver, "t", 30)
    with saver.conn.connection() as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(
            "EXPLAIN " + _sql._SELECT_LATEST, ("t", "")).fetchall())
        conn.execute("RESET enable_seqscan")
    assert "Index Scan Backward" in plan and "Sort" not in plan.split("SubPlan")[0], plan


def test_sql_looking_data_leaves_the_tables(saver: Any, pg_conninfo: str) -> None:
    from hitlgraph.checkpoint.postgres import _sql

    store_and_delete_evil_thread(saver)
    assert set(_sql.TABLES) <= tables(pg_conninfo)


def test_list_reads_in_pages(saver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from hitlgraph.checkpoint.postgres import _sql

    monkeypatch.setattr(_sql.DIALECT, "list_page_size", 3)
    check_list_reads_in_pages(saver)


def test_growing_list_is_stored_as_deltas(saver: Any, pg_conninfo: str) -> None:
    import psycopg

    from hitlgraph.checkpoint.postgres import PostgresSaver, _sql

    messages: list[str] = []
    parent = None
    for i in range(50):
        messages = [*messages, f"message number {i}: " + "x" * 200]
        checkpoint = make_checkpoint({"messages": messages}, {"messages": i + 1})
        config = saver.put(conf("chat", "", parent), checkpoint, {}, {"messages": i + 1})
        parent = config["configurable"]["checkpoint_id"]
    with psycopg.connect(pg_conninfo) as conn:
        (stored,) = conn.execute(
            f"SELECT sum(length(blob)) FROM {_sql.BLOBS} WHERE thread_id = 'chat'").fetchone()
    whole = sum(len(str(messages[:n])) for n in range(1, 51))
    assert stored < whole / 10, (stored, whole)
    # A new saver (nothing remembered) reads the chains back.
    with PostgresSaver.from_conn_string(pg_conninfo) as fresh:
        found = fresh.get_tuple(conf("chat"))
        assert found is not None and found.checkpoint["channel_values"]["messages"] == messages
        fresh.prune("chat", keep_last=1)
        found = fresh.get_tuple(conf("chat"))
        assert found is not None and found.checkpoint["channel_values"]["messages"] == messages


# -- connections -----------------------------------------------------------------------------


def test_single_connections_and_a_plain_pool(pg_conninfo: str) -> None:
    import psycopg
    from psycopg import IsolationLevel
    from psycopg.pq import TransactionStatus
    from psycopg_pool import ConnectionPool

    from hitlgraph.checkpoint.postgres import PostgresSaver

    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        one = PostgresSaver(conn)
        config = one.put(conf("t", **expecting("")), make_checkpoint({"a": 1}, {"a": 1}),
                         {}, {"a": 1})
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                chain(one, f"thread-{n}", 10)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        assert len(list(one.list(None))) == 41
    # Not autocommit, REPEATABLE READ: the saver commits its own work, leaves no transaction
    # open, and its compare-and-set still sees what others committed.
    with psycopg.connect(pg_conninfo) as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        legacy = PostgresSaver(conn)
        found = legacy.get_tuple(conf("t"))
        assert found is not None and found.config == config
        assert conn.info.transaction_status == TransactionStatus.IDLE
        with PostgresSaver.from_conn_string(pg_conninfo) as other:
            moved = other.put(conf("t", "", config["configurable"]["checkpoint_id"]),
                              make_checkpoint({"a": 2}, {"a": 2}), {}, {"a": 2})
        with pytest.raises(CheckpointConflictError) as caught:
            legacy.put(conf("t", **expecting(config["configurable"]["checkpoint_id"])),
                       make_checkpoint({"a": 3}, {"a": 3}), {}, {"a": 3})
        assert caught.value.actual == moved["configurable"]["checkpoint_id"]
        assert conn.info.transaction_status == TransactionStatus.IDLE
    with ConnectionPool(pg_conninfo, min_size=1, max_size=2, open=False) as pool:
        pooled = PostgresSaver(pool)
        latest = pooled.get_tuple(conf("t"))
        assert latest is not None and latest.config == moved


# -- several processes -----------------------------------------------------------------------


def test_another_process_reads_what_one_wrote(saver: Any, pg_conninfo: str) -> None:
    configs = chain(saver, "t", 3)
    saver.put_writes(configs[-1], [("b", "pending")], "task")
    script = textwrap.dedent("""
        import json, sys
        from hitlgraph.checkpoint.postgres import PostgresSaver
        with PostgresSaver.from_conn_string(sys.argv[1]) as saver:
            found = saver.get_tuple({"configurable": {"thread_id": "t"}})
            print(json.dumps([found.config, found.checkpoint["channel_values"],
                              found.pending_writes, len(list(saver.list(None)))]))
    """)
    out = run_python(script, pg_conninfo)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        configs[-1], {"a": "first", "b": 2}, [["task", "b", "pending"]], 3]


RACE_WORKER = textwrap.dedent("""
    import os, sys, time
    from hitlgraph._ids import checkpoint_id
    from hitlgraph.checkpoint.base import empty_checkpoint
    from hitlgraph.checkpoint.conformance import expecting
    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.errors import CheckpointConflictError

    conninfo, name, rounds, folder, count = sys.argv[1:6]
    rounds, count = int(rounds), int(count)

    def barrier(tag):
        open(os.path.join(folder, f"{tag}.{name}"), "w").close()
        deadline = time.monotonic() + 60
        while sum(f.startswith(f"{tag}.") for f in os.listdir(folder)) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"barrier {tag} timed out")
            time.sleep(0.0005)

    with PostgresSaver.from_conn_string(conninfo) as saver:
        for r in range(rounds):
            barrier(f"read{r}")
            latest = saver.get_tuple({"configurable": {"thread_id": "race"}})
            base = latest.checkpoint["id"]
            barrier(f"put{r}")
            checkpoint = empty_checkpoint(checkpoint_id(), "ts")
            checkpoint["channel_values"] = {"who": name}
            checkpoint["channel_versions"] = {"who": checkpoint["id"]}
            config = {"configurable": {"thread_id": "race", "checkpoint_id": base,
                                       **expecting(base)}}
            try:
                saver.put(config, checkpoint, {"round": r, "who": name},
                          {"who": checkpoint["id"]})
                print(f"won {r}", flush=True)
            except CheckpointConflictError:
                print(f"lost {r}", flush=True)
""")


def test_processes_racing_compare_and_set_have_one_winner(
    saver: Any, pg_conninfo: str, tmp_path: Path
) -> None:
    chain(saver, "race", 1)
    rounds, count = 8, 3
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_WORKER, pg_conninfo, f"p{n}", str(rounds),
             str(tmp_path), str(count)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(count)
    ]
    outcomes: dict[int, list[str]] = {r: [] for r in range(rounds)}
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        for line in out.splitlines():
            result, r = line.split()
            outcomes[int(r)].append(result)
    for r in range(rounds):
        assert sorted(outcomes[r]) == ["lost"] * (count - 1) + ["won"], (r, outcomes[r])
    history = list(saver.list(conf("race")))[::-1]
    assert len(history) == rounds + 1
    for parent, child in itertools.pairwise(history):
        assert child.parent_config == parent.config
    assert [t.metadata.get("round") for t in history[1:]] == list(range(rounds))


COUNTER_WORKER = textwrap.dedent("""
    import os, sys, time
    from hitlgraph._ids import checkpoint_id
    from hitlgraph.checkpoint.base import empty_checkpoint
    from hitlgraph.checkpoint.conformance import expecting
    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.errors import CheckpointConflictError

    conninfo, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    while not os.path.exists(go):
        time.sleep(0.002)
    conflicts = 0
    with PostgresSaver.from_conn_string(conninfo) as saver:
        for i in range(count):
            while True:  # read, increment, compare-and-set; retry on conflict
                latest = saver.get_tuple({"configurable": {"thread_id": "shared"}})
                latest_id = latest.checkpoint["id"] if latest else None
                total = latest.checkpoint["channel_values"]["total"] if latest else 0
                checkpoint = empty_checkpoint(checkpoint_id(), "ts")
                checkpoint["channel_values"] = {"total": total + 1}
                checkpoint["channel_versions"] = {"total": checkpoint["id"]}
                configurable = {"thread_id": "shared", **expecting(latest_id or "")}
                if latest_id:
                    configurable["checkpoint_id"] = latest_id
                try:
                    saver.put({"configurable": configurable}, checkpoint, {"who": name},
                              {"total": checkpoint["id"]})
                    break
                except CheckpointConflictError:
                    conflicts += 1
    print(conflicts)
""")


def test_processes_incrementing_one_thread_lose_no_update(
    saver: Any, pg_conninfo: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    count = 60
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTER_WORKER, pg_conninfo, name, str(count), str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("p1", "p2")
    ]
    go.touch()
    conflicts = 0
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        conflicts += int(out)
    shared = list(saver.list(conf("shared")))[::-1]
    # Every increment landed, on a single unbranched chain.
    assert [t.checkpoint["channel_values"]["total"] for t in shared] == list(
        range(1, 2 * count + 1))
    assert shared[0].parent_config is None
    for parent, child in itertools.pairwise(shared):
        assert child.parent_config == parent.config
    assert {t.metadata.get("who") for t in shared} == {"p1", "p2"}
    print(f"compare-and-set conflicts retried: {conflicts}")


# -- async -----------------------------------------------------------------------------------


def test_async_saver_round_trip(pg_conninfo: str) -> None:
    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async def main() -> AsyncPostgresSaver:
        async with AsyncPostgresSaver.from_conn_string(pg_conninfo) as saver:
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
            assert [t.config async for t in saver.alist(conf("t"))] == [c2, c1]
            with pytest.raises(CheckpointConflictError):
                await saver.aput(conf("t", "", c1["configurable"]["checkpoint_id"],
                                      **expecting(c1["configurable"]["checkpoint_id"])),
                                 make_checkpoint({}, {}), {}, {})
            # Sync methods: from another thread they work, on the loop's thread they refuse.
            assert await asyncio.to_thread(saver.get_tuple, conf("t")) == latest
            assert len(await asyncio.to_thread(lambda: list(saver.list(None)))) == 2
            with pytest.raises(RuntimeError, match="async method"):
                saver.get_tuple(conf("t"))
            await asyncio.gather(*(
                saver.aput(conf(f"many-{i}"), make_checkpoint({"i": i}, {"i": 1}), {}, {"i": 1})
                for i in range(20)
            ))
            assert len([t async for t in saver.alist(None)]) == 22
            await saver.aprune("t", keep_last=1)
            assert [t.config async for t in saver.alist(conf("t"))] == [c2]
            await saver.adelete_thread("many-0")
            assert await saver.aget_tuple(conf("many-0")) is None
            await saver.asetup()

        import psycopg

        async with await psycopg.AsyncConnection.connect(pg_conninfo, autocommit=True) as conn:
            single = AsyncPostgresSaver(conn)
            found = await single.aget_tuple(conf("t"))
            assert found is not None and found.config == c2
            await asyncio.gather(*(single.aget_tuple(conf(f"many-{i}")) for i in range(1, 20)))
        return saver

    used = asyncio.run(main())
    # Its loop is closed: the sync methods say what to do.
    with pytest.raises(RuntimeError, match="async methods"):
        used.get_tuple(conf("t"))
    # What the async saver wrote is there for a sync one.
    with PostgresSaver.from_conn_string(pg_conninfo) as sync_saver:
        assert len(list(sync_saver.list(None))) == 20


def test_without_a_dsn_postgres_tests_skip_locally_and_fail_in_ci(
    require_postgres_fn: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HITLGRAPH_TEST_POSTGRES_DSN", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="source scripts/services"):
        require_postgres_fn()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: HITLGRAPH_TEST_POSTGRES_DSN"):
        require_postgres_fn()
    monkeypatch.setenv("HITLGRAPH_TEST_POSTGRES_DSN", "postgresql://somewhere/db")
    assert require_postgres_fn() == "postgresql://somewhere/db"


def test_a_put_that_fails_in_its_pipeline_leaves_no_transaction_open(
        pg_conninfo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg
    from psycopg.pq import TransactionStatus

    from hitlgraph.checkpoint.postgres import PostgresSaver, _sql

    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        saver = PostgresSaver(conn)
        first = saver.put(conf("t", **expecting("")), make_checkpoint({"a": 1}, {"a": 1}),
                          {}, {"a": 1})
        real = _sql._put_statements

        def failing(*args: Any, **kwargs: Any) -> list[Any]:
            statements = real(*args, **kwargs)
            return [*statements[:-1], _sql.Statement("SELECT 1 / 0"), statements[-1]]

        monkeypatch.setattr(_sql, "_put_statements", failing)
        with pytest.raises(psycopg.errors.DivisionByZero):
            saver.put(conf("t", "", first["configurable"]["checkpoint_id"]),
                      make_checkpoint({"a": 2}, {"a": 2}), {}, {"a": 2})
        assert conn.info.transaction_status == TransactionStatus.IDLE
        monkeypatch.setattr(_sql, "_put_statements", real)
        found = saver.get_tuple(conf("t"))
        assert found is not None and found.config == first
        second = saver.put(conf("t", "", first["configurable"]["checkpoint_id"]),
                           make_checkpoint({"a": 3}, {"a": 3}), {}, {"a": 3})
        assert saver.get_tuple(conf("t")).config == second  # type: ignore[union-attr]


def test_an_async_put_that_fails_in_its_pipeline_leaves_no_transaction_open(
        pg_conninfo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg
    from psycopg.pq import TransactionStatus

    from hitlgraph.checkpoint.postgres import _sql
    from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    real = _sql._put_statements

    def failing(*args: Any, **kwargs: Any) -> list[Any]:
        statements = real(*args, **kwargs)
        return [*statements[:-1], _sql.Statement("SELECT 1 / 0"), statements[-1]]

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(pg_conninfo, autocommit=True) as conn:
            saver = AsyncPostgresSaver(conn)
            first = await saver.aput(conf("t", **expecting("")),
                                     make_checkpoint({"a": 1}, {"a": 1}), {}, {"a": 1})
            monkeypatch.setattr(_sql, "_put_statements", failing)
            with pytest.raises(psycopg.errors.DivisionByZero):
                await saver.aput(conf("t", "", first["configurable"]["checkpoint_id"]),
                                 make_checkpoint({"a": 2}, {"a": 2}), {}, {"a": 2})
            assert conn.info.transaction_status == TransactionStatus.IDLE
            monkeypatch.setattr(_sql, "_put_statements", real)
            found = await saver.aget_tuple(conf("t"))
            assert found is not None and found.config == first

    asyncio.run(main())
