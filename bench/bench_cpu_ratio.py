"""CPU-time ratios to LangGraph of the shared yardstick's graphs, for a machine too busy for
wall-clock timings: each figure is the median `time.process_time()` (the process's CPU, all
threads) of one operation, which other processes move far less than elapsed time.

    python bench/bench_cpu_ratio.py            # hitlgraph (this checkout) and LangGraph
    python bench/bench_cpu_ratio.py --src /tmp/base/src

Graphs and sizes are ../shared/bench/hitl_bench.py's: a conditional edge returning 100 Sends
(no saver, memory saver), the review graph's interrupt round trip (memory saver), and
get_state_history of a 500-step thread whose list grows 200 bytes a step (SQLite): the first
page (limit=10) and the whole history; and the first page of threads of 100, 500 and 2000
steps, with a counter for state and (hitlgraph only) with the growing list. Each
implementation runs in its own process, one after the other; the script prints both and
their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
YARDSTICK = HERE.parent.parent / "shared" / "bench"


def _median_ms(fn: Callable[[], Any], reps: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    times.sort()
    return times[len(times) // 2] * 1e3


def measure(impl: str) -> dict[str, float]:
    """The figures of one implementation (run in a process of its own)."""
    sys.path.insert(0, str(YARDSTICK))
    import hitl_bench as hb

    kit = hb.Impl(impl)
    out: dict[str, float] = {}
    for kind, saver in (("none", None), ("memory", kit.InMemorySaver())):
        app = hb.build_fanout(kit, saver)

        def fan_out(app: Any = app, saver: Any = saver) -> None:
            app.invoke({"n": 100, "items": []}, hb.cfg(hb.new_tid("f") if saver else None))

        out[f"fanout 100 Sends, {kind} (ms)"] = _median_ms(fan_out, 30)
    review = hb.build_review(kit, kit.InMemorySaver())

    def round_trip() -> None:
        config = hb.cfg(hb.new_tid("rt"))
        review.invoke({"payload": "x" * 1024}, config)
        review.invoke(kit.Command(resume="approved"), config)

    out["interrupt round trip, memory (ms)"] = _median_ms(round_trip, 300, 20)
    with tempfile.TemporaryDirectory() as tmp, \
            kit.sqlite_saver(os.path.join(tmp, "h.sqlite")) as saver:
        run = hb._history_run(kit, saver, dict(hb.PARAMS["full"], hist_steps=500))
        graph, config = run["app"], run["config"]
        out["history first page, limit=10 (ms)"] = _median_ms(
            lambda: list(graph.get_state_history(config, limit=10)), 40)
        out["history whole, 500 steps (ms)"] = _median_ms(
            lambda: sum(1 for _ in graph.get_state_history(config)), 7, 1)
    out.update(_first_pages(kit, hb, "counter", (100, 500, 2000)))
    if impl == "hitlgraph":  # LangGraph writes the whole list each step: 2000 take minutes
        out.update(_first_pages(kit, hb, "growing", (100, 500, 2000)))
    return out


def _first_pages(kit: Any, hb: Any, kind: str, lengths: tuple[int, ...]) -> dict[str, float]:
    """The first page (limit=10) of history of threads of each length: a counter (the state
    stays the same size) or the growing list (200 bytes more a step)."""
    out: dict[str, float] = {}
    for steps in lengths:
        with tempfile.TemporaryDirectory() as tmp, \
                kit.sqlite_saver(os.path.join(tmp, "h.sqlite")) as saver:
            if kind == "counter":
                graph = hb.build_counter_loop(kit, saver, steps)
                config = hb.cfg(hb.new_tid("c"), recursion_limit=steps + 100)
                graph.invoke({"n": 0}, config)
            else:
                run = hb._history_run(kit, saver, dict(hb.PARAMS["full"], hist_steps=steps))
                graph, config = run["app"], run["config"]
            out[f"first page, {kind}, {steps} steps (ms)"] = _median_ms(
                lambda graph=graph, config=config: list(
                    graph.get_state_history(config, limit=10)), 40)
    return out


def _child(impl: str, src: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    done = subprocess.run([sys.executable, __file__, "--child", impl], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=HERE.parent / "src",
                        help="the hitlgraph source folder to measure")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    print(f"load average: {os.getloadavg()}")
    ours, theirs = _child("hitlgraph", args.src), _child("langgraph", None)
    print(f"{'measurement (CPU ms, median)':38} {'hitlgraph':>10} {'langgraph':>10} {'ratio':>7}")
    for name, value in ours.items():
        if name in theirs:
            print(f"{name:38} {value:10.3f} {theirs[name]:10.3f} {value / theirs[name]:7.3f}")
        else:
            print(f"{name:38} {value:10.3f} {'-':>10} {'-':>7}")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
