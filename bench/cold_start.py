"""Cold start (issue 16): how long a fresh process takes to import hitlgraph, to print
`hitlgraph --help`, and to show `hitlgraph run`'s first interrupt prompt, beside `python -c pass`
and LangGraph's same import, all in one run.

    python bench/cold_start.py                 # wall and CPU, best of 7 fresh processes
    python bench/cold_start.py --instr         # also instructions (valgrind's callgrind)
    python bench/cold_start.py --src /tmp/base/src   # another source tree (PYTHONPATH)

Wall time moves with the machine's load (printed first); CPU time (user + system of the child)
moves less, and instruction counts hardly at all, so compare trees with --instr. The bytecode
cache goes to a private folder (PYTHONPYCACHEPREFIX), written by a warm-up run, so no case pays
for compiling a module a concurrent edit made stale. The prompt is timed on a pseudo-terminal,
from the fork to "answer>" on screen; with --instr the process stops where it would read the
answer.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

_GRAPH = """
from typing import TypedDict
from hitlgraph.graph import StateGraph
from hitlgraph.types import interrupt

class S(TypedDict, total=False):
    answer: str

def ask(state: S) -> S:
    return {"answer": interrupt("Your name?")}

builder = StateGraph(S)
builder.add_node("ask", ask)
builder.set_entry_point("ask")
graph = builder.compile()
"""

IMPORTS = {
    "listed": "import hitlgraph.graph, hitlgraph.types, hitlgraph.checkpoint.sqlite",
    "names": "from hitlgraph.graph import StateGraph; from hitlgraph.types import interrupt, "
             "Command; from hitlgraph.checkpoint.sqlite import SqliteSaver",
    "langgraph": "import langgraph.graph, langgraph.types, langgraph.checkpoint.sqlite",
}
"""The issue's import, the names a program uses (StateGraph loads the engine), LangGraph's."""

_STOP_AT_PROMPT = """
import os, sys
from hitlgraph.cli import _prompt, main
def _read(self, prompt):
    sys.stdout.flush()
    os._exit(0)
_prompt.Prompter.read = _read
main(["run", {spec!r}, "--db", {db!r}, "--input", "{{}}"])
"""


def _env(src: str | None, cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    if src:
        env["PYTHONPATH"] = src
    return env


def _best(argv: list[str], env: dict[str, str], rounds: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of `argv` over `rounds` fresh processes."""
    walls, cpus = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(child.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
    return min(walls), min(cpus)


def _prompt_once(argv: list[str], env: dict[str, str], db: Path) -> float:
    """Seconds from the fork to "answer>" on the pseudo-terminal."""
    for leftover in db.parent.glob(db.name + "*"):
        leftover.unlink()
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command line
        os.execve(argv[0], argv, env)
    seen = b""
    try:
        while b"answer>" not in seen:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                raise RuntimeError(f"no prompt within 30 s; the screen showed {seen!r}")
            seen += os.read(fd, 4096)
        return time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def _instructions(code: str, env: dict[str, str]) -> int:
    """Instructions a fresh `python -c code` executes, start to exit (callgrind)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        sys.executable, "-c", code], env=env, check=True, capture_output=True)
        found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
        assert found is not None, "callgrind wrote no total"
        return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="hitlgraph source folder to measure (default: installed)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--instr", action="store_true", help="also count instructions")
    parser.add_argument("--no-langgraph", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hitlgraph-cold-"))
    (work / "asks.py").write_text(_GRAPH, encoding="utf-8")
    env = _env(args.src, str(work / "pycache"))
    db = work / "db.sqlite"
    py = sys.executable
    cli = [py, "-m", "hitlgraph.cli"]
    cases = {"pass": [py, "-c", "pass"]}
    cases.update({name: [py, "-c", code] for name, code in IMPORTS.items()
                  if not (name == "langgraph" and args.no_langgraph)})
    cases["--help"] = [*cli, "--help"]
    run = [*cli, "run", f"{work / 'asks.py'}:graph", "--db", str(db), "--input", "{}"]
    for argv in cases.values():
        subprocess.run(argv, env=env, capture_output=True, check=False)  # writes the cache
    print(f"load average {os.getloadavg()[0]:.2f}; best of {args.rounds}; python {py}")
    for name, argv in cases.items():
        wall, cpu = _best(argv, env, args.rounds)
        print(f"{name:10s} wall {wall * 1000:7.1f} ms   cpu {cpu * 1000:7.1f} ms")
    prompt = min(_prompt_once(run, env, db) for _ in range(args.rounds))
    print(f"{'prompt':10s} wall {prompt * 1000:7.1f} ms   (fork to 'answer>' on a terminal)")
    if args.instr:
        stop = textwrap.dedent(_STOP_AT_PROMPT).format(spec=f"{work / 'asks.py'}:graph",
                                                       db=str(db))
        codes = {"pass": "pass", **{k: v for k, v in IMPORTS.items() if k != "langgraph"},
                 "prompt": stop}
        for name, code in codes.items():
            for leftover in work.glob("db.sqlite*"):
                leftover.unlink()
            print(f"{name:10s} {_instructions(code, env) / 1e6:8.1f} M instructions",
                  flush=True)


if __name__ == "__main__":
    main()
