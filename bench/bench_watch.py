#!/usr/bin/env python3
"""How soon a server process learns of a change another process committed to their shared
SQLite file (the change watcher of `hitlgraph.server.store`), against the poll it replaces.

Two processes, two stores on one file. The writer (a child process) queues runs and
cancels them one at a time, a few milliseconds apart at random; each cancel commits a
"run:<id>" change and the writer notes the time (CLOCK_MONOTONIC, shared by the processes)
once the commit returned. The listener (this process) notes when its store's watcher woke
that key. Latency = woken - committed; percentiles over all changes. Without the watcher,
a waiter learns of such a change at its next poll: `--poll-seconds` (0.5 s by default) at
worst, half of it on average.

Also printed: the CPU the watcher costs an idle process (its thread polls every
`WATCH_SECONDS`), measured over a few seconds with nothing changing.

Usage:
    python bench/bench_watch.py                 # 500 changes
    python bench/bench_watch.py --changes 2000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

from hitlgraph.server.store import NewRun  # noqa: E402
from hitlgraph.server.store._watch import WATCH_SECONDS  # noqa: E402
from hitlgraph.server.store.sqlite import SqliteStore  # noqa: E402


def _run(n: int) -> NewRun:
    return NewRun(tenant="", run_id=f"r-{n}", thread_id=f"t-{n}", assistant_id="a",
                  graph_id="g", metadata={}, kwargs={}, multitask_strategy="enqueue")


async def write(path: str, changes: int, gap_ms: float) -> None:
    """The child: queue and cancel `changes` runs, printing "n committed" per cancel."""
    store = SqliteStore(path)
    await store.setup()
    try:
        for n in range(changes):
            await store.create_run(_run(n), create_thread=True, thread_metadata={})
            await asyncio.sleep(random.uniform(0, 2 * gap_ms) / 1000)
            await store.cancel_run("", f"t-{n}", f"r-{n}", "interrupt")
            print(n, time.monotonic(), flush=True)
    finally:
        await store.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def listen(path: str, changes: int, gap_ms: float) -> dict[str, Any]:
    """This process: start the writer, note when each of its cancels wakes us."""
    store = SqliteStore(path)
    await store.setup()
    woken: dict[str, float] = {}
    task = asyncio.get_running_loop().create_task(
        store.listen(lambda key: woken.setdefault(key, time.monotonic())))
    try:
        idle_cpu = await _idle_cpu(3.0)
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--write", path, "--changes", str(changes),
            "--gap-ms", str(gap_ms), stdout=subprocess.PIPE)
        out, _ = await child.communicate()
        await asyncio.sleep(0.2)  # the last wake-ups
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.close()
    latencies, missed = [], 0
    for line in out.decode().split("\n"):
        if line.strip():
            n, committed = line.split()
            seen = woken.get(f"run:r-{n}")
            if seen is None:
                missed += 1
            else:
                latencies.append(1000 * (seen - float(committed)))
    return {"changes": changes, "gap_ms": gap_ms, "watch_ms": 1000 * WATCH_SECONDS,
            "missed": missed, "p50_ms": round(percentile(latencies, 0.5), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(max(latencies), 2), "idle_cpu_pct": round(idle_cpu, 2)}


async def _idle_cpu(seconds: float) -> float:
    """This process's CPU use (% of one core) while nothing changes: the watcher's cost."""
    await asyncio.sleep(0.2)
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (time.process_time() - cpu) / (time.monotonic() - wall)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--changes", type=int, default=500)
    ap.add_argument("--gap-ms", type=float, default=10.0,
                    help="mean pause between a run's queueing and its cancel")
    ap.add_argument("--poll-seconds", type=float, default=0.5,
                    help="the server's poll, printed for comparison")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.write:
        asyncio.run(write(args.write, args.changes, args.gap_ms))
        return 0
    with tempfile.TemporaryDirectory(prefix="hitl-bench-watch-") as work:
        result = asyncio.run(listen(os.path.join(work, "shared.sqlite"), args.changes,
                                    args.gap_ms))
    result["load"] = os.getloadavg()
    result["poll_seconds"] = args.poll_seconds
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"bench_watch: {result['changes']} changes from another process, watcher "
              f"every {result['watch_ms']:.0f} ms, load {result['load'][0]:.2f}")
        print(f"  woken after: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max "
              f"{result['max_ms']} ms; missed {result['missed']}")
        print(f"  without the watcher: at the next poll, up to {1000 * args.poll_seconds:.0f} "
              f"ms (mean {500 * args.poll_seconds:.0f} ms)")
        print(f"  watcher's CPU in an idle process: {result['idle_cpu_pct']}% of one core")
    return 1 if result["missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
