"""Graphs the durability tests run in child processes (importable by path)."""

from __future__ import annotations

import operator
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt


class Review(TypedDict):
    draft: str
    verdict: str
    log: Annotated[list[str], operator.add]


def write(state: Review) -> dict[str, Any]:
    return {"draft": state["draft"].upper(), "log": ["write"]}


def review(state: Review) -> dict[str, Any]:
    verdict = interrupt({"draft": state["draft"]})
    return {"verdict": verdict, "log": [f"review:{verdict}"]}


def publish(state: Review) -> dict[str, Any]:
    return {"log": [f"publish:{state['verdict']}"]}


def review_graph() -> StateGraph[Review]:
    builder: StateGraph[Review] = StateGraph(Review)
    builder.add_sequence([write, review, publish])
    builder.add_edge(START, "write")
    return builder


class Steps(TypedDict):
    n: int
    done: Annotated[list[int], operator.add]


def slow_steps(marker_dir: str, steps: int) -> StateGraph[Steps]:
    """A loop of `steps` steps; each step records its number and touches a marker file (so a
    test can kill the process at a known step), then sleeps a little."""

    def step(state: Steps) -> dict[str, Any]:
        n = state["n"] + 1
        Path(marker_dir, f"step-{n}").write_text(str(os.getpid()))
        time.sleep(0.05)
        return {"n": n, "done": [n]}

    def route(state: Steps) -> str:
        return "step" if state["n"] < steps else "__end__"

    builder: StateGraph[Steps] = StateGraph(Steps)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", route)
    return builder


def open_saver(db: str) -> Any:
    """A saver on `db`: a PostgreSQL URL, or a SQLite file path."""
    if db.startswith("postgresql://"):
        from hitlgraph.checkpoint.postgres import PostgresSaver

        return PostgresSaver.from_conn_string(db)
    from hitlgraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver.from_conn_string(db)


def main() -> None:
    """Child-process entry: python _graphs.py ACTION DB THREAD [ARGS...]."""
    action, db, thread = sys.argv[1:4]
    config: dict[str, Any] = {"configurable": {"thread_id": thread}, "recursion_limit": 1000}
    with open_saver(db) as saver:
        if action == "pause":
            graph = review_graph().compile(checkpointer=saver)
            out = graph.invoke({"draft": "hello", "log": []}, config)
            print(repr([i.value for i in out["__interrupt__"]]))
        elif action == "resume":
            graph = review_graph().compile(checkpointer=saver)
            barrier = sys.argv[4] if len(sys.argv) > 4 else None
            if barrier:  # wait until the test says go, so two resumes race
                while not Path(barrier).exists():
                    time.sleep(0.001)
            try:
                out = graph.invoke(Command(resume=sys.argv[5] if len(sys.argv) > 5 else "ok"),
                                   config)
            except Exception as exc:
                print(f"ERROR {type(exc).__name__}: {exc}")
                return
            print(f"OK {out['log']!r}")
        elif action == "steps":
            graph = slow_steps(sys.argv[4], int(sys.argv[5])).compile(checkpointer=saver)
            out = graph.invoke({"n": 0, "done": []}, config, durability="sync")
            print(repr(out["done"]))
        elif action == "continue":
            graph = slow_steps(sys.argv[4], int(sys.argv[5])).compile(checkpointer=saver)
            out = graph.invoke(None, config)
            print(repr(out["done"]))


if __name__ == "__main__":
    main()
