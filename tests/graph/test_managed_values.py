"""Managed values (RemainingSteps, IsLastStep): computed for each task from the recursion
limit, read by nodes and conditional edges, never stored, shown or written."""

from __future__ import annotations

import textwrap
from typing import Any

from pydantic import BaseModel
from typing_extensions import NotRequired, TypedDict

from _side_by_side import on_both, require_langgraph
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.managed import IsLastStep, RemainingSteps
from hitlgraph.types import Command, interrupt


class State(TypedDict):
    n: int
    remaining: RemainingSteps
    last: NotRequired[IsLastStep]


def _counting_graph(seen: list[tuple[str, Any]]) -> Any:
    def step(state: State) -> dict[str, Any]:
        seen.append(("node", dict(state)))
        return {"n": state["n"] + 1, "remaining": 99}

    def route(state: State) -> str:
        seen.append(("edge", dict(state)))
        return END if state["last"] or state["n"] >= 6 else "step"

    builder = StateGraph(State)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", route)
    return builder.compile(checkpointer=InMemorySaver())


def test_nodes_and_edges_read_the_steps_left(run: Any, config: dict[str, Any]) -> None:
    seen: list[tuple[str, Any]] = []
    out = run.invoke(_counting_graph(seen), {"n": 0}, {**config, "recursion_limit": 4})
    assert out == {"n": 3}
    assert seen == [
        ("node", {"n": 0, "remaining": 3, "last": False}),
        ("edge", {"n": 1, "remaining": 3, "last": False}),
        ("node", {"n": 1, "remaining": 2, "last": False}),
        ("edge", {"n": 2, "remaining": 2, "last": False}),
        ("node", {"n": 2, "remaining": 1, "last": True}),
        ("edge", {"n": 3, "remaining": 1, "last": True}),
    ]


def test_managed_values_are_not_stored_shown_or_written(run: Any, config: dict[str, Any]
                                                         ) -> None:
    graph = _counting_graph([])
    updates = run.stream(graph, {"n": 3, "remaining": 5}, config, stream_mode="updates")
    assert updates == [{"step": {"n": 4}}, {"step": {"n": 5}}, {"step": {"n": 6}}]
    snapshot = graph.get_state(config)
    assert snapshot.values == {"n": 6}
    stored = graph.checkpointer.get_tuple(config)
    assert not {"remaining", "last"} & set(stored.checkpoint["channel_values"])


def test_a_pydantic_state_gets_the_steps_left() -> None:
    class Model(BaseModel):
        n: int = 0
        remaining: RemainingSteps = 25

    seen: list[int] = []

    def node(state: Model) -> dict[str, int]:
        seen.append(state.remaining)
        return {"n": state.n + 1}

    builder = StateGraph(Model)
    builder.add_node("a", node)
    builder.add_node("b", node)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    assert builder.compile().invoke({"n": 1}, {"recursion_limit": 7}) == {"n": 3}
    assert seen == [6, 5]


def test_a_resumed_run_counts_from_its_own_start(config: dict[str, Any]) -> None:
    class Asked(TypedDict):
        n: int
        remaining: RemainingSteps

    seen: list[tuple[str, int, int]] = []

    def ask(state: Asked) -> dict[str, int]:
        seen.append(("ask", state["n"], state["remaining"]))
        return {"n": state["n"] + interrupt("how many?")}

    def after(state: Asked) -> dict[str, int]:
        seen.append(("after", state["n"], state["remaining"]))
        return {}

    builder = StateGraph(Asked)
    builder.add_node("ask", ask)
    builder.add_node("after", after)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "after")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {**config, "recursion_limit": 9}
    graph.invoke({"n": 1}, config)
    assert graph.invoke(Command(resume=5, update={"n": 10}), config) == {"n": 15}
    assert seen == [("ask", 1, 8), ("ask", 10, 10), ("after", 15, 9)]


_SCRIPT = """
from typing import Annotated
from typing_extensions import TypedDict, NotRequired
from pydantic import BaseModel
from langgraph.graph import StateGraph, START, END
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.managed import RemainingSteps, IsLastStep
from langgraph.types import interrupt, Command, Send

class S(TypedDict):
    n: int
    remaining: RemainingSteps
    last: IsLastStep
    later: NotRequired[RemainingSteps]

def step(s):
    print("step", s)
    return {"n": s["n"] + 1, "remaining": 99}

def route(s):
    print("route", s)
    return END if s["last"] or s["n"] >= 6 else "step"

g = StateGraph(S)
g.add_node("step", step)
g.add_edge(START, "step")
g.add_conditional_edges("step", route)
app = g.compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "1"}, "recursion_limit": 4}
print(app.invoke({"n": 0}, cfg))
snap = app.get_state(cfg)
print(snap.values, snap.next)
print(app.invoke({"n": 0, "remaining": 1}, {**cfg, "recursion_limit": 10}))
print(list(app.stream({"n": 3}, {**cfg, "recursion_limit": 10}, stream_mode="updates")))

class P(BaseModel):
    n: int = 0
    remaining: RemainingSteps = 25
def pstep(s):
    print("pstep", s)
    return {"n": s.n + 1}
g = StateGraph(P)
g.add_node("a", pstep); g.add_node("b", pstep)
g.add_edge(START, "a"); g.add_edge("a", "b")
print(g.compile().invoke({"n": 1}, {"recursion_limit": 7}))

class R(TypedDict):
    n: int
    remaining: RemainingSteps
def ask(s):
    print("ask", s)
    return {"n": s["n"] + interrupt("q")}
g = StateGraph(R)
g.add_node("pre", lambda s: print("pre", s) or {"n": 1})
g.add_node("ask", ask); g.add_node("after", lambda s: print("after", s) or {})
g.add_edge(START, "pre"); g.add_edge("pre", "ask"); g.add_edge("ask", "after")
app = g.compile(checkpointer=InMemorySaver())
for tid, cmd in (("r", Command(resume=5)), ("r2", Command(resume=5, update={"n": 10}))):
    cfg = {"configurable": {"thread_id": tid}, "recursion_limit": 9}
    app.invoke({"n": 0}, cfg)
    print(app.invoke(cmd, cfg))

g = StateGraph(R)
g.add_node("w", lambda s: print("w", s) or {})
g.add_conditional_edges(START, lambda s: [Send("w", {"n": 7})])
g.compile().invoke({"n": 1})
"""


def test_managed_values_side_by_side() -> None:
    require_langgraph("langgraph.managed")
    theirs, ours = on_both(textwrap.dedent(_SCRIPT))
    assert ours == theirs



def test_writes_to_managed_values_are_dropped_in_every_form(run: Any) -> None:
    class Model(BaseModel):
        n: int = 0
        remaining: RemainingSteps = 25

    def as_model(state: Model) -> Model:
        return Model(n=state.n + 1, remaining=0)

    def as_command(state: Model) -> Command[Any]:
        return Command(update={"n": state.n + 1, "remaining": 0})

    def as_pairs(state: Model) -> Command[Any]:
        return Command(update=[("n", state.n + 1), ("remaining", 0)])

    builder = StateGraph(Model)
    builder.add_node("a", as_model)
    builder.add_node("b", as_command)
    builder.add_node("c", as_pairs)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    updates = run.stream(builder.compile(), {"n": 0}, stream_mode="updates")
    assert updates[0] == {"a": {"n": 1}}
    assert run.invoke(builder.compile(), {"n": 0}) == {"n": 3}
