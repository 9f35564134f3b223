"""The saver contract (hitlgraph.checkpoint.conformance) on every saver hitlgraph ships:
InMemorySaver, SqliteSaver and AsyncSqliteSaver on files, PostgresSaver and AsyncPostgresSaver
on a fresh schema per test (skipped without HITLGRAPH_TEST_POSTGRES_DSN, failed in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from hitlgraph.checkpoint import conformance
from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

BACKENDS = ["memory", "sqlite", "sqlite-async", "postgres", "postgres-async"]


def memory_blob_keys(saver: BaseCheckpointSaver, thread_id: str) -> set[tuple[str, str, str]]:
    assert isinstance(saver, InMemorySaver)
    return {(k[1], k[2], str(k[3])) for k in saver.blobs if k[0] == thread_id}


def sqlite_blob_keys(saver: BaseCheckpointSaver, thread_id: str) -> set[tuple[str, str, str]]:
    assert isinstance(saver, SqliteSaver)
    with saver.lock:
        rows = saver.conn.execute(
            "SELECT checkpoint_ns, channel, version FROM blobs WHERE thread_id = ?", (thread_id,)
        ).fetchall()
    return {(ns, chan, str(version)) for ns, chan, version in rows}


def postgres_blob_keys(conninfo: str) -> conformance.BlobKeys:
    import psycopg

    from hitlgraph.checkpoint.postgres import _sql

    def blob_keys(saver: BaseCheckpointSaver, thread_id: str) -> set[tuple[str, str, str]]:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            rows = conn.execute(
                f"SELECT checkpoint_ns, channel, version FROM {_sql.BLOBS} WHERE thread_id = %s",
                (thread_id,),
            ).fetchall()
        return {(ns, chan, version) for ns, chan, version in rows}

    return blob_keys


@contextmanager
def _memory() -> Iterator[BaseCheckpointSaver]:
    yield InMemorySaver()


def make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path
                 ) -> conformance.Backend:
    if name == "memory":
        return conformance.Backend(name, open=_memory, blob_keys=memory_blob_keys)
    if name == "sqlite":
        path = str(tmp_path / "checkpoints.db")
        return conformance.Backend(
            name, open=lambda: SqliteSaver.from_conn_string(path), blob_keys=sqlite_blob_keys
        )
    if name == "sqlite-async":
        path = str(tmp_path / "checkpoints.db")

        def open_sqlite_async() -> AbstractContextManager[BaseCheckpointSaver]:
            return conformance.on_loop_thread(lambda: AsyncSqliteSaver.from_conn_string(path))

        return conformance.Backend(name, open=open_sqlite_async, blob_keys=sqlite_blob_keys)
    conninfo: str = request.getfixturevalue("pg_conninfo")
    from hitlgraph.checkpoint.postgres import PostgresSaver
    from hitlgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    if name == "postgres":
        return conformance.Backend(
            name, open=lambda: PostgresSaver.from_conn_string(conninfo),
            blob_keys=postgres_blob_keys(conninfo),
        )
    assert name == "postgres-async"

    def open_postgres_async() -> AbstractContextManager[BaseCheckpointSaver]:
        return conformance.on_loop_thread(lambda: AsyncPostgresSaver.from_conn_string(conninfo))

    return conformance.Backend(name, open=open_postgres_async,
                               blob_keys=postgres_blob_keys(conninfo))


@pytest.mark.parametrize("check", list(conformance.CHECKS))
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_conformance(
    backend_name: str, check: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    conformance.run(make_backend(backend_name, request, tmp_path), check)


def test_run_all_reports_the_failing_check() -> None:
    class Forgetful(InMemorySaver):
        """Loses pending writes: breaks the contract."""

        def put_writes(self, config, writes, task_id, task_path=""):  # type: ignore[no-untyped-def]
            return None

    @contextmanager
    def open_forgetful() -> Iterator[BaseCheckpointSaver]:
        yield Forgetful()

    with pytest.raises(AssertionError, match=r"^forgetful: rich_values: pending_writes"):
        conformance.run_all(conformance.Backend("forgetful", open=open_forgetful))
    conformance.run_all(conformance.Backend("memory", open=_memory),
                        skip=["several_threads_share_one_saver", "list_many"])
