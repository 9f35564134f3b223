#!/usr/bin/env python3
"""What waits for a person, with many paused threads: the first page of the saver's index of
open interrupts (`saver.list_pending(limit=50)`) against today's way, decoding every thread's
latest checkpoint (what `hitlgraph threads --pending` did before the index: walk every
checkpoint, keep each thread's latest, keep the paused ones).

Each saver is filled through its own API, as a graph paused at an interrupt leaves it: per
thread an input checkpoint, the checkpoint of the step that asks (a ~1 KB state) and the
asking task's `__interrupt__` write; every other interrupt asks with a review policy (a
deadline, and one of ten assignees), so the assignee filter and the deadline order are timed
too. SQLite fills in one transaction (`batch()`).

Usage:
    python bench/bench_pending.py                      # 1,000 / 10,000 / 100,000 threads
    python bench/bench_pending.py --sizes 1000,10000   # fewer
    python bench/bench_pending.py --backends sqlite    # memory, sqlite
    python bench/bench_pending.py --slow-upto 1000     # today's way only up to 1,000 threads

Times are medians of repeated runs (the first page: 20 runs; today's way: one run per size,
it takes seconds). Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

import httpx

from hitlgraph._ids import checkpoint_id, ts_of
from hitlgraph._policy import policy_of
from hitlgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._threads import summary_from_tuple
from hitlgraph.graph import START, StateGraph
from hitlgraph.review import PendingIndex
from hitlgraph.server.app import create_app
from hitlgraph.server.config import ServerSettings
from hitlgraph.types import Interrupt, interrupt

PAYLOAD = "x" * 1024


def _checkpoint(values: dict[str, Any], step: int) -> Any:
    new_id = checkpoint_id()
    checkpoint = empty_checkpoint(new_id, ts_of(new_id))
    checkpoint["channel_values"] = values
    checkpoint["channel_versions"] = dict.fromkeys(values, checkpoint["id"])
    checkpoint["triggers"] = ["branch:to:review"] if step == 0 else ["__start__"]
    return checkpoint


def fill(saver: BaseCheckpointSaver, threads: int) -> None:
    """`threads` threads, each paused at node 'review' of graph 'bench'."""
    for i in range(threads):
        thread = f"thread-{i:06d}"
        meta = {"source": "input", "step": -1, "parents": {}, "graph_id": "bench"}
        first = _checkpoint({"__start__": {"payload": PAYLOAD}}, -1)
        config = saver.put({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}, first,
                           meta, first["channel_versions"])  # type: ignore[arg-type]
        second = _checkpoint({"payload": PAYLOAD, "branch:to:review": None}, 0)
        config = saver.put(config, second, {**meta, "source": "loop", "step": 0},
                           second["channel_versions"])  # type: ignore[arg-type]
        policy = None if i % 2 else policy_of(expires_in=3600 + i, assignee=f"user-{i % 10}")
        asked = Interrupt({"question": f"approve {i}?"}, id=f"{i:032x}", policy=policy)
        saver.put_writes(config, [("__interrupt__", [asked])], f"task-{i}", "review")


@contextlib.contextmanager
def filled(backend: str, threads: int, folder: Path) -> Iterator[BaseCheckpointSaver]:
    if backend == "memory":
        saver = InMemorySaver()
        fill(saver, threads)
        yield saver
        return
    path = folder / f"pending-{threads}.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        with saver.batch():
            fill(saver, threads)
        yield saver


def median_ms(fn: Callable[[], Any], runs: int = 20) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(backend: str, threads: int, slow: bool, folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with filled(backend, threads, folder) as saver:
        fill_s = time.perf_counter() - started
        assert isinstance(saver, PendingIndex)
        page = list(saver.list_pending(limit=50))
        assert len(page) == min(50, threads) and page[0].node == "review"
        first = median_ms(lambda: list(saver.list_pending(limit=50)), 20)
        graph = median_ms(lambda: list(saver.list_pending(graph_id="bench", limit=50)), 20)
        second = median_ms(lambda: list(saver.list_pending(limit=50, after=page[-1].cursor)),
                           20)
        assignee = median_ms(lambda: list(saver.list_pending(assignee="user-4", limit=50)), 20)
        deadline = median_ms(lambda: list(saver.list_pending(order="deadline", limit=50)), 20)
        decoded = None
        if slow:
            start = time.perf_counter()
            paused = [s for s in _decoded(saver) if s.status == "paused"]
            decoded = (time.perf_counter() - start) * 1000
            assert len(paused) == threads
    return {"backend": backend, "threads": threads, "fill_s": fill_s, "first_ms": first,
            "graph_ms": graph, "second_ms": second, "assignee_ms": assignee,
            "deadline_ms": deadline, "decoded_ms": decoded}


def _decoded(saver: BaseCheckpointSaver) -> list[Any]:
    """Every thread's summary from its latest top-level checkpoint, found by walking every
    checkpoint of every thread (`saver.list(None)`)."""
    latest: dict[str, Any] = {}
    for tup in saver.list(None):
        conf = tup.config["configurable"]
        if not conf.get("checkpoint_ns") and conf["thread_id"] not in latest:
            latest[conf["thread_id"]] = tup  # newest first: the first seen is the latest
    return [summary_from_tuple(tup) for tup in latest.values()]


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


# -- the server's POST /threads/search with status "interrupted" ----------------------------

SERVER_PAGE = 10
"""The search's page size (langgraph-sdk's default limit)."""

_THREAD_SQL = ("INSERT INTO hg_threads (tenant, thread_id, created_at, updated_at, "
               'state_updated_at, metadata, status, "values", interrupts, graph_id) '
               "VALUES (?, ?, ?, ?, ?, ?, 'interrupted', ?, ?, 'bench')")

PROPOSED_SQL = ("SELECT thread_id FROM hg_threads WHERE tenant = ? AND status = 'interrupted' "
                "ORDER BY updated_at DESC, rowid ASC LIMIT ? OFFSET 0")
"""The first page as one indexed read (what the store would run, asked for a page)."""
PROPOSED_INDEX = ("CREATE INDEX IF NOT EXISTS hg_threads_by_status "
                  "ON hg_threads (tenant, status, updated_at)")


async def _served(db: Path, work: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    """`work` with an HTTP client of a server app on `db` (in-process, no sockets; its
    workers idle)."""
    settings = ServerSettings(graphs={"bench": _review_graph()}, db=str(db), read_env=False,
                              poll_seconds=60.0, expire_seconds=3600.0, notify_seconds=3600.0,
                              sweep_seconds=3600.0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await work(http)


class _State(TypedDict, total=False):
    payload: str
    approved: bool


def _review_graph() -> StateGraph[_State]:
    """The graph the server's threads are paused in (its node asks, as fill() records)."""
    def review(state: _State) -> _State:
        return {"approved": bool(interrupt({"question": "approve?"}))}

    builder = StateGraph(_State)
    builder.add_node("review", review)
    builder.add_edge(START, "review")
    return builder


def fill_server(db: Path, threads: int) -> None:
    """`threads` thread rows paused at an interrupt, as the worker leaves them (a ~1 KB
    state, the interrupt under its task), written in one transaction; the tenant is the one
    the server gives a request without authentication (read from a thread made over HTTP)."""
    async def first(http: httpx.AsyncClient) -> str:
        return str((await http.post("/threads", json={})).json()["thread_id"])

    made = asyncio.run(_served(db, first))
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        (tenant,) = conn.execute("SELECT tenant FROM hg_threads WHERE thread_id = ?",
                                 (made,)).fetchone()
        conn.executemany(_THREAD_SQL, (_thread_values(tenant, i) for i in range(threads)))


def _thread_values(tenant: str, i: int) -> tuple[Any, ...]:
    at = f"2026-01-01T00:00:00.{i:06d}+00:00" if i < 1_000_000 else "2026-01-02T00:00:00+00:00"
    interrupt = {"id": f"{i:032x}", "value": {"question": f"approve {i}?"}}
    return (tenant, str(uuid.UUID(int=i + 1)), at, at, at, json.dumps({"graph_id": "bench"}),
            json.dumps({"payload": PAYLOAD}), json.dumps({f"task-{i}": [interrupt]}))


def measure_server(threads: int, folder: Path) -> dict[str, Any]:
    """The first page of the interrupted threads over HTTP (today's route), then the same page
    as one SQL read, without and with an index on (tenant, status, updated_at)."""
    db = folder / f"server-{threads}.sqlite"
    started = time.perf_counter()
    fill_server(db, threads)
    fill_s = time.perf_counter() - started
    runs = 3 if threads > 10_000 else 10

    async def pages(http: httpx.AsyncClient) -> dict[str, float]:
        async def page(**extra: Any) -> None:
            body = {"status": "interrupted", "limit": SERVER_PAGE, **extra}
            answer = await http.post("/threads/search", json=body)
            assert answer.status_code == 200 and len(answer.json()) == SERVER_PAGE, answer.text
        return {"route_ms": await amedian_ms(page, runs),
                "metadata_ms": await amedian_ms(lambda: page(metadata={"graph_id": "bench"}),
                                                runs)}

    timed = asyncio.run(_served(db, pages))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (tenant,) = conn.execute("SELECT tenant FROM hg_threads LIMIT 1").fetchone()
        def query() -> None:
            conn.execute(PROPOSED_SQL, (tenant, SERVER_PAGE + 1)).fetchall()
        plain = median_ms(query, runs)
        conn.execute(PROPOSED_INDEX)
        indexed = median_ms(query, 20)
    return {"threads": threads, "fill_s": fill_s, **timed, "sql_ms": plain,
            "indexed_ms": indexed}


async def amedian_ms(fn: Callable[[], Awaitable[Any]], runs: int) -> float:
    await fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def print_server(rows: list[dict[str, Any]]) -> None:
    print(f"| paused threads | POST /threads/search, first {SERVER_PAGE}, ms "
          "| with a metadata filter, ms | that page in SQL, no index, ms "
          "| in SQL with the index, ms | fill, s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['threads']:,} | {_fmt(r['route_ms'])} | {_fmt(r['metadata_ms'])} "
              f"| {_fmt(r['sql_ms'])} | {_fmt(r['indexed_ms'])} | {r['fill_s']:.1f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--backends", default="memory,sqlite")
    parser.add_argument("--slow-upto", type=int, default=10_000,
                        help="time today's way (decode every thread) up to this many threads")
    parser.add_argument("--server", action="store_true",
                        help="time the server's POST /threads/search instead (SQLite)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        if args.server:
            found = []
            for size in sizes:
                print(f"[bench_pending] server, {size:,} paused threads ...", file=sys.stderr,
                      flush=True)
                found.append(measure_server(size, Path(folder)))
            print_server(found)
            return
        rows = []
        for backend in args.backends.split(","):
            for size in sizes:
                print(f"[bench_pending] {backend}, {size:,} paused threads ...",
                      file=sys.stderr, flush=True)
                rows.append(measure(backend, size, size <= args.slow_upto, Path(folder)))
    print("| saver | paused threads | list_pending first page, ms | with graph_id, ms "
          "| second page, ms | with assignee, ms | deadline order, ms "
          "| decode every thread (today), ms | fill, s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['backend']} | {r['threads']:,} | {_fmt(r['first_ms'])} "
              f"| {_fmt(r['graph_ms'])} | {_fmt(r['second_ms'])} | {_fmt(r['assignee_ms'])} "
              f"| {_fmt(r['deadline_ms'])} | {_fmt(r['decoded_ms'])} | {r['fill_s']:.1f} |")


if __name__ == "__main__":
    main()
