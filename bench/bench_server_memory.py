#!/usr/bin/env python3
"""Memory of a `hitlgraph serve` process holding many paused threads, per thread, beside the
library's own figure for the same graph.

Server: one `hitlgraph serve` (SQLite) gets N threads created and run to their interrupt
through HTTP (create + runs/wait, 8 clients), the bench graph of bench_server.py, in two
halves. Its RSS (VmRSS) is read after the warm-up, after N/2 threads and after N, each time
once the server has been idle for IDLE_SECONDS (it gives the memory a burst left free back
then: server/_memory.py), and also right after the last request ("busy"). The growth over N
is the server's bytes per paused thread; the growth between N/2 and N over N/2 is the slope,
what one more paused thread costs once the bounded parts (page caches, a few threads'
stacks and malloc arenas) are full. Every thread is then checked to be paused (untimed).

Library: in a fresh process, the same graph compiled with AsyncSqliteSaver on a file, N
threads run to their interrupt with `ainvoke`; RSS before, at N/2 and after, the same way.
Its per-thread figure is mostly its connection's page cache (2 MiB at most) over N, so it
moves with N; the slopes compare what grows without bound.

The goal of issue 16: the server's bytes per paused thread at most 2x the library's.

Usage:
    python bench/bench_server_memory.py               # 10,000 threads
    python bench/bench_server_memory.py --threads 2000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import hitlgraph_servers, write_graphs

WARMUP = 20
IDLE_SECONDS = 2.0
"""How long the server is left idle before its RSS is read: past its trim (1 s idle)."""


def rss_bytes(pid: int) -> int:
    """The process's resident set (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def _pause_threads(url: str, first: int, count: int, clients: int) -> list[str]:
    """Create `count` threads and run each to its interrupt; their ids."""
    tids: list[str] = []
    todo = iter(range(first, first + count))
    async with httpx.AsyncClient(timeout=120) as http:
        async def client() -> None:
            for i in todo:
                tid = (await http.post(url + "/threads", json={})).json()["thread_id"]
                out = (await http.post(f"{url}/threads/{tid}/runs/wait", json={
                    "assistant_id": "review", "input": {"payload": f"p-{i}"}})).json()
                if not out.get("__interrupt__"):
                    raise RuntimeError(f"thread {tid} did not pause: {str(out)[:200]}")
                tids.append(tid)
        await asyncio.gather(*(client() for _ in range(clients)))
    return tids


async def _paused(url: str, tids: list[str]) -> int:
    """How many of the threads read as paused at 'review'."""
    async with httpx.AsyncClient(timeout=120) as http:
        count = 0
        for tid in tids:
            state = (await http.get(f"{url}/threads/{tid}/state")).json()
            count += state.get("next") == ["review"]
        return count


def server_figures(threads: int, clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hitl-bench-mem-") as name:
        return _server_figures(Path(name), threads, clients)


def _idle_rss(pid: int) -> int:
    time.sleep(IDLE_SECONDS)
    return rss_bytes(pid)


def _server_figures(work: Path, threads: int, clients: int) -> dict[str, Any]:
    write_graphs(work)
    half = threads // 2
    with hitlgraph_servers(work, 1, db=work / "mem.sqlite", postgres=None,
                           workers=2) as servers:
        server, pid = servers[0], servers[0].proc.pid
        asyncio.run(_pause_threads(server.url, 0, WARMUP, clients))
        before = _idle_rss(pid)
        started = time.monotonic()
        tids = asyncio.run(_pause_threads(server.url, WARMUP, half, clients))
        at_half = _idle_rss(pid)
        tids += asyncio.run(_pause_threads(server.url, WARMUP + half, threads - half, clients))
        seconds = time.monotonic() - started - IDLE_SECONDS
        busy = rss_bytes(pid)
        after = _idle_rss(pid)
        paused = asyncio.run(_paused(server.url, tids))
    return {**_growth(before, at_half, after, threads), "rss_busy": busy,
            "bytes_per_thread_busy": round((busy - before) / threads), "paused": paused,
            "seconds": round(seconds, 1)}


def _growth(before: int, at_half: int, after: int, threads: int) -> dict[str, int]:
    """RSS readings, bytes per thread over all `threads`, and the slope over the second
    half."""
    return {"rss_before": before, "rss_half": at_half, "rss_after": after,
            "bytes_per_thread": round((after - before) / threads),
            "slope": round((after - at_half) / (threads - threads // 2))}


LIBRARY = '''
import asyncio, json, sys
sys.path.insert(0, {work!r})
from bench_graph import builder
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

async def main(n):
    async with AsyncSqliteSaver.from_conn_string({db!r}) as saver:
        graph = builder.compile(checkpointer=saver)
        async def pause(i):
            out = await graph.ainvoke({{"payload": f"p-{{i}}"}},
                                      {{"configurable": {{"thread_id": f"t-{{i}}"}}}})
            assert out["__interrupt__"], out
        for i in range({warmup}):
            await pause(i)
        before = rss()
        for i in range({warmup}, {warmup} + n // 2):
            await pause(i)
        at_half = rss()
        for i in range({warmup} + n // 2, {warmup} + n):
            await pause(i)
        after = rss()
    print(json.dumps([before, at_half, after]))

asyncio.run(main({threads}))
'''


def library_figures(threads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hitl-bench-mem-lib-") as name:
        return _library_figures(Path(name), threads)


def _library_figures(work: Path, threads: int) -> dict[str, Any]:
    write_graphs(work)
    src = Path(__file__).resolve().parent.parent / "src"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(src), os.environ.get("PYTHONPATH")) if p)}
    script = LIBRARY.format(work=str(work), db=str(work / "lib.sqlite"), warmup=WARMUP,
                            threads=threads)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, check=True).stdout
    before, at_half, after = json.loads(out.strip().splitlines()[-1])
    return _growth(before, at_half, after, threads)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    server = server_figures(args.threads, args.clients)
    library = library_figures(args.threads)
    ratio = server["bytes_per_thread"] / max(1, library["bytes_per_thread"])
    slopes = server["slope"] / max(1, library["slope"])
    result = {"threads": args.threads, "load": os.getloadavg(), "server": server,
              "library": library, "server_over_library": round(ratio, 2),
              "slope_server_over_library": round(slopes, 2)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"bench_server_memory: {args.threads:,} paused threads, load "
              f"{result['load'][0]:.2f}")
        for name in ("server", "library"):
            fig = result[name]
            print(f"  {name + ':':8} RSS {fig['rss_before'] / 2**20:.1f} -> "
                  f"{fig['rss_half'] / 2**20:.1f} -> {fig['rss_after'] / 2**20:.1f} MiB, "
                  f"{fig['bytes_per_thread']:,} B per thread, slope {fig['slope']:,} B")
        print(f"  server right after the last request (before its idle trim): "
              f"{server['bytes_per_thread_busy']:,} B per thread; "
              f"{server['paused']:,} read back paused")
        print(f"  server / library per thread: {ratio:.2f} (goal: at most 2); slopes: "
              f"{slopes:.2f}")
    return 0 if server["paused"] == args.threads else 1


if __name__ == "__main__":
    sys.exit(main())
