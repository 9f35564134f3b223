"""The process the reliability tests kill, run as `python _child.py COMMAND ...`.

`drive DB THREADS`: run every thread of the ledger graph to its end from wherever it
stands (new, paused at a question, or cut off mid-step), answering each question; a kill at
any moment leaves a database that the next `drive` finishes. `contend DB WRITES`: run small
graphs on one SQLite file and print how many calls failed with "database is locked".
`serve DB LEASE_SECONDS`: a hitlgraph server on 127.0.0.1 (a free port, printed as its first
line) serving the `slow` and `review` graphs, sending `interrupt.created` notifications to
$WEBHOOK_URL when set. DB is a SQLite path or a postgresql://
conninfo; LEDGER (env) is the side-effect ledger's SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import operator
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from typing_extensions import TypedDict

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.config import get_config
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.graph.state import CompiledStateGraph
from hitlgraph.types import Command, Send, interrupt

QUESTIONS = 3
FAN_OUT = 3
STEPS = 44
"""With plan, the fan-out, the three questions and finish: a run of 50 supersteps."""


class State(TypedDict, total=False):
    items: Annotated[list[str], operator.add]
    answers: Annotated[list[str], operator.add]
    n: int
    done: bool


class Item(TypedDict):
    item: str


def _ledger() -> sqlite3.Connection:
    conn = sqlite3.connect(os.environ["LEDGER"], timeout=30, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY)")
    conn.execute("CREATE TABLE IF NOT EXISTS attempts (key TEXT NOT NULL)")
    return conn


def effect(name: str) -> None:
    """The graph's side effect: applied once per key (the node's idempotency key, from its
    thread and its place in the run), with every attempt counted apart."""
    key = f"{get_config()['configurable']['thread_id']}:{name}"
    conn = _ledger()
    try:
        conn.execute("INSERT INTO attempts (key) VALUES (?)", (key,))
        conn.execute("INSERT OR IGNORE INTO effects (key) VALUES (?)", (key,))
    finally:
        conn.close()


def _fan_out(state: State) -> list[Send]:
    return [Send("work", {"item": f"i{k}"}) for k in range(FAN_OUT)]


def _work(state: Item) -> State:
    effect(f"work-{state['item']}")
    return {"items": [state["item"]]}


def _step(state: State) -> State:
    n = state.get("n", 0) + 1
    effect(f"step-{n}")
    return {"n": n}


def _ask(k: int) -> Any:
    def ask(state: State) -> State:
        answer = interrupt(f"question {k}")
        effect(f"ask-{k}")
        return {"answers": [str(answer)]}
    return ask


def _finish(state: State) -> State:
    effect("finish")
    return {"done": True}


def builder() -> StateGraph:
    """plan -> fan-out of FAN_OUT works -> ask0 -> STEPS steps with ask1, ask2 among them ->
    finish."""
    graph = StateGraph(State)
    graph.add_node("plan", lambda state: {})
    graph.add_node("work", _work)
    graph.add_node("step", _step)
    for k in range(QUESTIONS):
        graph.add_node(f"ask{k}", _ask(k))
    graph.add_node("finish", _finish)
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", _fan_out, ["work"])
    graph.add_edge("work", "ask0")
    graph.add_edge("ask0", "step")

    def route(state: State) -> str:
        n = state["n"]
        if n == STEPS // 3 and len(state.get("answers", [])) == 1:
            return "ask1"
        if n == 2 * STEPS // 3 and len(state.get("answers", [])) == 2:
            return "ask2"
        return "step" if n < STEPS else "finish"

    graph.add_conditional_edges("step", route, ["ask1", "ask2", "step", "finish"])
    graph.add_edge("ask1", "step")
    graph.add_edge("ask2", "step")
    graph.add_edge("finish", END)
    return graph


def expected_effects(thread_id: str) -> set[str]:
    names = {f"work-i{k}" for k in range(FAN_OUT)} | {f"ask-{k}" for k in range(QUESTIONS)}
    names |= {f"step-{n}" for n in range(1, STEPS + 1)} | {"finish"}
    return {f"{thread_id}:{name}" for name in names}


@contextmanager
def open_saver(db: str) -> Iterator[BaseCheckpointSaver]:
    if db.startswith(("postgresql://", "postgres://")):
        from hitlgraph.checkpoint.postgres import PostgresSaver
        with PostgresSaver.from_conn_string(db) as saver:
            saver.setup()
            yield saver
    else:
        from hitlgraph.checkpoint.sqlite import SqliteSaver
        with SqliteSaver.from_conn_string(db) as saver:
            yield saver


def finish_thread(graph: CompiledStateGraph, thread_id: str) -> None:
    """Take one thread from wherever it stands to its end, answering each question."""
    config: dict[str, Any] = {"configurable": {"thread_id": thread_id}}
    for _ in range(100):  # bounded: the graph needs about 20 calls
        state = graph.get_state(config)
        if not state.values:
            graph.invoke({"items": []}, config)
        elif state.interrupts:
            question = state.interrupts[0].value
            graph.invoke(Command(resume=f"yes to {question}"), config)
        elif state.next:
            graph.invoke(None, config)
        else:
            return
    raise RuntimeError(f"thread {thread_id} did not finish")


def drive(db: str, threads: int) -> None:
    with open_saver(db) as saver:
        graph = builder().compile(checkpointer=saver)
        for t in range(threads):
            finish_thread(graph, f"t{t}")


class Slow(TypedDict, total=False):
    by: Annotated[list[int], operator.add]


def _slow(state: Slow) -> Slow:
    time.sleep(float(os.environ.get("SLOW_SECONDS", "3")))
    return {"by": [os.getpid()]}


slow_builder = StateGraph(Slow).add_node("slow", _slow)
slow_builder.add_edge(START, "slow").add_edge("slow", END)


def serve(db: str, lease_seconds: float) -> None:
    """Serve `slow` and `review` until killed; prints the URL once listening."""
    import uvicorn
    from _reliability_graph import review_builder

    from hitlgraph.server import ServerSettings, create_app

    # A write past a file size limit (RLIMIT_FSIZE, the disk-full test's) fails with EFBIG
    # instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    hook = os.environ.get("WEBHOOK_URL")
    webhooks = [{"url": hook, "secret": "reliability-secret", "name": "ledger",
                 "events": ["interrupt.created"]}] if hook else None
    settings = ServerSettings(graphs={"slow": slow_builder, "review": review_builder}, db=db,
                              read_env=False, webhooks=webhooks, notify_seconds=0.1,
                              lease_seconds=lease_seconds, poll_seconds=0.1, workers=1)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0,
                                           log_level="warning", loop="asyncio", ws="none"))

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        print(f"http://127.0.0.1:{port}", flush=True)

    async def main() -> None:
        await asyncio.gather(server.serve(), announce())

    asyncio.run(main())


def contend(db: str, writes: int) -> None:
    """`writes` checkpoint writes on one SQLite file from this process (graph runs of two
    steps, each storing its input, step and end checkpoints)."""
    from hitlgraph.checkpoint.sqlite import SqliteSaver

    locked = other = 0
    graph_builder = StateGraph(State).add_node("step", lambda state: {"n": 1})
    graph_builder.add_edge(START, "step").add_edge("step", END)
    with SqliteSaver.from_conn_string(db) as saver:
        graph = graph_builder.compile(checkpointer=saver)
        for i in range((writes + 2) // 3):
            try:
                graph.invoke({"n": 0}, {"configurable": {"thread_id": f"{os.getpid()}-{i % 7}"}})
            except Exception as exc:  # counted, not raised: the test reports the numbers
                if "locked" in str(exc):
                    locked += 1
                else:
                    other += 1
    print(json.dumps({"locked": locked, "other": other}))


if __name__ == "__main__":
    command, db, *rest = sys.argv[1:]
    if command == "drive":
        drive(db, int(rest[0]))
    elif command == "contend":
        contend(db, int(rest[0]))
    elif command == "serve":
        serve(db, float(rest[0]))
    else:
        raise SystemExit(f"unknown command {command!r}")
