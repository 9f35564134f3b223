"""Streaming with asyncio: watch a run live, see it pause, answer, and stream the rest.

With stream_mode=["updates", "values"], astream() yields (mode, chunk) pairs:
"updates" chunks are {node_name: what_the_node_returned}, "values" chunks are the whole
state. When a node calls interrupt(), an "updates" chunk {"__interrupt__": (Interrupt, ...)}
arrives and the stream ends. A second astream() with Command(resume=...) as input carries on.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command, Interrupt, interrupt


class Trip(TypedDict, total=False):
    destination: str
    options: list[str]
    choice: str
    booking: str


async def search(state: Trip) -> Trip:
    await asyncio.sleep(0.01)  # pretend to call a travel API
    return {"options": [f"{state['destination']} by train", f"{state['destination']} by plane"]}


async def choose(state: Trip) -> Trip:
    picked = interrupt({"question": "Which option?", "options": state["options"]})
    return {"choice": state["options"][picked]}


async def book(state: Trip) -> Trip:
    await asyncio.sleep(0.01)
    return {"booking": f"booked: {state['choice']}"}


def build_graph() -> StateGraph[Trip]:
    builder = StateGraph(Trip)
    builder.add_node("search", search)
    builder.add_node("choose", choose)
    builder.add_node("book", book)
    builder.add_edge(START, "search")
    builder.add_edge("search", "choose")
    builder.add_edge("choose", "book")
    builder.add_edge("book", END)
    return builder


async def stream_once(graph: Any, given: Any, config: dict[str, Any]) -> Interrupt | None:
    """Stream one run, print its chunks, and return the interrupt it stopped at (if any)."""
    paused: Interrupt | None = None
    async for mode, chunk in graph.astream(given, config, stream_mode=["updates", "values"]):
        if mode == "updates" and "__interrupt__" in chunk:
            paused = chunk["__interrupt__"][0]
            print("updates: paused ->", paused.value)
        elif mode == "updates":
            print("updates:", chunk)
        else:
            print("values: ", {k: v for k, v in chunk.items() if k != "__interrupt__"})
    return paused


async def run() -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "trip-1"}}

    print("== first stream")
    paused = await stream_once(graph, {"destination": "Porto"}, config)
    assert paused is not None
    snapshot = await graph.aget_state(config)
    print("next:", snapshot.next)

    answer = 0
    print(f"== second stream, resuming with {answer!r} ({paused.value['options'][answer]})")
    await stream_once(graph, Command(resume=answer), config)
    snapshot = await graph.aget_state(config)
    print("final booking:", snapshot.values["booking"])
    print("next:", snapshot.next)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
