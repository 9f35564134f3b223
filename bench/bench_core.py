#!/usr/bin/env python3
"""Core benchmark: hitlgraph vs LangGraph vs plain Python, side by side, in one run.

Scenarios (each implementation x scenario runs in its own child process, started with
this same interpreter, so RSS figures are clean and one crash cannot take the run down):

    chain       a 100-node chain: us per node-step, no checkpointer / InMemorySaver / SQLite
    roundtrip   new thread: invoke to the interrupt, then Command(resume=...) to the end,
                with InMemorySaver and with a SQLite file saver
    paused_rss  N threads paused at an interrupt in one InMemorySaver: RSS growth per thread
    paused_tm   the same, measured with tracemalloc (Python allocations only)
    paused_sql  N threads paused at an interrupt in a SQLite file: bytes on disk per thread
    stream      a 50-node chain streamed (updates / values / custom / [updates, values]):
                us per chunk and per step, no checkpointer and InMemorySaver
    fanout      a conditional edge sending 100 Send()s to one worker node: ms per invoke
    backends    per saver (memory, SQLite, PostgreSQL when HITLGRAPH_TEST_POSTGRES_DSN is
                set): put latency, get_state, interrupt round trip, PostgreSQL bytes/thread
    history     a chat that appends one 200-byte item per step for 500 steps, SQLite file:
                bytes on disk (per step, and over the 100 KB of data), get_state of the
                latest (same saver, and a new saver as in a new process), history reads

Implementations: ``direct`` (the same node functions called in plain Python: the floor),
``hitlgraph`` and ``langgraph`` (reported as "not installed" when it cannot be imported).

Every time is the median of several repetitions after warm-up runs. Nothing is asserted
about timings; the table only reports figures, ratios and how they compare with the targets
in bench/README.md.

Usage:
    python bench/bench_core.py            # full run (10,000 paused threads), a few minutes
    python bench/bench_core.py --quick    # < 60 s
    python bench/bench_core.py --json     # one JSON object on stdout instead of the table
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib
import itertools
import json
import operator
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypedDict

perf = time.perf_counter

IMPLS = ("direct", "hitlgraph", "langgraph")
SCENARIOS = (
    "chain",
    "roundtrip",
    "paused_rss",
    "paused_tm",
    "paused_sql",
    "stream",
    "fanout",
    "backends",
    "history",
)

PARAMS: dict[str, dict[str, Any]] = {
    "full": {
        "chain_nodes": 100,
        "direct_chain_reps": 2000,
        "chain_reps": {"none": 60, "memory": 40, "sqlite": 15},
        "rt_reps": {"memory": 400, "sqlite": 200},
        "paused_threads": 10_000,
        "payload_bytes": 64,
        "budget_s": 20.0,
        "child_timeout_s": 900,
        "stream_nodes": 50,
        "stream_reps": 60,
        "fanout_branches": 100,
        "fanout_reps": 60,
        "be_nodes": 10,
        "be_reps": {"memory": 300, "sqlite": 150, "postgres": 100},
        "pg_paused_threads": 10_000,
    },
    "quick": {
        "chain_nodes": 100,
        "direct_chain_reps": 300,
        "chain_reps": {"none": 10, "memory": 8, "sqlite": 3},
        "rt_reps": {"memory": 40, "sqlite": 15},
        "paused_threads": 1000,
        "payload_bytes": 64,
        "budget_s": 2.0,
        "child_timeout_s": 300,
        "stream_nodes": 50,
        "stream_reps": 10,
        "fanout_branches": 100,
        "fanout_reps": 10,
        "be_nodes": 10,
        "be_reps": {"memory": 40, "sqlite": 20, "postgres": 15},
        "pg_paused_threads": 2000,
    },
}

Metrics = dict[str, float]


def log(msg: str) -> None:
    print(f"[bench_core {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# measurement helpers
# --------------------------------------------------------------------------------------------


def timeit(fn: Callable[[], object], reps: int, warmup: int, budget_s: float) -> list[float]:
    """Run fn `warmup` times untimed, then up to `reps` timed runs (seconds each); stop early
    once `budget_s` is spent, after at least 3 timed runs."""
    for _ in range(warmup):
        fn()
    gc.collect()
    times: list[float] = []
    begin = perf()
    for _ in range(reps):
        t0 = perf()
        fn()
        times.append(perf() - t0)
        if len(times) >= 3 and perf() - begin > budget_s:
            break
    return times


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def rss_bytes() -> int:
    try:
        import psutil
    except ImportError:  # Linux fallback
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return -1
    return int(psutil.Process().memory_info().rss)


def disk_bytes(path: str) -> int:
    """A SQLite database's bytes on disk, side files (-wal, -shm, -journal) included."""
    return sum(
        os.path.getsize(path + s)
        for s in ("", "-wal", "-shm", "-journal")
        if os.path.exists(path + s)
    )


def cfg(thread_id: str | None, recursion_limit: int = 1000) -> dict[str, Any]:
    c: dict[str, Any] = {"recursion_limit": recursion_limit}
    if thread_id is not None:
        c["configurable"] = {"thread_id": thread_id}
    return c


def payload(i: int, nbytes: int) -> str:
    """Unique per thread, so nothing can be shared between paused threads."""
    return f"{i:010d}".ljust(nbytes, "x")


# --------------------------------------------------------------------------------------------
# the node functions, shared by every implementation
# --------------------------------------------------------------------------------------------


class ChainState(TypedDict):
    n: int


class ReviewState(TypedDict, total=False):
    payload: str
    draft: str
    decision: str
    result: str


def make_chain_fns(k: int) -> list[Callable[[dict[str, Any]], dict[str, Any]]]:
    fns = []
    for _ in range(k):

        def step(s: dict[str, Any]) -> dict[str, Any]:
            return {"n": s["n"] + 1}

        fns.append(step)
    return fns


NodeFn = Callable[[dict[str, Any]], dict[str, Any]]


def make_review_fns(interrupt: Callable[[Any], Any]) -> tuple[NodeFn, NodeFn, NodeFn]:
    """prepare -> review (interrupt) -> finish."""

    def prepare(s: dict[str, Any]) -> dict[str, Any]:
        return {"draft": "draft:" + s["payload"][:24]}

    def review(s: dict[str, Any]) -> dict[str, Any]:
        decision = interrupt({"question": "approve this draft?", "draft": s["draft"]})
        return {"decision": decision}

    def finish(s: dict[str, Any]) -> dict[str, Any]:
        return {"result": f"{s['decision']}|{s['draft']}"}

    return prepare, review, finish


# --------------------------------------------------------------------------------------------
# "direct": the same functions in plain Python, with the least machinery that still pauses
# --------------------------------------------------------------------------------------------


class _Pause(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class DirectStore:
    """Where a paused run's state lives: a dict, or one JSON row per thread in SQLite."""

    def __init__(self, path: str | None = None) -> None:
        self.mem: dict[str, dict[str, Any]] = {}
        self.conn: sqlite3.Connection | None = None
        if path is not None:
            self.conn = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS threads (id TEXT PRIMARY KEY, state BLOB NOT NULL)"
            )

    def save(self, tid: str, state: dict[str, Any]) -> None:
        if self.conn is None:
            self.mem[tid] = dict(state)
        else:
            self.conn.execute(
                "INSERT OR REPLACE INTO threads VALUES (?, ?)", (tid, json.dumps(state).encode())
            )

    def load(self, tid: str) -> dict[str, Any]:
        if self.conn is None:
            return dict(self.mem[tid])
        row = self.conn.execute("SELECT state FROM threads WHERE id = ?", (tid,)).fetchone()
        state: dict[str, Any] = json.loads(row[0])
        return state

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class DirectReview:
    """prepare -> review -> finish, paused at review's interrupt() by an exception and
    resumed by running review again with the resume value (LangGraph's semantics)."""

    def __init__(self, store: DirectStore) -> None:
        self.store = store
        self._resume: list[Any] = []
        self.prepare, self.review, self.finish = make_review_fns(self._interrupt)

    def _interrupt(self, value: Any) -> Any:
        if self._resume:
            return self._resume.pop()
        raise _Pause(value)

    def _run(self, tid: str, s: dict[str, Any], at: str) -> dict[str, Any]:
        nodes = (("prepare", self.prepare), ("review", self.review), ("finish", self.finish))
        started = False
        for name, fn in nodes:
            started = started or name == at
            if not started:
                continue
            try:
                s.update(fn(s))
            except _Pause as p:
                s["__next__"] = name
                self.store.save(tid, s)
                del s["__next__"]
                return {**s, "__interrupt__": [p.value]}
        s["__next__"] = ""
        self.store.save(tid, s)
        del s["__next__"]
        return s

    def start(self, tid: str, inp: dict[str, Any]) -> dict[str, Any]:
        return self._run(tid, dict(inp), "prepare")

    def resume(self, tid: str, value: Any) -> dict[str, Any]:
        s = self.store.load(tid)
        at = s.pop("__next__")
        self._resume.append(value)
        return self._run(tid, s, at)


# --------------------------------------------------------------------------------------------
# graph implementations (hitlgraph, langgraph): imported by name, same public API
# --------------------------------------------------------------------------------------------


class Api:
    def __init__(self, name: str) -> None:
        graph = importlib.import_module(f"{name}.graph")
        types = importlib.import_module(f"{name}.types")
        memory = importlib.import_module(f"{name}.checkpoint.memory")
        self.name = name
        self.StateGraph = graph.StateGraph
        self.START = graph.START
        self.END = graph.END
        self.interrupt = types.interrupt
        self.Command = types.Command
        self.InMemorySaver = memory.InMemorySaver
        self.Send = types.Send
        self.get_stream_writer = importlib.import_module(f"{name}.config").get_stream_writer
        self._sqlite = importlib.import_module(f"{name}.checkpoint.sqlite")

    @contextlib.contextmanager
    def postgres_saver(self, dsn: str) -> Iterator[Any]:
        """This implementation's own PostgresSaver (ImportError when not installed)."""
        mod = importlib.import_module(f"{self.name}.checkpoint.postgres")
        with mod.PostgresSaver.from_conn_string(dsn) as s:
            s.setup()  # LangGraph's needs it; hitlgraph's is idempotent
            yield s

    def sqlite_saver(self, path: str) -> contextlib.AbstractContextManager[Any]:
        cm: contextlib.AbstractContextManager[Any] = self._sqlite.SqliteSaver.from_conn_string(path)
        return cm

    @contextlib.contextmanager
    def saver(self, kind: str, path: str) -> Iterator[Any]:
        if kind == "none":
            yield None
        elif kind == "memory":
            yield self.InMemorySaver()
        elif kind == "postgres":
            with self.postgres_saver(path) as s:
                yield s
        else:
            with self.sqlite_saver(path) as s:
                yield s

    def chain(self, fns: list[NodeFn], checkpointer: Any) -> Any:
        b = self.StateGraph(ChainState)
        names = [f"n{i:03d}" for i in range(len(fns))]
        for name, fn in zip(names, fns, strict=True):
            b.add_node(name, fn)
        b.add_edge(self.START, names[0])
        for a, c in itertools.pairwise(names):
            b.add_edge(a, c)
        b.add_edge(names[-1], self.END)
        return b.compile(checkpointer=checkpointer)

    def review(self, checkpointer: Any) -> Any:
        prepare, review, finish = make_review_fns(self.interrupt)
        b = self.StateGraph(ReviewState)
        b.add_node("prepare", prepare)
        b.add_node("review", review)
        b.add_node("finish", finish)
        b.add_edge(self.START, "prepare")
        b.add_edge("prepare", "review")
        b.add_edge("review", "finish")
        b.add_edge("finish", self.END)
        return b.compile(checkpointer=checkpointer)


class Pauser:
    """One interface over direct and graph runs: start (runs to the interrupt), resume."""

    def __init__(self, impl: str, api: Api | None, checkpointer: Any) -> None:
        self.direct: DirectReview | None = None
        self.app: Any = None
        self.api = api
        if impl == "direct":
            self.direct = DirectReview(checkpointer)
        else:
            assert api is not None
            self.app = api.review(checkpointer)

    def start(self, tid: str, inp: dict[str, Any]) -> dict[str, Any]:
        if self.direct is not None:
            return self.direct.start(tid, inp)
        out: dict[str, Any] = self.app.invoke(inp, cfg(tid))
        return out

    def resume(self, tid: str, value: Any) -> dict[str, Any]:
        if self.direct is not None:
            return self.direct.resume(tid, value)
        assert self.api is not None
        out: dict[str, Any] = self.app.invoke(self.api.Command(resume=value), cfg(tid))
        return out


@contextlib.contextmanager
def store_for(impl: str, api: Api | None, kind: str, path: str) -> Iterator[Any]:
    """The checkpointer (graph impls) or DirectStore (direct) of one kind."""
    if impl == "direct":
        store = DirectStore(path if kind == "sqlite" else None)
        try:
            yield store
        finally:
            store.close()
    else:
        assert api is not None
        with api.saver(kind, path) as s:
            yield s


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


# --------------------------------------------------------------------------------------------
# scenarios: each returns {metric: value}; errors per sub-measurement go in errors
# --------------------------------------------------------------------------------------------


class Ctx:
    def __init__(self, impl: str, P: dict[str, Any], tmp: str) -> None:
        self.impl = impl
        self.P = P
        self.tmp = tmp
        self.api: Api | None = None if impl == "direct" else Api(impl)
        self.metrics: Metrics = {}
        self.errors: dict[str, str] = {}
        self._n = 0

    def tid(self, tag: str) -> str:
        self._n += 1
        return f"{tag}-{self._n}"

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        try:
            yield
        except Exception as e:
            self.errors[name] = f"{type(e).__name__}: {e}"
            log(f"{self.impl}/{name}: ERROR {type(e).__name__}: {e}\n{traceback.format_exc()}")


def sc_chain(x: Ctx) -> None:
    P = x.P
    k = P["chain_nodes"]
    fns = make_chain_fns(k)
    if x.api is None:

        def floor() -> dict[str, Any]:
            s: dict[str, Any] = {"n": 0}
            for f in fns:
                s = f(s)
            return s

        check(floor()["n"] == k, "direct chain wrong")
        ts = timeit(floor, P["direct_chain_reps"], warmup=50, budget_s=P["budget_s"])
        x.metrics["chain.direct.us_per_step"] = median(ts) / k * 1e6
        return
    api = x.api
    for kind in ("none", "memory", "sqlite"):
        with x.section(f"chain.{kind}"), api.saver(kind, os.path.join(x.tmp, "chain.db")) as cp:
            app = api.chain(fns, cp)

            def run(app: Any = app, cp: Any = cp) -> Any:
                return app.invoke({"n": 0}, cfg(x.tid("chain") if cp is not None else None))

            out = run()
            check(out["n"] == k, f"chain result {out.get('n')!r} != {k}")
            ts = timeit(run, P["chain_reps"][kind], warmup=3, budget_s=P["budget_s"])
            x.metrics[f"chain.{kind}.us_per_step"] = median(ts) / k * 1e6


def sc_roundtrip(x: Ctx) -> None:
    P = x.P
    pl = "p" * P["payload_bytes"]
    for kind in ("memory", "sqlite"):
        path = os.path.join(x.tmp, "roundtrip.db")
        with x.section(f"rt.{kind}"), store_for(x.impl, x.api, kind, path) as store:
            p = Pauser(x.impl, x.api, store)
            # correctness, untimed
            tid = x.tid("check")
            first = p.start(tid, {"payload": pl})
            check("__interrupt__" in first, f"did not pause: {first!r}")
            out = p.resume(tid, "approved")
            check(out.get("result") == "approved|draft:" + pl[:24], f"resume gave {out!r}")

            pause_t: list[float] = []
            resume_t: list[float] = []

            def roundtrip(
                p: Pauser = p, pause_t: list[float] = pause_t, resume_t: list[float] = resume_t
            ) -> None:
                tid = x.tid("rt")
                t0 = perf()
                p.start(tid, {"payload": pl})
                t1 = perf()
                p.resume(tid, "approved")
                pause_t.append(t1 - t0)
                resume_t.append(perf() - t1)

            ts = timeit(roundtrip, P["rt_reps"][kind], warmup=5, budget_s=P["budget_s"])
            n = len(ts)
            x.metrics[f"rt.{kind}.ms_roundtrip"] = median(ts) * 1e3
            x.metrics[f"rt.{kind}.ms_to_interrupt"] = median(pause_t[-n:]) * 1e3
            x.metrics[f"rt.{kind}.ms_resume_to_end"] = median(resume_t[-n:]) * 1e3


def _warm_pauser(x: Ctx) -> None:
    """Imports, caches, code paths: run a few round trips on a throwaway store."""
    with store_for(x.impl, x.api, "memory", "") as store:
        p = Pauser(x.impl, x.api, store)
        for i in range(30):
            tid = x.tid("warm")
            p.start(tid, {"payload": payload(i, x.P["payload_bytes"])})
            p.resume(tid, "ok")
    gc.collect()


def _pause_n(x: Ctx, p: Pauser, tag: str) -> int:
    n = x.P["paused_threads"]
    nbytes = x.P["payload_bytes"]
    t0 = perf()
    for i in range(n):
        out = p.start(f"{tag}-{i}", {"payload": payload(i, nbytes)})
        if i == 0:
            check("__interrupt__" in out, f"thread did not pause: {out!r}")
    dt = perf() - t0
    x.metrics[f"{tag}.ms_per_pause"] = dt / n * 1e3
    # spot check: the last thread resumes with its own payload
    last = p.resume(f"{tag}-{n - 1}", "ok")
    check(last.get("result") == "ok|draft:" + payload(n - 1, nbytes)[:24], f"resume: {last!r}")
    return n


def sc_paused_rss(x: Ctx) -> None:
    _warm_pauser(x)
    with x.section("paused.memory"):
        rss0 = rss_bytes()
        with store_for(x.impl, x.api, "memory", "") as store:
            p = Pauser(x.impl, x.api, store)
            n = _pause_n(x, p, "paused.memory")
            gc.collect()
            rss1 = rss_bytes()
            x.metrics["paused.memory.rss_B_per_thread"] = (rss1 - rss0) / n


def sc_paused_tm(x: Ctx) -> None:
    _warm_pauser(x)
    with x.section("paused.memory"):
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            with store_for(x.impl, x.api, "memory", "") as store:
                p = Pauser(x.impl, x.api, store)
                n = x.P["paused_threads"]
                nbytes = x.P["payload_bytes"]
                for i in range(n):
                    p.start(f"tm-{i}", {"payload": payload(i, nbytes)})
                gc.collect()
                now = tracemalloc.get_traced_memory()[0]
                x.metrics["paused.memory.traced_B_per_thread"] = (now - base) / n
        finally:
            tracemalloc.stop()


def sc_paused_sql(x: Ctx) -> None:
    _warm_pauser(x)
    with x.section("paused.sqlite"):
        path = os.path.join(x.tmp, "paused.db")
        with store_for(x.impl, x.api, "sqlite", path) as store:
            p = Pauser(x.impl, x.api, store)
            n = x.P["paused_threads"]
            nbytes = x.P["payload_bytes"]
            t0 = perf()
            for i in range(n):
                p.start(f"sq-{i}", {"payload": payload(i, nbytes)})
            x.metrics["paused.sqlite.ms_per_pause"] = (perf() - t0) / n * 1e3
        # closed: the WAL is folded into the main file
        x.metrics["paused.sqlite.disk_B_per_thread"] = disk_bytes(path) / n
        with store_for(x.impl, x.api, "sqlite", path) as store:  # a restarted process resumes
            p = Pauser(x.impl, x.api, store)
            out = p.resume(f"sq-{n // 2}", "ok")
            check(
                out.get("result") == "ok|draft:" + payload(n // 2, nbytes)[:24],
                f"resume after reopen: {out!r}",
            )


# --------------------------------------------------------------------------------------------
# streaming, Send fan-out, checkpoint backends
# --------------------------------------------------------------------------------------------

STREAM_MODES: dict[str, str | list[str]] = {
    "updates": "updates",
    "values": "values",
    "custom": "custom",
    "updates_values": ["updates", "values"],
}


def sc_stream(x: Ctx) -> None:
    """A chain streamed in each mode: us per chunk and per step (invoke for reference)."""
    P = x.P
    k = P["stream_nodes"]
    fns = make_chain_fns(k)
    if x.api is None:  # the floor: a generator yielding each node's update

        def gen() -> Iterator[dict[str, Any]]:
            s: dict[str, Any] = {"n": 0}
            for f in fns:
                u = f(s)
                s = {**s, **u}
                yield u

        def floor() -> int:
            return sum(1 for _ in gen())

        check(floor() == k, "direct stream wrong")
        ts = timeit(floor, P["direct_chain_reps"], warmup=50, budget_s=P["budget_s"])
        x.metrics["stream.direct.us_per_step"] = median(ts) / k * 1e6
        return
    api = x.api
    writer_get = api.get_stream_writer

    def with_writer(f: NodeFn) -> NodeFn:
        def node(s: dict[str, Any]) -> dict[str, Any]:
            writer_get()({"at": s["n"]})
            return f(s)

        return node

    wfns = [with_writer(f) for f in fns]
    for kind in ("none", "memory"):
        with x.section(f"stream.{kind}"):
            cp = api.InMemorySaver() if kind == "memory" else None
            plain, custom = api.chain(fns, cp), api.chain(wfns, cp)

            def inv(app: Any = plain, cp: Any = cp) -> int:
                out = app.invoke({"n": 0}, cfg(x.tid("s") if cp is not None else None))
                check(out["n"] == k, f"stream invoke result {out!r}")
                return 1

            inv()
            ts = timeit(inv, P["stream_reps"], warmup=3, budget_s=P["budget_s"])
            x.metrics[f"stream.{kind}.invoke.us_per_step"] = median(ts) / k * 1e6
            for label, mode in STREAM_MODES.items():
                app = custom if label == "custom" else plain
                counted: list[int] = []

                def run(
                    app: Any = app, mode: Any = mode, counted: list[int] = counted, cp: Any = cp
                ) -> None:
                    c = cfg(x.tid("s") if cp is not None else None)
                    counted.append(sum(1 for _ in app.stream({"n": 0}, c, stream_mode=mode)))

                run()
                chunks = counted[0]
                check(chunks >= k, f"stream {label}: {chunks} chunks < {k}")
                ts = timeit(run, P["stream_reps"], warmup=3, budget_s=P["budget_s"])
                check(set(counted) == {chunks}, f"stream {label}: chunk counts {set(counted)}")
                x.metrics[f"stream.{kind}.{label}.us_per_chunk"] = median(ts) / chunks * 1e6
                x.metrics[f"stream.{kind}.{label}.us_per_step"] = median(ts) / k * 1e6
                x.metrics[f"stream.{kind}.{label}.chunks"] = chunks


class FanState(TypedDict, total=False):
    items: Annotated[list[int], operator.add]


def fan_worker(s: dict[str, Any]) -> dict[str, Any]:
    return {"items": [s["i"] * 2]}


def sc_fanout(x: Ctx) -> None:
    """START --(conditional edge: B Send objects)--> worker (B tasks in one superstep)."""
    P = x.P
    nb = P["fanout_branches"]
    want = [i * 2 for i in range(nb)]
    if x.api is None:

        def floor() -> list[int]:
            items: list[int] = []
            for i in range(nb):
                items = items + fan_worker({"i": i})["items"]
            return items

        check(floor() == want, "direct fanout wrong")
        ts = timeit(floor, P["direct_chain_reps"], warmup=50, budget_s=P["budget_s"])
        x.metrics["fan.direct.ms_per_invoke"] = median(ts) * 1e3
        x.metrics["fan.direct.us_per_branch"] = median(ts) / nb * 1e6
        return
    api = x.api

    def fan(s: dict[str, Any]) -> list[Any]:
        return [api.Send("worker", {"i": i}) for i in range(nb)]

    for kind in ("none", "memory"):
        with x.section(f"fan.{kind}"):
            cp = api.InMemorySaver() if kind == "memory" else None
            b = api.StateGraph(FanState)
            b.add_node("worker", fan_worker)
            b.add_conditional_edges(api.START, fan, ["worker"])
            b.add_edge("worker", api.END)
            app = b.compile(checkpointer=cp)

            def run(app: Any = app, cp: Any = cp) -> Any:
                return app.invoke({"items": []}, cfg(x.tid("f") if cp is not None else None))

            out = run()
            check(sorted(out["items"]) == want, f"fanout result {out!r}"[:200])
            ts = timeit(run, P["fanout_reps"], warmup=3, budget_s=P["budget_s"])
            x.metrics[f"fan.{kind}.ms_per_invoke"] = median(ts) * 1e3
            x.metrics[f"fan.{kind}.us_per_branch"] = median(ts) / nb * 1e6


PG_ENV = "HITLGRAPH_TEST_POSTGRES_DSN"


@contextlib.contextmanager
def pg_schema(tag: str) -> Iterator[tuple[str, str]]:
    """A fresh schema in the $HITLGRAPH_TEST_POSTGRES_DSN database, dropped afterwards:
    yields (DSN whose search_path is that schema, schema name)."""
    import psycopg

    base = os.environ[PG_ENV]
    schema = f"bench_{tag}_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}", schema
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def pg_schema_bytes(schema: str) -> int:
    """pg_total_relation_size (heap, indexes, TOAST) of every table in the schema."""
    import psycopg

    with psycopg.connect(os.environ[PG_ENV], autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r'",
            (schema,),
        ).fetchone()
    return int(row[0]) if row else 0


@contextlib.contextmanager
def timed_put(saver: Any, into: list[float]) -> Iterator[None]:
    """Time every saver.put the engine makes (wall time, whichever thread calls it)."""
    orig = saver.put

    def put(*a: Any, **kw: Any) -> Any:
        t0 = perf()
        try:
            return orig(*a, **kw)
        finally:
            into.append(perf() - t0)

    saver.put = put
    try:
        yield
    finally:
        del saver.put


def _backend(x: Ctx, kind: str, saver: Any) -> None:
    assert x.api is not None
    P = x.P
    k = P["be_nodes"]
    reps = P["be_reps"][kind]
    fns = make_chain_fns(k)
    app = x.api.chain(fns, saver)
    puts: list[float] = []
    with timed_put(saver, puts):

        def run() -> Any:
            return app.invoke({"n": 0}, cfg(x.tid("be")))

        check(run()["n"] == k, "backend chain wrong")
        ts = timeit(run, reps, warmup=3, budget_s=P["budget_s"])
    x.metrics[f"be.{kind}.chain.us_per_step"] = median(ts) / k * 1e6
    if puts:
        x.metrics[f"be.{kind}.put.us"] = median(puts) * 1e6
    tid = x.tid("be-read")
    app.invoke({"n": 0}, cfg(tid))

    def read() -> None:
        check(app.get_state(cfg(tid)).values["n"] == k, "get_state wrong")

    ts = timeit(read, reps, warmup=3, budget_s=P["budget_s"])
    x.metrics[f"be.{kind}.get_state.ms"] = median(ts) * 1e3
    p = Pauser(x.impl, x.api, saver)
    pl = "p" * P["payload_bytes"]

    def rt() -> None:
        t = x.tid("be-rt")
        p.start(t, {"payload": pl})
        out = p.resume(t, "ok")
        check(out.get("result") == "ok|draft:" + pl[:24], f"backend round trip {out!r}")

    ts = timeit(rt, reps, warmup=3, budget_s=P["budget_s"])
    x.metrics[f"be.{kind}.rt.ms"] = median(ts) * 1e3


def sc_backends(x: Ctx) -> None:
    if x.api is None:
        return  # no direct floor: the figures are the savers'
    api = x.api
    with x.section("be.memory"):
        _backend(x, "memory", api.InMemorySaver())
    with x.section("be.sqlite"), api.sqlite_saver(os.path.join(x.tmp, "be.db")) as s:
        _backend(x, "sqlite", s)
    if not os.environ.get(PG_ENV):
        x.errors["be.postgres"] = f"skipped: {PG_ENV} not set"
        return
    with x.section("be.postgres"):
        with pg_schema(x.impl[:4]) as (dsn, _), api.postgres_saver(dsn) as s:
            _backend(x, "postgres", s)
        with pg_schema(x.impl[:4]) as (dsn, schema), api.postgres_saver(dsn) as s:
            p = Pauser(x.impl, x.api, s)
            nbytes = x.P["payload_bytes"]
            p.start("warm", {"payload": payload(0, nbytes)})  # setup, caches, connection
            b0 = pg_schema_bytes(schema)
            n = x.P["pg_paused_threads"]
            t0 = perf()
            for i in range(n):
                p.start(f"pg-{i}", {"payload": payload(i, nbytes)})
            x.metrics["be.postgres.ms_per_pause"] = (perf() - t0) / n * 1e3
            x.metrics["be.postgres.paused_B_per_thread"] = (pg_schema_bytes(schema) - b0) / n
            out = p.resume(f"pg-{n // 2}", "ok")
            check(out.get("result") == "ok|draft:" + payload(n // 2, nbytes)[:24], f"{out!r}")


class HistoryState(TypedDict):
    messages: Annotated[list[str], operator.add]


def _history_app(api: Api, saver: Any, steps: int, item: int) -> Any:
    def agent(state: HistoryState) -> dict[str, Any]:
        return {"messages": [f"{len(state['messages']):08d}".ljust(item, "m")]}

    def route(state: HistoryState) -> str:
        return api.END if len(state["messages"]) >= steps else "agent"

    b = api.StateGraph(HistoryState)
    b.add_node("agent", agent)
    b.add_edge(api.START, "agent")
    b.add_conditional_edges("agent", route, ["agent", api.END])
    return b.compile(checkpointer=saver)


def sc_history(x: Ctx) -> None:
    """Compact storage of a growing list: bytes on disk and read latency, SQLite file."""
    if x.api is None:
        return
    api, steps, item = x.api, 500, 200
    path = os.path.join(x.tmp, "history.sqlite")
    config = {"configurable": {"thread_id": "chat"}, "recursion_limit": steps + 100}
    with api.sqlite_saver(path) as saver:
        app = _history_app(api, saver, steps, item)
        t0 = perf()
        out = app.invoke({"messages": []}, config)
        x.metrics["hist.ms_per_step"] = (perf() - t0) / steps * 1e3
        check(len(out["messages"]) == steps, f"{len(out['messages'])} items")
        ts = [timed(lambda: app.get_state(config)) for _ in range(50)]
        x.metrics["hist.get_state.ms"] = median(ts) * 1e3
    size = disk_bytes(path)
    x.metrics["hist.disk_B_per_step"] = size / steps
    x.metrics["hist.disk_x_data"] = size / (steps * item)
    cold = []
    for _ in range(15):  # a new saver each time: nothing remembered from writing
        with api.sqlite_saver(path) as saver:
            fresh = _history_app(api, saver, steps, item)
            cold.append(timed(functools.partial(fresh.get_state, config)))
    x.metrics["hist.get_state_new_saver.ms"] = median(cold) * 1e3
    with api.sqlite_saver(path) as saver:
        app = _history_app(api, saver, steps, item)
        ts = [timed(lambda: list(app.get_state_history(config, limit=10))) for _ in range(20)]
        x.metrics["hist.history10.ms"] = median(ts) * 1e3
        ts = [timed(lambda: list(app.get_state_history(config))) for _ in range(3)]
        x.metrics["hist.history_all.ms"] = median(ts) * 1e3


def timed(fn: Callable[[], Any]) -> float:
    t0 = perf()
    fn()
    return perf() - t0


SCENARIO_FNS: dict[str, Callable[[Ctx], None]] = {
    "chain": sc_chain,
    "roundtrip": sc_roundtrip,
    "paused_rss": sc_paused_rss,
    "paused_tm": sc_paused_tm,
    "paused_sql": sc_paused_sql,
    "stream": sc_stream,
    "fanout": sc_fanout,
    "backends": sc_backends,
    "history": sc_history,
}


def run_child(impl: str, scenario: str, P: dict[str, Any]) -> dict[str, Any]:
    t0 = perf()
    try:
        with tempfile.TemporaryDirectory(prefix="bench_core_") as tmp:
            x = Ctx(impl, P, tmp)
            SCENARIO_FNS[scenario](x)
        return {"metrics": x.metrics, "errors": x.errors, "error": None, "elapsed_s": perf() - t0}
    except ImportError as e:
        return {
            "metrics": {},
            "errors": {},
            "error": f"not installed ({e})",
            "not_installed": True,
            "elapsed_s": perf() - t0,
        }
    except Exception as e:
        log(traceback.format_exc())
        return {
            "metrics": {},
            "errors": {},
            "error": f"{type(e).__name__}: {e}",
            "elapsed_s": perf() - t0,
        }


def busy_cpu_s() -> float | None:
    """Machine-wide busy CPU seconds so far, from /proc/stat (Linux only)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def spawn(impl: str, scenario: str, args: argparse.Namespace, P: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", f"{impl}:{scenario}"]
    if args.quick:
        cmd.append("--quick")
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.payload_bytes:
        cmd += ["--payload-bytes", str(args.payload_bytes)]
    t0 = perf()
    busy0, own0 = busy_cpu_s(), children_cpu_s()
    try:
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, text=True, timeout=P["child_timeout_s"], check=False
        )
    except subprocess.TimeoutExpired:
        return {
            "metrics": {},
            "errors": {},
            "elapsed_s": perf() - t0,
            "error": f"timeout after {P['child_timeout_s']} s",
        }
    busy1, own1 = busy_cpu_s(), children_cpu_s()
    lines = proc.stdout.strip().splitlines()
    try:
        res: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {
            "metrics": {},
            "errors": {},
            "elapsed_s": perf() - t0,
            "error": f"child exited {proc.returncode} without a result",
        }
    wall = perf() - t0
    if busy0 is not None and busy1 is not None and wall > 0:
        # noise: CPU that other processes used meanwhile, as a share of all cores' time
        foreign = max(0.0, (busy1 - busy0) - (own1 - own0))
        res["other_cpu_share"] = foreign / (wall * (os.cpu_count() or 1))
    return res


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------

# (label, metric key, unit, floor key in the direct column, target for hitlgraph/langgraph)
ROWS: list[tuple[str, str, str, str, float | None]] = [
    (
        "chain100 no checkpointer",
        "chain.none.us_per_step",
        "us/step",
        "chain.direct.us_per_step",
        None,
    ),
    (
        "chain100 InMemorySaver",
        "chain.memory.us_per_step",
        "us/step",
        "chain.direct.us_per_step",
        0.10,
    ),
    (
        "chain100 SqliteSaver",
        "chain.sqlite.us_per_step",
        "us/step",
        "chain.direct.us_per_step",
        None,
    ),
    ("round trip InMemorySaver", "rt.memory.ms_roundtrip", "ms", "rt.memory.ms_roundtrip", 0.10),
    ("  start -> interrupt", "rt.memory.ms_to_interrupt", "ms", "rt.memory.ms_to_interrupt", None),
    ("  resume -> end", "rt.memory.ms_resume_to_end", "ms", "rt.memory.ms_resume_to_end", None),
    ("round trip SqliteSaver", "rt.sqlite.ms_roundtrip", "ms", "rt.sqlite.ms_roundtrip", None),
    ("  start -> interrupt", "rt.sqlite.ms_to_interrupt", "ms", "rt.sqlite.ms_to_interrupt", None),
    ("  resume -> end", "rt.sqlite.ms_resume_to_end", "ms", "rt.sqlite.ms_resume_to_end", None),
    (
        "paused thread, RSS",
        "paused.memory.rss_B_per_thread",
        "B/thread",
        "paused.memory.rss_B_per_thread",
        0.50,
    ),
    (
        "paused thread, tracemalloc",
        "paused.memory.traced_B_per_thread",
        "B/thread",
        "paused.memory.traced_B_per_thread",
        0.50,
    ),
    (
        "paused thread, SQLite disk",
        "paused.sqlite.disk_B_per_thread",
        "B/thread",
        "paused.sqlite.disk_B_per_thread",
        None,
    ),
    (
        "pause, N threads in saver, mem",
        "paused.memory.ms_per_pause",
        "ms",
        "paused.memory.ms_per_pause",
        None,
    ),
    (
        "pause, N threads in saver, SQL",
        "paused.sqlite.ms_per_pause",
        "ms",
        "paused.sqlite.ms_per_pause",
        None,
    ),
]

_SAVER_NAMES = {"none": "no checkpointer", "memory": "InMemorySaver"}
for _kind in ("none", "memory"):
    ROWS.append(
        (
            f"chain50 invoke, {_SAVER_NAMES[_kind]}",
            f"stream.{_kind}.invoke.us_per_step",
            "us/step",
            "stream.direct.us_per_step",
            None,
        )
    )
    for _label in STREAM_MODES:
        ROWS.append(
            (
                f"  stream {_label.replace('_', '+')}",
                f"stream.{_kind}.{_label}.us_per_step",
                "us/step",
                "stream.direct.us_per_step",
                None,
            )
        )
        ROWS.append(
            (
                f"  stream {_label.replace('_', '+')}",
                f"stream.{_kind}.{_label}.us_per_chunk",
                "us/chunk",
                "-",
                None,
            )
        )
for _kind in ("none", "memory"):
    ROWS.append(
        (
            f"fanout 100 Send, {_SAVER_NAMES[_kind]}",
            f"fan.{_kind}.ms_per_invoke",
            "ms",
            "fan.direct.ms_per_invoke",
            None,
        )
    )
    ROWS.append(
        (
            "  per branch",
            f"fan.{_kind}.us_per_branch",
            "us/branch",
            "fan.direct.us_per_branch",
            None,
        )
    )
for _kind in ("memory", "sqlite", "postgres"):
    ROWS += [
        (f"{_kind}: chain10 per step", f"be.{_kind}.chain.us_per_step", "us/step", "-", None),
        (f"{_kind}: saver.put", f"be.{_kind}.put.us", "us/put", "-", None),
        (f"{_kind}: get_state latest", f"be.{_kind}.get_state.ms", "ms", "-", None),
        (f"{_kind}: interrupt round trip", f"be.{_kind}.rt.ms", "ms", "-", None),
    ]
ROWS += [
    ("history: step, SQLite", "hist.ms_per_step", "ms/step", "-", None),
    ("history: disk per step", "hist.disk_B_per_step", "B/step", "-", None),
    ("history: disk / data", "hist.disk_x_data", "x", "-", None),
    ("history: get_state", "hist.get_state.ms", "ms", "-", None),
    ("history: get_state, new saver", "hist.get_state_new_saver.ms", "ms", "-", None),
    ("history: history limit=10", "hist.history10.ms", "ms", "-", None),
    ("history: whole history", "hist.history_all.ms", "ms", "-", None),
]
ROWS += [
    ("postgres: pause, N threads", "be.postgres.ms_per_pause", "ms", "-", None),
    ("postgres: paused thread, bytes", "be.postgres.paused_B_per_thread", "B/thread", "-", None),
]


def fmt(v: float | None) -> str:
    if v is None or v != v:
        return "-"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or a != a or b != b:
        return None
    return a / b


def build_rows(metrics: dict[str, Metrics]) -> list[dict[str, Any]]:
    rows = []
    for label, key, unit, floor_key, target in ROWS:
        d = metrics.get("direct", {}).get(floor_key)
        h = metrics.get("hitlgraph", {}).get(key)
        lg = metrics.get("langgraph", {}).get(key)
        hl = ratio(h, lg)
        rows.append(
            {
                "label": label,
                "key": key,
                "unit": unit,
                "direct": d,
                "hitlgraph": h,
                "langgraph": lg,
                "hitlgraph_over_langgraph": hl,
                "hitlgraph_over_direct": ratio(h, d),
                "langgraph_over_direct": ratio(lg, d),
                "target_hitlgraph_over_langgraph": target,
                "target_met": None if target is None or hl is None else hl <= target,
            }
        )
    return rows


def print_table(
    meta: dict[str, Any], rows: list[dict[str, Any]], results: dict[str, dict[str, Any]]
) -> None:
    print(
        f"bench_core  mode={meta['mode']}  python={meta['python']}  nproc={meta['nproc']}  "
        f"paused_threads={meta['params']['paused_threads']}  "
        f"payload={meta['params']['payload_bytes']} B  rounds={meta['rounds']}"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    head = (
        f"{'scenario':<32} {'unit':<9} {'direct':>9} {'hitlgraph':>10} {'langgraph':>10} "
        f"{'hitl/lg':>8} {'hitl/dir':>9} {'lg/dir':>8}  target"
    )
    print()
    print(head)
    print("-" * len(head))
    for r in rows:
        tgt = r["target_hitlgraph_over_langgraph"]
        t = (
            ""
            if tgt is None
            else f"<= {tgt:g} "
            + ("-" if r["target_met"] is None else ("met" if r["target_met"] else "MISSED"))
        )
        print(
            f"{r['label']:<32} {r['unit']:<9} {fmt(r['direct']):>9} {fmt(r['hitlgraph']):>10} "
            f"{fmt(r['langgraph']):>10} {fmt(r['hitlgraph_over_langgraph']):>8} "
            f"{fmt(r['hitlgraph_over_direct']):>9} {fmt(r['langgraph_over_direct']):>8}  {t}"
        )
    print()
    for impl, by_sc in results.items():
        if by_sc.get("not_installed"):
            print(f"{impl}: {by_sc['error']}")
            continue
        for sc, res in by_sc.items():
            if res.get("error"):
                print(f"{impl}/{sc}: {res['error']}")
            for name, err in res.get("errors", {}).items():
                print(f"{impl}/{sc}/{name}: ERROR {err}")
    noisy = [
        f"{impl}/{sc} {res['other_cpu_share']:.0%}"
        for impl, by_sc in results.items()
        for sc, res in by_sc.items()
        if isinstance(res, dict) and res.get("other_cpu_share", 0) >= 0.10
    ]
    if noisy:
        print("noise: other processes used >= 10% of the CPU during: " + ", ".join(noisy))
    print(f"total {meta['total_s']:.1f} s")


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in (
        "hitlgraph",
        "langgraph",
        "langgraph-checkpoint",
        "langgraph-checkpoint-sqlite",
        "langgraph-checkpoint-postgres",
        "psycopg",
        "ormsgpack",
        "psutil",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    out["sqlite"] = sqlite3.sqlite_version
    return out


def aggregate(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One child's results over rounds: min of the time medians, median of the byte counts."""
    if len(rounds) == 1:
        return rounds[0]
    values: dict[str, list[float]] = {}
    for r in rounds:
        for k, v in r.get("metrics", {}).items():
            values.setdefault(k, []).append(v)
    shares = [r["other_cpu_share"] for r in rounds if "other_cpu_share" in r]
    errors = [r["error"] for r in rounds if r.get("error")]
    return {
        "metrics": {k: median(v) if "_B_" in k else min(v) for k, v in values.items()},
        "errors": {k: v for r in rounds for k, v in r.get("errors", {}).items()},
        "error": errors[0] if errors else None,
        "elapsed_s": sum(r.get("elapsed_s", 0.0) for r in rounds),
        **({"other_cpu_share": min(shares)} if shares else {}),
        "rounds": rounds,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, < 60 s")
    ap.add_argument("--json", action="store_true", help="print one JSON object, not the table")
    ap.add_argument("--impls", default=",".join(IMPLS), help="comma-separated subset of impls")
    ap.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help="comma-separated subset of: " + ",".join(SCENARIOS),
    )
    ap.add_argument("--out", default="", help="also write the JSON object to this file")
    ap.add_argument("--payload-bytes", type=int, default=0, help="override the payload size")
    ap.add_argument("--threads", type=int, default=0, help="override the paused-thread count")
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every child N times, implementations interleaved; report the minimum of the "
        "per-round medians for times, the median for bytes (for a machine with neighbours)",
    )
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    P = dict(PARAMS["quick" if args.quick else "full"])
    if args.threads:
        P["paused_threads"] = args.threads
    if args.payload_bytes:
        P["payload_bytes"] = args.payload_bytes

    if args.child:
        impl, scenario = args.child.split(":")
        print(json.dumps(run_child(impl, scenario, P)))
        return 0

    impls = [i for i in args.impls.split(",") if i]
    scenarios = [s for s in args.only.split(",") if s]
    bad = [s for s in scenarios if s not in SCENARIO_FNS] + [i for i in impls if i not in IMPLS]
    if bad:
        ap.error(f"unknown: {bad}")

    meta: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
        "versions": versions(),
        "params": P,
    }
    meta["rounds"] = args.rounds
    t0 = perf()
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        i: {sc: [] for sc in scenarios} for i in impls
    }
    missing: dict[str, str] = {}
    for rnd in range(args.rounds):
        for impl in impls:
            if impl in missing:
                continue
            for sc in scenarios:
                log(f"round {rnd + 1}/{args.rounds} {impl}/{sc} ...")
                res = spawn(impl, sc, args, P)
                log(
                    f"{impl}/{sc} done in {res.get('elapsed_s', 0):.1f} s"
                    + (f": {res['error']}" if res.get("error") else "")
                )
                if res.get("not_installed"):
                    missing[impl] = res["error"]
                    break
                runs[impl][sc].append(res)
    results: dict[str, dict[str, Any]] = {}
    metrics: dict[str, Metrics] = {}
    for impl in impls:
        if impl in missing:
            results[impl] = {"error": missing[impl], "not_installed": True}
            continue
        results[impl] = {sc: aggregate(rs) for sc, rs in runs[impl].items()}
        metrics[impl] = {k: v for r in results[impl].values() for k, v in r["metrics"].items()}
    meta["total_s"] = perf() - t0
    rows = build_rows(metrics)
    report = json.dumps({"meta": meta, "rows": rows, "results": results}, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
    if args.json:
        print(report)
    else:
        print_table(meta, rows, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
