"""ToolNode side by side with LangGraph: its default error handling (only arguments that do not
fit the tool go back to the model), the other handle_tool_errors settings, and the arguments
it fills in (InjectedState, InjectedStore, ToolRuntime). The runner is tests/_side_by_side.py's."""

from __future__ import annotations

from _side_by_side import on_both, require_langgraph

_SCRIPT = """
import asyncio
from typing import Annotated, Any
from typing_extensions import TypedDict
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import StateGraph, START, MessagesState
from langgraph.graph.message import add_messages
from langgraph.store.memory import InMemoryStore
from langgraph.prebuilt import ToolNode, InjectedState, InjectedStore, ToolRuntime

def calls(*items):
    return AIMessage("", tool_calls=[{"name": n, "args": a, "id": f"c{i}"}
                                     for i, (n, a) in enumerate(items)])

def add(a: int, b: int) -> int:
    "Add two numbers."
    return a + b

def boom(reason: str) -> str:
    "Fail."
    raise RuntimeError("kaput: " + reason)

def show(out):
    msgs = out if isinstance(out, list) else out["messages"]
    for m in msgs:
        print(m.type, repr(m.content), m.name, m.tool_call_id, m.status)

def run(node, *items):
    builder = StateGraph(MessagesState)
    builder.add_node("tools", node)
    builder.add_edge(START, "tools")
    try:
        show(builder.compile().invoke({"messages": [calls(*items)]})["messages"][1:])
    except RuntimeError as exc:
        print("raised", exc)

# the default: bad arguments go back to the model, other errors propagate
run(ToolNode([add, boom]), ("add", {"a": 1}))
run(ToolNode([add, boom]), ("add", {"a": 1, "b": 2}), ("boom", {"reason": "x"}))
run(ToolNode([add, boom], handle_tool_errors=True), ("boom", {"reason": "x"}))
run(ToolNode([boom], handle_tool_errors="Try later."), ("boom", {"reason": "x"}))
run(ToolNode([boom], handle_tool_errors=(RuntimeError,)), ("boom", {"reason": "x"}))
run(ToolNode([boom], handle_tool_errors=KeyError), ("boom", {"reason": "x"}))
run(ToolNode([boom], handle_tool_errors=False), ("boom", {"reason": "x"}))

class State(TypedDict):
    messages: Annotated[list, add_messages]
    topic: str

def whole(x: int, state: Annotated[dict, InjectedState]) -> str:
    "Read the whole state."
    return f"{x} {sorted(state)} {len(state['messages'])}"

def one(x: int, topic: Annotated[str, InjectedState("topic")]) -> str:
    "Read one key."
    return f"{x} {topic}"

def remember(x: int, store: Annotated[Any, InjectedStore()]) -> str:
    "Use the store."
    store.put(("notes",), "x", {"x": x})
    return str(store.get(("notes",), "x").value)

def aware(x: int, runtime: ToolRuntime) -> str:
    "Read the runtime."
    rt = runtime
    return f"{x} {rt.tool_call_id} {rt.state['topic']} {rt.context} {rt.store is not None}"

tools = [whole, one, remember, aware]
builder = StateGraph(State)
builder.add_node("tools", ToolNode(tools))
builder.add_edge(START, "tools")
graph = builder.compile(store=InMemoryStore())
ask = calls(("whole", {"x": 1}), ("one", {"x": 2, "topic": "forged"}), ("remember", {"x": 3}),
            ("aware", {"x": 4}))
out = graph.invoke({"messages": [HumanMessage("hi"), ask], "topic": "cats"}, context={"who": "me"})
show(out["messages"][2:])
out = asyncio.run(graph.ainvoke({"messages": [HumanMessage("hi"), ask], "topic": "dogs"}))
show(out["messages"][2:])

# a tool asking for the store in a graph without one
builder = StateGraph(State)
builder.add_node("tools", ToolNode([remember]))
builder.add_edge(START, "tools")
try:
    builder.compile().invoke({"messages": [calls(("remember", {"x": 1}))], "topic": "t"})
except ValueError as exc:
    print("ValueError")
"""


def test_tool_node_side_by_side() -> None:
    require_langgraph("langgraph.prebuilt")
    theirs, ours = on_both(_SCRIPT)
    assert ours == theirs
