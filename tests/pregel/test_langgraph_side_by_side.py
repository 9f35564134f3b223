"""The same programs run on LangGraph and on hitlgraph, side by side: each script below is
written against `langgraph.*` and run as it is, then with the import prefix replaced by
`hitlgraph`; their printed output, with ids and timestamps masked, must be equal.

LangGraph comes with the `compat` extra (a test-only dependency); without it these tests skip,
and fail under CI=true."""

from __future__ import annotations

import textwrap

import pytest

from _side_by_side import on_both, require_langgraph

_HEADER = """
from typing import Annotated, TypedDict
import operator
from langgraph.graph import START, StateGraph
from langgraph.checkpoint.memory import InMemorySaver

class State(TypedDict, total=False):
    x: int
    log: Annotated[list[str], operator.add]

def chain():
    b = StateGraph(State)
    b.add_node("a", lambda s: {"log": ["a"]})
    b.add_node("b", lambda s: {"log": ["b"]})
    b.add_edge(START, "a")
    b.add_edge("a", "b")
    return b.compile(checkpointer=InMemorySaver())

CONFIG = {"configurable": {"thread_id": "t", "user_id": "u", "run_id": "r"},
          "metadata": {"team": "support"}, "tags": ["mine"]}
"""

SCRIPTS = {
    "checkpoints chunks": """
        for chunk in chain().stream({"x": 1}, CONFIG, stream_mode="checkpoints"):
            print(sorted(chunk["metadata"].items()), sorted(chunk["config"]["configurable"]),
                  chunk["parent_config"] and sorted(chunk["parent_config"]["configurable"]))
    """,
    "tasks chunks": """
        for chunk in chain().stream({"x": 1}, CONFIG, stream_mode="tasks"):
            print(sorted(chunk), chunk.get("metadata"))
    """,
    "debug chunks": """
        for chunk in chain().stream({"x": 1}, CONFIG, stream_mode="debug"):
            print(chunk["type"], chunk["step"], sorted(chunk["payload"]),
                  chunk["payload"].get("metadata"))
    """,
    "edit while paused, then resume with a dict answer": """
        from langgraph.types import Command, interrupt

        def review(state):
            answer = interrupt("approve?")
            return {"log": [f"approved={answer['approved']}"]}

        b = StateGraph(State)
        b.add_node("a", lambda s: {"log": ["a"]})
        b.add_node("review", review)
        b.add_edge(START, "a")
        b.add_edge("a", "review")
        graph = b.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "e"}}
        graph.invoke({"x": 1}, config)
        graph.update_state(config, {"x": 2})
        print(graph.get_state(config).next, graph.get_state(config).interrupts)
        print(graph.invoke(Command(resume={"approved": True}), config))
    """,
    "a subgraph two levels down records both enclosing checkpoints as its parents": """
        from langgraph.types import interrupt

        def leaf(state):
            return {"x": state["x"] + interrupt("how much?")}

        inner = StateGraph(State)
        inner.add_node("leaf", leaf)
        inner.add_edge(START, "leaf")
        middle = StateGraph(State)
        middle.add_node("inner", inner.compile())
        middle.add_edge(START, "inner")
        top = StateGraph(State)
        top.add_node("middle", middle.compile())
        top.add_edge(START, "middle")
        graph = top.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "n"}}
        for ns, chunk in graph.stream({"x": 1}, config, stream_mode="checkpoints",
                                      subgraphs=True):
            meta = chunk["metadata"]
            print(len(ns), meta["source"], meta["step"],
                  sorted(key.count("|") + 1 if key else 0 for key in meta["parents"]))
    """,
    "Agent Inbox's request and answer types from the prebuilt interrupt module": """
        import warnings
        warnings.simplefilter("ignore")
        from langgraph.prebuilt.interrupt import (
            ActionRequest, HumanInterrupt, HumanInterruptConfig, HumanResponse)
        from langgraph.types import Command, interrupt

        def review(state):
            request = HumanInterrupt(
                action_request=ActionRequest(action="send", args={"to": "ana"}),
                config=HumanInterruptConfig(allow_ignore=True, allow_respond=True,
                                            allow_edit=True, allow_accept=True),
                description="Send it?")
            response = interrupt([request])[0]
            return {"log": [f"{response['type']}:{response['args']}"]}

        b = StateGraph(State)
        b.add_node("review", review)
        b.add_edge(START, "review")
        graph = b.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "inbox"}}
        print(graph.invoke({"x": 1}, config)["__interrupt__"][0].value)
        answer = [HumanResponse(type="edit", args=ActionRequest(action="send",
                                                                args={"to": "bo"}))]
        print(graph.invoke(Command(resume=answer), config)["log"])
    """,
    "Command(resume=..., update=...): the resumed node sees the update": """
        from langgraph.types import Command, interrupt

        def ask(state):
            interrupt("go?")
            return {"log": [f"x={state.get('x')}"]}

        b = StateGraph(State)
        b.add_node("ask", ask)
        b.add_edge(START, "ask")
        graph = b.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "u"}}
        graph.invoke({"x": 1}, config)
        print(graph.invoke(Command(resume="yes", update={"x": 5}), config))
    """,
    "Command(resume=..., goto=...): the goto target runs in the resumed step": """
        from langgraph.types import Command, interrupt

        def ask(state):
            interrupt("go?")
            return {"log": ["ask"]}

        b = StateGraph(State)
        b.add_node("ask", ask, destinations=("side", "next"))
        b.add_node("next", lambda s: {"log": ["next"]})
        b.add_node("side", lambda s: {"log": ["side"]})
        b.add_node("after", lambda s: {"log": ["after"]})
        b.add_edge(START, "ask")
        b.add_edge("ask", "next")
        b.add_edge("next", "after")
        b.add_edge("side", "after")
        graph = b.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "g"}}
        graph.invoke({"x": 1}, config)
        print(graph.invoke(Command(resume="yes", goto="side"), config)["log"])
        print([s.metadata["step"] for s in graph.get_state_history(config)])
    """,
    "updates of nodes that return {} or None are None": """
        b = StateGraph(State)
        b.add_node("a", lambda s: {})
        b.add_node("b", lambda s: None)
        b.add_edge(START, "a")
        b.add_edge("a", "b")
        for chunk in b.compile().stream({"x": 1}, stream_mode="updates"):
            print(chunk)
    """,
    "parallel tasks start in LangGraph's loop order: Sends, then nodes by name": """
        from langgraph.types import Send

        b = StateGraph(State)
        for name in ("zeta", "next", "after"):
            b.add_node(name, lambda s, name=name: {"log": [name]})
        b.add_node("w", lambda s: {"log": [f"w{s['x']}"]})
        b.add_conditional_edges(START, lambda s: [Send("w", {"x": 1}), Send("w", {"x": 2}),
                                                  "zeta", "next", "after"],
                                ["w", "zeta", "next", "after"])
        graph = b.compile()
        print([(c["name"], "result" in c) for c in graph.stream({"x": 0}, stream_mode="tasks")
               if "result" not in c])
        print(graph.invoke({"x": 0})["log"])
    """,
    "update_state into a paused subgraph as its node, then invoke(None)": """
        from langgraph.types import interrupt

        def leaf(state):
            return {"log": [interrupt("which?")]}

        inner = StateGraph(State)
        inner.add_node("leaf", leaf)
        inner.add_edge(START, "leaf")
        top = StateGraph(State)
        top.add_node("sub", inner.compile())
        top.add_edge(START, "sub")
        graph = top.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "s"}}
        graph.invoke({"x": 1}, config)
        task_config = graph.get_state(config, subgraphs=True).tasks[0].state.config
        graph.update_state(task_config, {"log": ["edited"]}, as_node="leaf")
        result = graph.invoke(None, config)
        print(result["log"], "__interrupt__" in result, graph.get_state(config).next)
    """,
    "a subgraph that finished is not run again when its node resumes": """
        from langgraph.types import Command, interrupt

        runs = []
        inner = StateGraph(State)
        inner.add_node("leaf", lambda s: runs.append("leaf") or {"log": ["leaf"]})
        inner.add_edge(START, "leaf")
        sub = inner.compile()

        def node(state):
            done = sub.invoke({"log": []})
            return {"log": [*done["log"], interrupt("more?")]}

        top = StateGraph(State)
        top.add_node("node", node)
        top.add_edge(START, "node")
        graph = top.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "f"}}
        graph.invoke({"x": 1}, config)
        print(graph.invoke(Command(resume="yes"), config)["log"], runs)
    """,
    "breakpoints compiled into a subgraph pause the enclosing run": """
        inner = StateGraph(State)
        inner.add_node("i1", lambda s: {"log": ["i1"]})
        inner.add_node("i2", lambda s: {"log": ["i2"]})
        inner.add_edge(START, "i1")
        inner.add_edge("i1", "i2")
        top = StateGraph(State)
        top.add_node("pre", lambda s: {"log": ["pre"]})
        top.add_node("sub", inner.compile(interrupt_before=["i2"]))
        top.add_edge(START, "pre")
        top.add_edge("pre", "sub")
        graph = top.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "b"}}
        for chunk in graph.stream({"x": 1}, config, stream_mode="updates"):
            print(chunk)
        state = graph.get_state(config, subgraphs=True)
        print(state.next, state.values, state.tasks[0].state.next, state.tasks[0].state.values)
        for chunk in graph.stream(None, config, stream_mode=["updates", "values"]):
            print(chunk)
        after = StateGraph(State)
        after.add_node("sub", inner.compile(interrupt_after=["i1"]))
        after.add_edge(START, "sub")
        graph = after.compile(checkpointer=InMemorySaver())
        print(graph.invoke({"x": 1}, config), graph.get_state(config).next)
        print(graph.invoke(None, config))
    """,
    "a resumed node that fails until its retries are used up runs again with its answer": """
        from langgraph.types import Command, RetryPolicy, interrupt

        failures = {"left": 2}

        def ask(state):
            answer = interrupt("go?")
            if failures["left"]:
                failures["left"] -= 1
                raise ValueError("outage")
            return {"log": [answer]}

        b = StateGraph(State)
        b.add_node("ask", ask, retry_policy=RetryPolicy(max_attempts=2, initial_interval=0.01,
                                                         retry_on=ValueError))
        b.add_edge(START, "ask")
        graph = b.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "r"}}
        graph.invoke({"x": 1}, config)
        try:
            graph.invoke(Command(resume="yes"), config)
        except ValueError as error:
            print("failed:", error)
        print(len(graph.get_state(config).interrupts), graph.get_state(config).next)
        print(graph.invoke(None, config))
    """,
    "output_keys as a str and as lists, in values and updates": """
        import asyncio

        def both(**kw):
            print(chain().invoke({"x": 1}, CONFIG, **kw))
            print(asyncio.run(chain().ainvoke({"x": 1}, CONFIG, **kw)))

        for keys in ("log", ["log"], ["x"], ["x", "log"], []):
            both(output_keys=keys)
            both(output_keys=keys, stream_mode="updates")
            for mode in ("values", "updates", ["values", "updates"]):
                print(list(chain().stream({"x": 1}, CONFIG, output_keys=keys, stream_mode=mode)))
    """,
    "output_keys of a paused run": """
        from langgraph.types import interrupt

        b = StateGraph(State)
        b.add_node("a", lambda s: {"log": ["a"]})
        b.add_node("ask", lambda s: {"x": interrupt("x?")})
        b.add_edge(START, "a")
        b.add_edge("a", "ask")
        graph = b.compile(checkpointer=InMemorySaver())
        for n, keys in enumerate(("x", ["x"], "log", ["x", "log"])):
            config = {"configurable": {"thread_id": f"p{n}"}}
            out = graph.invoke({"x": 1}, config, output_keys=keys)
            print({k: v if k != "__interrupt__" else [i.value for i in v] for k, v in out.items()})
            chunks = graph.stream({"x": 1}, {"configurable": {"thread_id": f"q{n}"}},
                                  output_keys=keys, stream_mode=["values", "updates"])
            print([(mode, "interrupt" if "__interrupt__" in str(chunk) else chunk)
                   for mode, chunk in chunks])
    """,
    "stored metadata": """
        graph = chain()
        graph.invoke({"x": 1}, CONFIG)
        for snap in graph.get_state_history({"configurable": {"thread_id": "t"}}):
            print(sorted(snap.metadata.items()))
    """,
    "run-time context through nodes, a subgraph and a resume": """
        from dataclasses import dataclass
        from langgraph.runtime import Runtime, get_runtime
        from langgraph.types import Command, interrupt

        @dataclass
        class Ctx:
            user: str
            n: int = 1

        def a(state, runtime: Runtime[Ctx]):
            info = runtime.execution_info
            same = get_runtime(Ctx) is runtime or get_runtime().context is runtime.context
            return {"log": [runtime.context.user, type(runtime.context).__name__, str(same),
                            info.checkpoint_ns.split(":")[0], str(info.thread_id),
                            str(info.node_attempt), str(runtime.store), str(runtime.previous)]}

        def ask(state, runtime: Runtime[Ctx]):
            answer = interrupt("ok?")
            return {"log": [answer, str(runtime.context and runtime.context.user)]}

        sub = StateGraph(State, context_schema=Ctx)
        sub.add_node("inner", lambda s, runtime: {"log": ["sub:" + runtime.context.user]})
        sub.add_edge(START, "inner")
        b = StateGraph(State, context_schema=Ctx)
        b.add_node("a", a)
        b.add_node("sub", sub.compile())
        b.add_node("ask", ask)
        b.add_edge(START, "a")
        b.add_edge("a", "sub")
        b.add_edge("sub", "ask")
        graph = b.compile(checkpointer=InMemorySaver())
        out = graph.invoke({}, CONFIG, context={"user": "ann"})
        print(out["log"], [i.value for i in out["__interrupt__"]])
        print(graph.invoke(Command(resume="yes"), CONFIG, context=Ctx("bob")))
        other = {"configurable": {"thread_id": "u"}}
        graph.invoke({}, other, context=Ctx("cy"))
        print(graph.invoke(Command(resume="no"), other))
        for chunk in graph.stream({}, {"configurable": {"thread_id": "v"}},
                                  context={"user": "dee"}, stream_mode="updates"):
            print({k: v for k, v in chunk.items() if k != "__interrupt__"})
        try:
            get_runtime()
        except RuntimeError:
            print("get_runtime outside a node: RuntimeError")
    """,
    "run-time context in an entrypoint, with previous, writer and store": """
        import asyncio
        from dataclasses import dataclass
        from langgraph.func import entrypoint, task
        from langgraph.runtime import Runtime, get_runtime

        @dataclass
        class Ctx:
            user: str

        class Notes:
            def __repr__(self):
                return "Notes()"

        notes = Notes()

        @task
        def shout(text: str) -> str:
            return text.upper() + "/" + get_runtime().context.user

        @entrypoint(checkpointer=InMemorySaver(), context_schema=Ctx, store=notes)
        def flow(x: int, *, previous=None, runtime: Runtime[Ctx]):
            runtime.stream_writer({"seen": x})
            return [x, previous, runtime.context.user, runtime.previous, repr(runtime.store),
                    shout(str(x)).result()]

        thread = {"configurable": {"thread_id": "e"}}
        print(flow.invoke(1, thread, context={"user": "e1"}))
        print(flow.invoke(2, thread, context=Ctx("e2")))
        print(list(flow.stream(3, thread, context={"user": "e3"},
                               stream_mode=["custom", "updates"])))

        async def main():
            print(await flow.ainvoke(4, {"configurable": {"thread_id": "a"}},
                                     context={"user": "async"}))

        asyncio.run(main())
    """,
    "a node's store argument and runtime.store": """
        from langgraph.runtime import Runtime

        class Box:
            def __init__(self):
                self.items = []

        box = Box()

        def keep(state, store, runtime: Runtime):
            store.items.append(state.get("x"))
            return {"log": [str(runtime.store is store), str(len(box.items))]}

        b = StateGraph(State)
        b.add_node("keep", keep)
        b.add_edge(START, "keep")
        graph = b.compile(store=box)
        print(graph.invoke({"x": 5}), box.items)
        outer = StateGraph(State)
        outer.add_node("inner", graph)
        outer.add_edge(START, "inner")
        print(outer.compile(store=box).invoke({"x": 6}), box.items)
        try:  # a subgraph sees its parent's store, even when that is none
            outer.compile().invoke({"x": 7})
        except AttributeError:
            print("the subgraph got store=None")
    """,
    "a reducer key typed with an abstract collection starts empty": """
        from collections.abc import Sequence
        from langgraph.graph.message import add_messages

        class Chat(TypedDict, total=False):
            messages: Annotated[Sequence, add_messages]
            tags: Annotated[Sequence[str], operator.add]

        b = StateGraph(Chat)
        b.add_node("n", lambda s: {"tags": ["n"]})
        b.add_edge(START, "n")
        out = b.compile().invoke({"messages": [("user", "hi")], "tags": ["a"]})
        print([type(m).__name__ for m in out["messages"]], [m.content for m in out["messages"]],
              out["tags"])
    """,
}


@pytest.fixture(scope="module", autouse=True)
def _langgraph_installed() -> None:
    require_langgraph("langgraph.graph")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_same_program_prints_the_same_on_langgraph_and_hitlgraph(name: str) -> None:
    source = _HEADER + textwrap.dedent(SCRIPTS[name])
    theirs, ours = on_both(source)
    assert ours == theirs
