#!/usr/bin/env python3
"""Listing threads with many of them: the first page of the saver's thread listing
(`saver.list_threads(limit=50)`), a partial id resolved (`list_threads(prefix=...)`, what
`hitlgraph state abc` does), and `hitlgraph threads`' first page (that listing, then the 50
latest checkpoints decoded), against the walk `hitlgraph threads` made before: every
checkpoint of every thread through `saver.list(None)`.

Each saver is filled through its own API: per thread three checkpoints (an input, two
steps, a ~1 KB state). SQLite fills in one transaction (`batch()`); PostgreSQL (with
--backends postgres and HITLGRAPH_TEST_POSTGRES_DSN set) in a fresh schema, dropped after.

Usage:
    python bench/bench_threads.py                       # 1,000 / 10,000 / 100,000 threads
    python bench/bench_threads.py --sizes 1000,10000    # fewer
    python bench/bench_threads.py --backends sqlite     # memory, sqlite, postgres
    python bench/bench_threads.py --slow-upto 1000      # the old walk only up to 1,000 threads

Times are medians of 20 runs (the old walk: one run). Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_pending import median_ms

from hitlgraph._ids import checkpoint_id, ts_of
from hitlgraph.checkpoint.base import BaseCheckpointSaver, ThreadListing, empty_checkpoint
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._threads import thread_page

PAYLOAD = "x" * 1024
STEPS = 3


def fill(saver: BaseCheckpointSaver, threads: int) -> None:
    """`threads` threads "thread-000000", ..., each a chain of STEPS checkpoints."""
    for i in range(threads):
        config: dict[str, Any] = {"configurable": {"thread_id": f"thread-{i:06d}",
                                                   "checkpoint_ns": ""}}
        for step in range(STEPS):
            new_id = checkpoint_id()
            checkpoint = empty_checkpoint(new_id, ts_of(new_id))
            checkpoint["channel_values"] = {"payload": PAYLOAD, "step": step}
            checkpoint["channel_versions"] = {"payload": 1, "step": step + 1}
            new_versions = {"payload": 1, "step": step + 1} if step == 0 else {"step": step + 1}
            config = saver.put(config, checkpoint, {"source": "loop", "step": step},
                               new_versions)


@contextlib.contextmanager
def filled(backend: str, threads: int, folder: Path) -> Iterator[BaseCheckpointSaver]:
    if backend == "memory":
        saver: BaseCheckpointSaver = InMemorySaver()
        fill(saver, threads)
        yield saver
    elif backend == "sqlite":
        with SqliteSaver.from_conn_string(str(folder / f"threads-{threads}.db")) as lite:
            with lite.batch():
                fill(lite, threads)
            yield lite
    else:
        with _postgres() as conninfo:
            from hitlgraph.checkpoint.postgres import PostgresSaver

            with PostgresSaver.from_conn_string(conninfo) as pg:
                fill(pg, threads)
                yield pg


@contextlib.contextmanager
def _postgres() -> Iterator[str]:
    """A conninfo for a fresh schema of HITLGRAPH_TEST_POSTGRES_DSN's database."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    dsn = os.environ.get("HITLGRAPH_TEST_POSTGRES_DSN")
    if not dsn:
        raise SystemExit("--backends postgres needs HITLGRAPH_TEST_POSTGRES_DSN")
    name = f"hg_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield make_conninfo(dsn, options=f"-c search_path={name}")
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def measure(backend: str, threads: int, slow: bool, folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with filled(backend, threads, folder) as saver:
        fill_s = time.perf_counter() - started
        assert isinstance(saver, ThreadListing)
        page = list(saver.list_threads(limit=50))
        assert len(page) == min(50, threads) and page[0].thread_id == "thread-000000"
        middle = f"thread-{threads // 2:06d}"
        assert [t.thread_id for t in saver.list_threads(prefix=middle, limit=2)] == [middle]
        row: dict[str, Any] = {
            "backend": backend, "threads": threads, "fill_s": fill_s,
            "first_ms": median_ms(lambda: list(saver.list_threads(limit=50)), 20),
            "next_ms": median_ms(lambda: list(saver.list_threads(limit=50,
                                                                 after=page[-1].cursor))),
            "prefix_ms": median_ms(lambda: list(saver.list_threads(prefix=middle, limit=11))),
            "cli_page_ms": None, "walk_ms": None,
        }
        if isinstance(saver, SqliteSaver):
            cli = thread_page(saver)
            assert len(cli.threads) == min(50, threads)
            row["cli_page_ms"] = median_ms(lambda: thread_page(saver))
        if slow:
            start = time.perf_counter()
            walked = {t.config["configurable"]["thread_id"] for t in saver.list(None)}
            row["walk_ms"] = (time.perf_counter() - start) * 1000
            assert len(walked) == threads
    return row


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--backends", default="memory,sqlite")
    parser.add_argument("--slow-upto", type=int, default=10_000,
                        help="walk every checkpoint (the old way) only up to this many threads")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    print("| backend | threads | fill s | first page ms | next page ms | prefix ms | "
          "`threads` page ms | old walk ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends.split(","):
            for threads in sizes:
                row = measure(backend, threads, threads <= args.slow_upto, Path(folder))
                print(f"| {backend} | {threads:,} | {row['fill_s']:,.1f} | "
                      f"{_fmt(row['first_ms'])} | {_fmt(row['next_ms'])} | "
                      f"{_fmt(row['prefix_ms'])} | {_fmt(row['cli_page_ms'])} | "
                      f"{_fmt(row['walk_ms'])} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
