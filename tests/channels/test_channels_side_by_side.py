"""Channel objects in state schemas, side by side with LangGraph: each script is written
against `langgraph.*`, run as it is and with the import prefix replaced by `hitlgraph`, and
must print the same (the runner of tests/_side_by_side.py)."""

from __future__ import annotations

import textwrap

import pytest

from _side_by_side import on_both, require_langgraph

_HEADER = """
import asyncio
import operator
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict
from langgraph.graph import START, END, StateGraph
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.channels import (AnyValue, BinaryOperatorAggregate, EphemeralValue, LastValue,
                                LastValueAfterFinish, NamedBarrierValue,
                                NamedBarrierValueAfterFinish, Topic, UntrackedValue)
from langgraph.channels.base import BaseChannel
from langgraph.errors import InvalidUpdateError
from langgraph.types import Command, Send, interrupt

class S(TypedDict, total=False):
    x: int
    e: Annotated[str, EphemeralValue(str)]
    t: Annotated[list[str], Topic(str)]
    acc: Annotated[list[str], Topic(str, accumulate=True)]
    u: Annotated[str, UntrackedValue(str)]
    tot: Annotated[int, BinaryOperatorAggregate(int, operator.add)]
    last: Annotated[int, LastValue(int)]

def show(label, state):
    print(label, sorted(state.items()))

def history(app, cfg):
    for h in app.get_state_history(cfg):
        print("history", h.metadata["step"], h.metadata["source"], h.values, h.next)

CFG = {"configurable": {"thread_id": "t"}}
"""

SCRIPTS = {
    "each channel across steps": """
        def a(s): show("a", s); return {"e": "hi", "t": "ta", "acc": ["1", "2"], "u": "sec",
                                         "tot": 2, "last": 1}
        def b(s): show("b", s); return {"x": 1, "acc": "3", "tot": 3}
        def c(s): show("c", s); return None
        g = StateGraph(S)
        g.add_sequence([a, b, c])
        g.add_edge(START, "a")
        app = g.compile(checkpointer=InMemorySaver())
        for mode, chunk in app.stream({"x": 0}, CFG, stream_mode=["values", "updates"]):
            print(mode, chunk)
        print(app.get_state(CFG).values)
        history(app, CFG)
        print(app.invoke({"x": 5}, {"configurable": {"thread_id": "other"}}))
    """,
    "conditional edges see the step's own writes": """
        def a(s): return {"e": "hi", "t": ["1"], "u": "sec"}
        def b(s): show("b", s); return {"x": 1, "t": "2"}
        def route(s): show("route", s); return END
        g = StateGraph(S)
        g.add_sequence([a, b])
        g.add_edge(START, "a")
        g.add_conditional_edges("b", route)
        print(g.compile().invoke({"x": 0}))
    """,
    "interrupt and resume": """
        def a(s): return {"e": "hi", "acc": ["a"], "u": "sec"}
        def b(s):
            answer = interrupt({"e": s.get("e"), "u": s.get("u")})
            return {"x": answer, "acc": "b"}
        g = StateGraph(S)
        g.add_sequence([a, b])
        g.add_edge(START, "a")
        app = g.compile(checkpointer=InMemorySaver())
        out = app.invoke({"x": 0}, CFG)
        print(sorted(k for k in out if k != "__interrupt__"), out["__interrupt__"][0].value)
        print(app.get_state(CFG).values)
        print(app.invoke(Command(resume=7), CFG))
        print(app.get_state(CFG).values)
        history(app, CFG)
    """,
    "async run, update_state and a fork": """
        def a(s): return {"e": "hi", "acc": ["a"], "t": "t"}
        def b(s): show("b", s); return {"x": 1}
        g = StateGraph(S)
        g.add_sequence([a, b])
        g.add_edge(START, "a")
        app = g.compile(checkpointer=InMemorySaver(), interrupt_before=["b"])
        print(asyncio.run(app.ainvoke({"x": 0}, CFG)))
        app.update_state(CFG, {"x": 3}, as_node="a")
        print(app.get_state(CFG).values, app.get_state(CFG).next)
        app.update_state(CFG, {"e": "again", "acc": ["c"]}, as_node="a")
        print(app.get_state(CFG).values)
        print(asyncio.run(app.ainvoke(None, CFG)))
        history(app, CFG)
        first = [h for h in app.get_state_history(CFG) if h.metadata["step"] == 1][0]
        print(app.invoke(None, first.config))
    """,
    "two writes in a step": """
        class T(TypedDict, total=False):
            e: Annotated[str, EphemeralValue(str)]
            loose: Annotated[str, EphemeralValue(str, guard=False)]
            same: Annotated[int, AnyValue(int)]
            t: Annotated[list[str], Topic(str)]
        def fan(writes):
            g = StateGraph(T)
            g.add_node("p", lambda s: writes[0]); g.add_node("q", lambda s: writes[1])
            g.add_node("r", lambda s: show("r", s))
            g.add_edge(START, "p"); g.add_edge(START, "q")
            g.add_edge("p", "r"); g.add_edge("q", "r")
            return g.compile()
        print(fan([{"same": 1, "t": "p", "loose": "p"}, {"same": 1, "t": ["q1", "q2"],
                                                           "loose": "q"}]).invoke({}))
        try:
            fan([{"e": "1"}, {"e": "2"}]).invoke({})
        except InvalidUpdateError as err:
            print("InvalidUpdateError", "'e'" in str(err))
    """,
    "a user's channel and a barrier": """
        class Count(BaseChannel[int, int, int]):
            def __init__(self, typ: Any = int) -> None:
                super().__init__(typ)
                self.n = 0
            @property
            def ValueType(self) -> Any: return int
            @property
            def UpdateType(self) -> Any: return int
            def from_checkpoint(self, checkpoint: Any) -> "Count":
                new = Count(self.typ); new.key = self.key
                new.n = checkpoint if isinstance(checkpoint, int) else 0
                return new
            def get(self) -> int: return self.n
            def update(self, values: Sequence[int]) -> bool:
                self.n += sum(values); return bool(values)

        class U(TypedDict, total=False):
            c: Annotated[int, Count()]
            names: Annotated[None, NamedBarrierValue(str, {"p", "q"})]
            e: Annotated[str, EphemeralValue]
        g = StateGraph(U)
        g.add_node("p", lambda s: {"c": 1, "names": "p", "e": "p"})
        g.add_node("q", lambda s: {"c": 2, "names": "q"})
        g.add_node("r", lambda s: show("r", s) or {"c": 10})
        g.add_edge(START, "p"); g.add_edge(START, "q")
        g.add_edge("p", "r"); g.add_edge("q", "r")
        app = g.compile(checkpointer=InMemorySaver())
        print(list(app.stream({}, CFG, stream_mode=["values", "updates"])))
        print(app.get_state(CFG).values)
        print(app.invoke({"c": 100}, CFG))
    """,
    "a parallel step paused at an interrupt, then a Send": """
        class P(TypedDict, total=False):
            x: int
            e: Annotated[str, EphemeralValue(str)]
            old: Annotated[str, EphemeralValue(str)]
            t: Annotated[list[str], Topic(str)]
            u: Annotated[str, UntrackedValue(str)]
        def a(s): return {"old": "from a", "u": "sec"}
        def p(s): return {"e": "from p", "t": "p", "u": "p-sec"}
        def q(s): return {"x": interrupt("q?"), "t": "q"}
        def r(s): show("r", s); return {}
        def w(s): show("w", s); return {"t": "w"}
        g = StateGraph(P)
        for f in (a, p, q, r, w):
            g.add_node(f.__name__, f)
        g.add_edge(START, "a"); g.add_edge("a", "p"); g.add_edge("a", "q")
        g.add_edge(["p", "q"], "r")
        g.add_conditional_edges("r", lambda s: [Send("w", {"x": 1, "u": "in-send"})])
        app = g.compile(checkpointer=InMemorySaver())
        out = app.invoke({"x": 0}, CFG)
        print(sorted(out), out["__interrupt__"][0].value)
        state = app.get_state(CFG)
        print(state.values, state.next)
        for mode, chunk in app.stream(Command(resume=4), CFG, stream_mode=["values", "updates"]):
            print(mode, chunk)
        print(app.get_state(CFG).values)
    """,
    "channels shown once the run finishes": """
        class F(TypedDict, total=False):
            x: int
            late: Annotated[str, LastValueAfterFinish(str)]
            both: Annotated[None, NamedBarrierValueAfterFinish(str, {"a", "b"})]
        def a(s): show("a", s); return {"late": "from a", "both": "a"}
        def b(s): show("b", s); return {"x": 1, "both": "b"}
        def c(s): show("c", s); return {"x": 2}
        def route(s): show("route", s); return END
        g = StateGraph(F)
        g.add_sequence([a, b, c])
        g.add_edge(START, "a")
        g.add_conditional_edges("c", route)
        app = g.compile(checkpointer=InMemorySaver())
        for mode, chunk in app.stream({"x": 0}, CFG, stream_mode=["values", "updates"]):
            print(mode, chunk)
        print(app.get_state(CFG).values)
        history(app, CFG)
        print(app.invoke({"x": 5}, CFG))
    """,
    "a subgraph with channels of its own": """
        class Inner(TypedDict, total=False):
            x: int
            e: Annotated[str, EphemeralValue(str)]
            acc: Annotated[list[str], Topic(str, accumulate=True)]
        def i1(s): return {"e": "inner", "acc": ["i1"]}
        def i2(s):
            show("i2", s)
            return {"x": interrupt("ok?"), "acc": "i2"}
        sub = StateGraph(Inner)
        sub.add_sequence([i1, i2])
        sub.add_edge(START, "i1")
        def outer(s): show("outer", s); return {"acc": ["o"]}
        g = StateGraph(S)
        g.add_node("sub", sub.compile())
        g.add_node("outer", outer)
        g.add_edge(START, "sub"); g.add_edge("sub", "outer")
        app = g.compile(checkpointer=InMemorySaver())
        out = app.invoke({"x": 1, "acc": ["start"]}, CFG)
        print(out["__interrupt__"][0].value)
        state = app.get_state(CFG, subgraphs=True)
        print(state.values, state.tasks[0].state.values)
        print(app.invoke(Command(resume=5), CFG))
        print(app.get_state(CFG).values)
    """,
}


@pytest.fixture(scope="module", autouse=True)
def _langgraph_installed() -> None:
    require_langgraph("langgraph.channels")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_channels_behave_as_in_langgraph(name: str) -> None:
    source = _HEADER + textwrap.dedent(SCRIPTS[name])
    theirs, ours = on_both(source)
    assert ours == theirs
