#!/usr/bin/env python3
"""Memory of a `hitlgraph serve` process holding many paused threads, per thread, beside the
library's own figure for the same graph.

Server: one `hitlgraph serve` (SQLite) gets N threads created and run to their interrupt
through HTTP (create + runs/wait, 8 clients), the bench graph of bench_server.py. Its RSS
(VmRSS) is read after the warm-up and after the N threads; the difference over N is the
server's bytes per paused thread. Every thread is then checked to be paused (untimed).

Library: in a fresh process, the same graph compiled with AsyncSqliteSaver on a file, N
threads run to their interrupt with `ainvoke`; RSS before and after, the same way.

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


def _server_figures(work: Path, threads: int, clients: int) -> dict[str, Any]:
    write_graphs(work)
    with hitlgraph_servers(work, 1, db=work / "mem.sqlite", postgres=None,
                           workers=2) as servers:
        server = servers[0]
        asyncio.run(_pause_threads(server.url, 0, WARMUP, clients))
        before = rss_bytes(server.proc.pid)
        started = time.monotonic()
        tids = asyncio.run(_pause_threads(server.url, WARMUP, threads, clients))
        seconds = time.monotonic() - started
        after = rss_bytes(server.proc.pid)
        paused = asyncio.run(_paused(server.url, tids))
    return {"rss_before": before, "rss_after": after, "paused": paused,
            "bytes_per_thread": round((after - before) / threads), "seconds": round(seconds, 1)}


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
        for i in range({warmup}, {warmup} + n):
            await pause(i)
        after = rss()
    print(json.dumps({{"rss_before": before, "rss_after": after,
                      "bytes_per_thread": round((after - before) / n)}}))

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
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    server = server_figures(args.threads, args.clients)
    library = library_figures(args.threads)
    ratio = server["bytes_per_thread"] / max(1, library["bytes_per_thread"])
    result = {"threads": args.threads, "load": os.getloadavg(), "server": server,
              "library": library, "server_over_library": round(ratio, 2)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"bench_server_memory: {args.threads:,} paused threads, load "
              f"{result['load'][0]:.2f}")
        print(f"  server:  RSS {server['rss_before'] / 2**20:.1f} -> "
              f"{server['rss_after'] / 2**20:.1f} MiB, {server['bytes_per_thread']:,} B per "
              f"thread ({server['paused']:,} read back paused)")
        print(f"  library: RSS {library['rss_before'] / 2**20:.1f} -> "
              f"{library['rss_after'] / 2**20:.1f} MiB, {library['bytes_per_thread']:,} B per "
              "thread")
        print(f"  server / library per thread: {ratio:.2f} (goal: at most 2)")
    return 0 if server["paused"] == args.threads else 1


if __name__ == "__main__":
    sys.exit(main())
