"""The server's cost per operation in instructions (valgrind's callgrind), two trees side by side.

bench_server.py times the server over HTTP; on a shared machine its latencies move by tens of
percent with the load, too much to see a change of a few percent. This script runs the same
create-until-interrupt and resume (bench_server.py's graph) through the app in-process
(httpx's ASGI transport: no uvicorn, no sockets), on a SQLite file, and counts the
instructions of every thread (the store's and the checkpointer's SQLite threads included).
Start-up is taken out by difference: the count of a run with ROUNDS_HIGH rounds minus one with
ROUNDS_LOW, divided by the rounds between them.

Timers that cost instructions by the second rather than by the request are slowed out of the
picture, the same in both trees: the SQLite change watcher (a look every 5 ms; its idle cost is
bench_watch.py's), the expiry timer, the notifier and the workers' idle poll.

    python bench/bench_server_instr.py --base /tmp/base/src   # this checkout vs another tree
    python bench/bench_server_instr.py                        # this checkout alone
    python bench/bench_server_instr.py --profile              # cProfile of the loop, no valgrind

Prints instructions per round (one create-until-interrupt: POST /threads and a runs/wait; one
resume: a runs/wait) and now/base.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))

from bench_server import GRAPH  # noqa: E402  (the graph bench_server.py serves)

ROUNDS_LOW, ROUNDS_HIGH = 5, 20
WARMUP = 5

_SCRIPT = '''
import asyncio, cProfile, pstats, sys
import httpx
from hitlgraph.server.app import create_app
from hitlgraph.server.config import ServerSettings
from hitlgraph.server.store.sqlite import SqliteStore

sys.path.insert(0, {work!r})
import bench_graph


async def _no_watch(self, wake):  # this process is the file's only one
    await asyncio.Event().wait()

SqliteStore.listen = _no_watch


async def one(http, i):
    tid = (await http.post("/threads", json={{}})).json()["thread_id"]
    out = (await http.post(f"/threads/{{tid}}/runs/wait", json={{
        "assistant_id": "review", "input": {{"payload": str(i)}}}})).json()
    assert out["__interrupt__"][0]["value"] == {{"check": f"{{i}}!"}}, out
    out = (await http.post(f"/threads/{{tid}}/runs/wait", json={{
        "assistant_id": "review", "command": {{"resume": "ok"}}}})).json()
    assert out["result"] == f"{{i}}!:ok", out


async def main(rounds, profile):
    settings = ServerSettings(graphs={{"review": bench_graph.builder}}, db={db!r},
                              read_env=False, poll_seconds=60.0, lease_seconds=180.0,
                              expire_seconds=3600.0, notify_seconds=3600.0,
                              sweep_seconds=3600.0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            for i in range({warmup}):
                await one(http, i)
            prof = cProfile.Profile() if profile else None
            if prof is not None:
                prof.enable()
            for i in range(rounds):
                await one(http, 1000 + i)
            if prof is not None:
                prof.disable()
                stats = pstats.Stats(prof).strip_dirs()
                stats.sort_stats("tottime").print_stats(35)
                stats.sort_stats("cumulative").print_stats(60)

asyncio.run(main(int(sys.argv[1]), sys.argv[2] == "profile"))
'''


def _run(src: Path, rounds: int, *, profile: bool) -> str:
    """Run the loop with hitlgraph from `src`: callgrind's summary (or the profile)."""
    with tempfile.TemporaryDirectory(prefix="hitl-instr-server-") as tmp:
        work = Path(tmp)
        (work / "bench_graph.py").write_text(GRAPH.format(pkg="hitlgraph", last=""))
        script = work / "loop.py"
        script.write_text(_SCRIPT.format(work=str(work), db=str(work / "s.sqlite"),
                                         warmup=WARMUP))
        env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
        env.pop("HITLGRAPH_API_KEYS", None)
        cmd = [sys.executable, str(script), str(rounds), "profile" if profile else "count"]
        if not profile:
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp)
    if done.returncode != 0:
        raise RuntimeError(f"the loop failed ({src}):\n{done.stderr[-3000:]}")
    return done.stdout if profile else done.stderr


def count(src: Path) -> int:
    """Instructions per round with hitlgraph from `src`."""
    totals = []
    for rounds in (ROUNDS_LOW, ROUNDS_HIGH):
        out = _run(src, rounds, profile=False)
        found = re.search(r"Collected : (\d+)", out)
        if found is None:
            raise RuntimeError(f"callgrind printed no count:\n{out[-2000:]}")
        totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) // (ROUNDS_HIGH - ROUNDS_LOW)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--base", type=Path, help="another tree's src folder to compare with")
    parser.add_argument("--src", type=Path, default=SRC, help="this tree's src folder")
    parser.add_argument("--profile", action="store_true",
                        help=f"print a cProfile of {ROUNDS_HIGH} rounds (main thread) instead")
    args = parser.parse_args()
    if args.profile:
        print(_run(args.src, ROUNDS_HIGH, profile=True))
        return
    now = count(args.src)
    if args.base is None:
        print(f"instructions per round (create-until-interrupt + resume): {now:,}")
        return
    base = count(args.base)
    print(f"{'tree':8} {'instructions/round':>20}\n{'base':8} {base:20,}\n{'now':8} {now:20,}"
          f"\nnow/base {now / base:20.3f}")


if __name__ == "__main__":
    main()
