#!/usr/bin/env python3
"""What waits for a person, with many paused threads: the first page of the saver's index of
open interrupts (`saver.list_pending(limit=50)`) against today's way, decoding every thread's
latest checkpoint (`hitlgraph threads`' `list_threads`, keeping the paused ones).

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
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hitlgraph._ids import checkpoint_id, ts_of
from hitlgraph._policy import policy_of
from hitlgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._threads import list_threads
from hitlgraph.review import PendingIndex
from hitlgraph.types import Interrupt

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


def median_ms(fn: Callable[[], Any], runs: int) -> float:
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
            paused = [s for s in list_threads(saver) if s.status == "paused"]
            decoded = (time.perf_counter() - start) * 1000
            assert len(paused) == threads
    return {"backend": backend, "threads": threads, "fill_s": fill_s, "first_ms": first,
            "graph_ms": graph, "second_ms": second, "assignee_ms": assignee,
            "deadline_ms": deadline, "decoded_ms": decoded}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--backends", default="memory,sqlite")
    parser.add_argument("--slow-upto", type=int, default=10_000,
                        help="time today's way (decode every thread) up to this many threads")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
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
