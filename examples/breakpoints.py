"""Breakpoints: pause before or after chosen nodes without changing their code.

interrupt_before=["step2"] stops the run before step2 starts; interrupt_after=["step3"]
stops it right after step3 has finished and its update is saved. Invoking the graph with
None as input continues a paused thread from where it stopped.

    START -> step1 -> step2 -> step3 -> step4 -> END
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph


class State(TypedDict):
    # operator.add as the reducer: each node's list is appended to the log.
    log: Annotated[list[str], operator.add]


def step1(state: State) -> State:
    return {"log": ["step1 ran"]}


def step2(state: State) -> State:
    return {"log": ["step2 ran"]}


def step3(state: State) -> State:
    return {"log": ["step3 ran"]}


def step4(state: State) -> State:
    return {"log": ["step4 ran"]}


def build_graph() -> StateGraph[State]:
    builder = StateGraph(State)
    builder.add_sequence([step1, step2, step3, step4])
    builder.add_edge(START, "step1")
    builder.add_edge("step4", END)
    return builder


def main() -> None:
    graph = build_graph().compile(
        checkpointer=InMemorySaver(),
        interrupt_before=["step2"],
        interrupt_after=["step3"],
    )
    config = {"configurable": {"thread_id": "breakpoints-1"}}

    print("== invoke({'log': []})")
    result = graph.invoke({"log": []}, config)
    print("log:", result["log"])
    print("next:", graph.get_state(config).next)

    print("== invoke(None): continue past the breakpoint before step2")
    result = graph.invoke(None, config)
    print("log:", result["log"])
    print("next:", graph.get_state(config).next)

    print("== invoke(None): continue past the breakpoint after step3")
    result = graph.invoke(None, config)
    print("log:", result["log"])
    print("next:", graph.get_state(config).next)


if __name__ == "__main__":
    main()
