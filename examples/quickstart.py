"""Quickstart: a graph that stops to ask a person, and picks up where it stopped.

A node writes a draft; the next node calls interrupt() to ask a reviewer about it. The run
pauses there and everything needed to go on is saved in a SQLite file. Then we "restart":
a new saver and a newly compiled graph open the same file, find the paused thread, and
resume it with the reviewer's answer.

    python examples/quickstart.py               # database in a temporary directory
    python examples/quickstart.py --db notes.db # or a file of your choice
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import TypedDict

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command, interrupt


class State(TypedDict, total=False):
    topic: str
    draft: str
    approved: bool
    published: str


def write_draft(state: State) -> State:
    # A stand-in for real work (an LLM call, a template, a query, ...).
    return {"draft": f"Three tips for {state['topic']}: start small, measure, repeat."}


def review(state: State) -> State:
    # The first time through, interrupt() stops the run and hands this dict to the caller.
    # When the run is resumed with Command(resume=answer), the node runs again from its top
    # and interrupt() returns `answer` instead.
    answer = interrupt({"question": "Publish this draft? You may also edit it.",
                        "draft": state["draft"]})
    return {"approved": answer["approved"], "draft": answer.get("text", state["draft"])}


def publish(state: State) -> State:
    if not state["approved"]:
        return {"published": ""}
    return {"published": state["draft"].upper()}


def build_graph() -> StateGraph[State]:
    builder = StateGraph(State)
    builder.add_node("write_draft", write_draft)
    builder.add_node("review", review)
    builder.add_node("publish", publish)
    builder.add_edge(START, "write_draft")
    builder.add_edge("write_draft", "review")
    builder.add_edge("review", "publish")
    builder.add_edge("publish", END)
    return builder


def run(db_path: str) -> None:
    config = {"configurable": {"thread_id": "post-1"}}

    print(f"== run 1: start the thread and stop at the review ({os.path.basename(db_path)})")
    with SqliteSaver.from_conn_string(db_path) as saver:
        graph = build_graph().compile(checkpointer=saver)
        result = graph.invoke({"topic": "code review"}, config)
        for pending in result["__interrupt__"]:
            print("paused with", pending)
            print("question:", pending.value["question"])
            print("draft:", pending.value["draft"])
        print("next:", graph.get_state(config).next)
    print("saver closed: the paused run now lives only in the file")

    print("== restart: a new saver and a newly compiled graph open the same file")
    with SqliteSaver.from_conn_string(db_path) as saver:
        graph = build_graph().compile(checkpointer=saver)
        snapshot = graph.get_state(config)
        print("still waiting at:", snapshot.next)
        print("open interrupts:", len(snapshot.interrupts))
        answer = {"approved": True, "text": "Three tips for code review: be kind, be quick."}
        print("resuming with", answer)
        final = graph.invoke(Command(resume=answer), config)
        print("final state:", final)
        print("published:", final["published"])
        print("next:", graph.get_state(config).next)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite file to keep checkpoints in (default: a temp file)")
    args = parser.parse_args(argv)
    if args.db:
        run(args.db)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(os.path.join(tmp, "quickstart.db"))


if __name__ == "__main__":
    main()
