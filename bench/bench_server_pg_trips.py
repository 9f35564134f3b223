"""Round trips to PostgreSQL per server operation, and what each carries.

bench_server_instr.py counts the server's instructions on SQLite; on PostgreSQL most of the
server's extra time is the client side of its round trips. This runs bench_server.py's
create-until-interrupt (POST /threads + runs/wait) and resume (runs/wait with
Command(resume)) through the app in-process (httpx's ASGI transport) on a fresh PostgreSQL
database, with psycopg's pure-Python libpq wrapper patched to count:

    trips       a statement sent outside a pipeline, a pipeline sync, or a flush request
                (psycopg's fetch inside a pipeline): each waits for the server once
    statements  every statement sent, by its first words

    python bench/bench_server_pg_trips.py [--postgres URL] [--src SRC] [--rounds N] [--trace]
    python bench/bench_server_pg_trips.py --instr [--base OTHER_SRC]   # callgrind, per round

Timers that run by the second rather than by the request (expiry, sweep, the workers' idle
poll) are slowed out of the picture, as in bench_server_instr.py.
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

_SCRIPT = '''
import asyncio, collections, re, sys, uuid
import httpx, psycopg
from psycopg import pq

sys.path.insert(0, {work!r})
import bench_graph
from hitlgraph.server.app import create_app
from hitlgraph.server.config import ServerSettings

COUNTING = sys.argv[3] == "trips"
assert pq.__impl__ == ("python" if COUNTING else "binary"), pq.__impl__
PHASE = ["setup"]
TRIPS = collections.Counter()
STATEMENTS = collections.Counter()
PGconn = pq.PGconn


def _head(sql):
    text = " ".join((sql.decode() if isinstance(sql, bytes) else sql).split())
    text = re.sub(r"\\$\\d+", "?", text)
    return text[:{width}]


QUEUED = collections.defaultdict(list)  # statements of each connection's open pipeline
TRACE = []  # the last round's trips: (phase, connection, statements)


def _trip(self, statements):
    TRIPS[PHASE[0]] += 1
    if PHASE[0] in ("create", "resume") and len(TRACE) < 1000:
        TRACE.append((PHASE[0], id(self), statements))


SYNCED = set()  # connections whose last pipeline call was a sync with nothing sent since


def _sync(self):
    statements, QUEUED[id(self)] = QUEUED[id(self)], []
    _trip(self, statements)
    SYNCED.add(id(self))


def _flush(self):
    """psycopg's pipeline exit sends a Sync, then a flush request, and waits once."""
    if QUEUED[id(self)] or id(self) not in SYNCED:
        _sync(self)


def _sent(self, command, *args, **kwargs):
    head = _head(command)
    SYNCED.discard(id(self))
    STATEMENTS[PHASE[0], head] += 1
    if self.pipeline_status == pq.PipelineStatus.OFF:
        _trip(self, [head])
    else:
        QUEUED[id(self)].append(head)


def _wrap(name, count):
    original = getattr(PGconn, name)
    def wrapped(self, *args, **kwargs):
        count(self, *args, **kwargs)
        return original(self, *args, **kwargs)
    setattr(PGconn, name, wrapped)


PREPARED = {{}}


def _prepare(self, name, command, *args, **kwargs):
    PREPARED[id(self), name] = command  # psycopg's names (_pg3_N) are the connection's own
    SYNCED.discard(id(self))
    if self.pipeline_status == pq.PipelineStatus.OFF:
        _trip(self, ["<prepare> " + _head(command)])


if COUNTING:
    for _name in ("send_query", "send_query_params", "exec_", "exec_params"):
        _wrap(_name, _sent)
    _wrap("send_prepare", _prepare)
    _wrap("send_query_prepared", lambda self, name, *a, **k: _sent(self, PREPARED[id(self), name]))
    _wrap("pipeline_sync", _sync)
    _wrap("send_flush_request", _flush)


async def one(http, i, phases):
    PHASE[0] = phases[0]
    del TRACE[:]
    tid = (await http.post("/threads", json={{}})).json()["thread_id"]
    out = (await http.post(f"/threads/{{tid}}/runs/wait", json={{
        "assistant_id": "review", "input": {{"payload": str(i)}}}})).json()
    assert out["__interrupt__"][0]["value"] == {{"check": f"{{i}}!"}}, out
    await asyncio.sleep(0.05)  # what the worker does after answering belongs to the round
    PHASE[0] = phases[1]
    out = (await http.post(f"/threads/{{tid}}/runs/wait", json={{
        "assistant_id": "review", "command": {{"resume": "ok"}}}})).json()
    assert out["result"] == f"{{i}}!:ok", out
    await asyncio.sleep(0.05)
    PHASE[0] = "idle"


async def main(dsn, rounds):
    settings = ServerSettings(graphs={{"review": bench_graph.builder}}, db=dsn,
                              read_env=False, poll_seconds=60.0, lease_seconds=180.0,
                              expire_seconds=3600.0, notify_seconds=3600.0,
                              sweep_seconds=3600.0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            for i in range(3):
                await one(http, i, ("warm", "warm"))
            for i in range(rounds):
                await one(http, 1000 + i, ("create", "resume"))
    if not COUNTING:
        return
    for phase in ("create", "resume"):
        print(f"{{phase}}: {{TRIPS[phase] / rounds:.2f}} round trips, "
              f"{{sum(n for (p, _), n in STATEMENTS.items() if p == phase) / rounds:.2f}} "
              "statements per round")
        top = sorted(((n, s) for (p, s), n in STATEMENTS.items() if p == phase), reverse=True)
        for n, s in top[:{top}]:
            print(f"  {{n / rounds:5.2f}}  {{s}}")
    if {trace}:
        names = {{}}
        print("the last round's trips (connection, statements):")
        for phase, conn, statements in TRACE:
            name = names.setdefault(conn, f"c{{len(names)}}")
            print(f"{{phase}} {{name}}: " + " | ".join(s[:{trace_width}] for s in statements))


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
'''


def _database(dsn: str, name: str, *, drop: bool) -> str:
    """Create (or drop) database `name` on `dsn`'s server; the DSN of `name`."""
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    from urllib.parse import urlsplit, urlunsplit
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("HITLGRAPH_TEST_POSTGRES_DSN"),
                        help="a postgresql:// URL of the server (a database is made on it)")
    parser.add_argument("--src", type=Path, default=SRC, help="the hitlgraph tree's src")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--top", type=int, default=40, help="statements listed per phase")
    parser.add_argument("--width", type=int, default=90, help="characters per statement")
    parser.add_argument("--instr", action="store_true",
                        help="count the process's instructions per round (callgrind) instead")
    parser.add_argument("--base", type=Path, help="with --instr: another tree's src too")
    parser.add_argument("--trace", action="store_true",
                        help="also list the last round's round trips, in order")
    args = parser.parse_args()
    if not args.postgres:
        parser.error("give --postgres DSN or set HITLGRAPH_TEST_POSTGRES_DSN")
    if args.instr:
        for src in (args.src, *([args.base] if args.base else [])):
            print(f"{src}: {_instructions(args, src):,} instructions per round "
                  "(create + resume)")
        return
    _loop(args, args.src, args.rounds, "trips")


def _loop(args: argparse.Namespace, src: Path, rounds: int, mode: str) -> str:
    """Run the loop on a fresh database; its output (callgrind's, for "instr")."""
    name = f"hg_trips_{os.getpid()}"
    dsn = _database(args.postgres, name, drop=False)
    try:
        with tempfile.TemporaryDirectory(prefix="hitl-pg-trips-") as tmp:
            work = Path(tmp)
            (work / "bench_graph.py").write_text(GRAPH.format(pkg="hitlgraph", last=""))
            script = work / "loop.py"
            script.write_text(_SCRIPT.format(work=str(work), width=args.width, top=args.top,
                                             trace=args.trace, trace_width=args.width))
            env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
            env.pop("HITLGRAPH_API_KEYS", None)
            cmd = [sys.executable, str(script), dsn, str(rounds), mode]
            if mode == "trips":
                env["PSYCOPG_IMPL"] = "python"
                subprocess.run(cmd, env=env, check=True, cwd=tmp)
                return ""
            env["PSYCOPG_IMPL"] = "binary"
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp)
            if done.returncode != 0:
                raise RuntimeError(f"the loop failed ({src}):\n{done.stderr[-3000:]}")
            return done.stderr
    finally:
        _database(args.postgres, name, drop=True)


def _instructions(args: argparse.Namespace, src: Path) -> int:
    """The server process's instructions per round with hitlgraph from `src` (the
    difference of a long and a short run, start-up taken out)."""
    totals = []
    for rounds in (ROUNDS_LOW, ROUNDS_HIGH):
        found = re.search(r"Collected : (\d+)", _loop(args, src, rounds, "instr"))
        if found is None:
            raise RuntimeError("callgrind printed no count")
        totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) // (ROUNDS_HIGH - ROUNDS_LOW)


if __name__ == "__main__":
    main()
