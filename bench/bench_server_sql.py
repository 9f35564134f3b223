"""SQLite statements and transactions per server request, counted on the connections.

The server on a SQLite file spends about half its time per request in SQLite; the number of
statements and of transactions is what moves it. This script serves bench_server.py's graph
in-process (httpx's ASGI transport) on a fresh file, warms it up, then counts with SQLite's
trace callback every statement each connection runs during one POST /threads (create), one
runs/wait to the interrupt (wait) and one runs/wait that resumes (resume). A trigger's
statement is echoed by the trace callback once per subprogram: consecutive identical lines
of one connection count once.

    python bench/bench_server_sql.py              # counts per request
    python bench/bench_server_sql.py --list       # and every statement, per connection
    python bench/bench_server_sql.py --src /tmp/base/src   # another tree
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_server import GRAPH  # noqa: E402  (the graph bench_server.py serves)

_SCRIPT = '''
import asyncio, re, sqlite3, sys
sys.path.insert(0, {work!r})
import httpx

LOG, ON, CONNS = [], [False], []
_connect = sqlite3.connect


def connect(*args, **kwargs):
    conn = _connect(*args, **kwargs)
    name = f"c{{len(CONNS)}}"
    CONNS.append(conn)
    conn.set_trace_callback(lambda sql: ON[0] and LOG.append((name, sql)))
    return conn


sqlite3.connect = connect
from hitlgraph.server.app import create_app
from hitlgraph.server.config import ServerSettings
from hitlgraph.server.store.sqlite import SqliteStore
import bench_graph


async def _no_watch(self, wake):  # this process is the file's only one
    await asyncio.Event().wait()

SqliteStore.listen = _no_watch


async def main():
    settings = ServerSettings(graphs={{"review": bench_graph.builder}}, db={db!r},
                              read_env=False, poll_seconds=60.0, lease_seconds=180.0,
                              expire_seconds=3600.0, notify_seconds=3600.0,
                              sweep_seconds=3600.0)
    app = create_app(settings)
    wait = {{"assistant_id": "review", "input": {{"payload": "x"}}}}
    resume = {{"assistant_id": "review", "command": {{"resume": "ok"}}}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            for _ in range(3):
                tid = (await http.post("/threads", json={{}})).json()["thread_id"]
                await http.post(f"/threads/{{tid}}/runs/wait", json=wait)
                await http.post(f"/threads/{{tid}}/runs/wait", json=resume)
            for label, body in (("create", None), ("wait", wait), ("resume", resume)):
                LOG.append(("--", label))
                ON[0] = True
                if body is None:
                    tid = (await http.post("/threads", json={{}})).json()["thread_id"]
                else:
                    await http.post(f"/threads/{{tid}}/runs/wait", json=body)
                await asyncio.sleep(0.05)  # (what the worker writes after the answer)
                ON[0] = False
    for conn, sql in LOG:
        print(conn, re.sub(r"\\s+", " ", sql))

asyncio.run(main())
'''


def trace(src: Path) -> list[tuple[str, str]]:
    """(connection, statement) of the three requests, with "--" lines between them."""
    with tempfile.TemporaryDirectory(prefix="hitl-sql-") as tmp:
        work = Path(tmp)
        (work / "bench_graph.py").write_text(GRAPH.format(pkg="hitlgraph", last=""))
        script = work / "trace.py"
        script.write_text(_SCRIPT.format(work=str(work), db=str(work / "s.sqlite")))
        env = {**os.environ, "PYTHONPATH": str(src)}
        env.pop("HITLGRAPH_API_KEYS", None)
        done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                              text=True, cwd=tmp)
    if done.returncode != 0:
        raise RuntimeError(f"the traced server failed ({src}):\n{done.stderr[-3000:]}")
    return [(line.split(" ", 1)[0], line.split(" ", 1)[1])
            for line in done.stdout.splitlines() if " " in line]


def counts(lines: list[tuple[str, str]]) -> dict[str, tuple[int, int, int]]:
    """Per request: (statements, commits, connections used), trigger echoes folded."""
    out: dict[str, tuple[int, int, int]] = {}
    label, prev = "", None
    used: set[str] = set()
    statements = commits = 0
    for conn, sql in [*lines, ("--", "")]:
        if conn == "--":
            if label:
                out[label] = (statements, commits, len(used))
            label, prev, used, statements, commits = sql, None, set(), 0, 0
            continue
        if (conn, sql) != prev:
            statements += 1
            commits += sql.strip().upper() == "COMMIT"
            used.add(conn)
        prev = (conn, sql)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=HERE.parent / "src",
                        help="the hitlgraph tree's src folder")
    parser.add_argument("--list", action="store_true", help="print every statement too")
    args = parser.parse_args()
    lines = trace(args.src)
    if args.list:
        for conn, sql in lines:
            print(conn, sql[:200])
    total = [0, 0]
    print(f"{'request':8} {'statements':>10} {'commits':>8} {'connections':>12}")
    for label, (statements, commits, used) in counts(lines).items():
        total[0] += statements
        total[1] += commits
        print(f"{label:8} {statements:10} {commits:8} {used:12}")
    print(f"{'round':8} {total[0]:10} {total[1]:8}")


if __name__ == "__main__":
    main()
