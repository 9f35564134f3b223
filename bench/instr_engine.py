"""Engine cost in instructions (valgrind's callgrind), two source trees side by side.

Wall-clock timings on a shared machine move by 10-30% with the load; instruction counts of
the same workload move by well under 1%, so they show a refactor's cost where timings cannot.
Each workload runs its operation R times inside functools.reduce, and callgrind counts only
the instructions executed inside that call (startup and imports excluded).

    python bench/instr_engine.py --base /tmp/base/src            # this checkout vs another
    python bench/instr_engine.py --base /tmp/base/src --only rt  # one workload

Needs valgrind. The other tree is any hitlgraph source folder (e.g. a `git worktree` of an
earlier commit). Prints instructions per operation and now/base ratios.
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

_SETUP = """
import functools, itertools, operator, os
from typing import Annotated
from typing_extensions import TypedDict
from hitlgraph.graph import StateGraph, START, END
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.types import Command, Send, interrupt

class S(TypedDict, total=False):
    n: int
    out: Annotated[list, operator.add]

def chain(n, saver=None):
    b = StateGraph(S)
    prev = START
    for i in range(n):
        b.add_node(f"n{i}", lambda s: {"n": s.get("n", 0) + 1})
        b.add_edge(prev, f"n{i}")
        prev = f"n{i}"
    b.add_edge(prev, END)
    return b.compile(checkpointer=saver)

ids = itertools.count()
def cfg():
    return {"configurable": {"thread_id": str(next(ids))}}
"""

WORKLOADS: dict[str, tuple[str, str, int]] = {
    # name: (setup, one operation, repetitions)
    "chain1": ("g = chain(1)", "g.invoke({'n': 0})", 300),
    "chain10": ("g = chain(10)", "g.invoke({'n': 0})", 300),
    "chain10_memory": ("g = chain(10, InMemorySaver())", "g.invoke({'n': 0}, cfg())", 300),
    "rt": ("""
def ask(s):
    return {"n": interrupt("q")}
b = StateGraph(S); b.add_node("ask", ask); b.add_edge(START, "ask")
g = b.compile(checkpointer=InMemorySaver())""",
           "c = cfg(); g.invoke({'n': 0}, c); g.invoke(Command(resume=1), c)", 300),
    "get_state": ("""
g = chain(20, InMemorySaver()); c = cfg(); g.invoke({'n': 0}, c)""", "g.get_state(c)", 300),
    "history": ("""
g = chain(20, InMemorySaver()); c = cfg(); g.invoke({'n': 0}, c)""",
                "sum(1 for _ in g.get_state_history(c))", 30),
    "fanout100": ("""
b = StateGraph(S)
b.add_node("w", lambda s: {"out": [s["i"]]})
b.add_conditional_edges(START, lambda s: [Send("w", {"i": i}) for i in range(100)], ["w"])
g = b.compile()""", "g.invoke({'out': []})", 30),
    "fanout100_memory": ("""
b = StateGraph(S)
b.add_node("w", lambda s: {"out": [s["i"]]})
b.add_conditional_edges(START, lambda s: [Send("w", {"i": i}) for i in range(100)], ["w"])
g = b.compile(checkpointer=InMemorySaver())""", "g.invoke({'out': []}, cfg())", 30),
}


def _script(name: str) -> str:
    setup, op, reps = WORKLOADS[name]
    return (f"{_SETUP}\n{setup}\ndef body(acc, _):\n    {op}\n"
            f"for _ in range(3): body(0, 0)\nfunctools.reduce(body, range({reps}), 0)\n")


def count(name: str, src: Path) -> int:
    """Instructions per operation of workload `name` with hitlgraph from `src`."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(_script(name))
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--collect-atstart=no",
         "--toggle-collect=*functools_reduce*", "--callgrind-out-file=/dev/null",
         sys.executable, f.name], env=env, capture_output=True, text=True)
    Path(f.name).unlink()
    out = done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"workload {name} failed under valgrind:\n{out[-3000:]}")
    found = re.search(r"Collected : (\d+)", out)
    if found is None:
        raise RuntimeError(f"callgrind printed no count for {name}:\n{out[-2000:]}")
    return int(found.group(1)) // WORKLOADS[name][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the other tree's src folder")
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    args = parser.parse_args()
    print(f"{'workload':16} {'base':>12} {'now':>12} {'now/base':>9}")
    for name in args.only or list(WORKLOADS):
        base, now = count(name, args.base), count(name, SRC)
        print(f"{name:16} {base:12,} {now:12,} {now / base:9.3f}", flush=True)


if __name__ == "__main__":
    main()
