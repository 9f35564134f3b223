"""A plain function as a tool, side by side with LangGraph: the model's arguments are checked
and converted to the parameters' types before the function runs ("3" for an int arrives as 3,
a dict for a pydantic-model parameter arrives as the model), and an argument of the wrong type
or a missing one comes back as the same error ToolMessage. Sync and async tools, sync and
async runs. The two places where hitlgraph differs on purpose are tested after."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from _side_by_side import on_both, require_langgraph
from hitlgraph.messages import AIMessage
from hitlgraph.prebuilt import ToolInvocationError, ToolNode, tool

_SCRIPT = """
import asyncio
from dataclasses import dataclass
from typing import Literal, Optional
from pydantic import BaseModel
from langchain_core.messages import AIMessage
from langgraph.graph import StateGraph, START, MessagesState
from langgraph.prebuilt import ToolNode

class Point(BaseModel):
    x: int
    y: int = 0

@dataclass
class Box:
    w: float

def add(a: int, b: int = 5) -> str:
    "Add."
    return f"{a!r}+{b!r}={a + b}"

async def aadd(a: int, b: int = 5) -> str:
    "Add, async."
    return f"{a!r}+{b!r}={a + b}"

def kinds(f: float, s: str, flag: bool, items: list[int], opt: Optional[int] = None,
          mode: Literal["x", "y"] = "x") -> str:
    "Kinds."
    return repr((f, s, flag, items, opt, mode))

def shapes(p: Point, box: Box) -> str:
    "Shapes."
    return repr((p, box))

def untyped(a, b=2):
    "Untyped."
    return repr((a, b))

def json(json: int) -> str:
    "A parameter named as a pydantic model's method."
    return repr(json)

def run(tool, args, use_async=False):
    builder = StateGraph(MessagesState)
    builder.add_node("tools", ToolNode([tool], handle_tool_errors=True))
    builder.add_edge(START, "tools")
    ask = AIMessage("", tool_calls=[{"name": tool.__name__, "args": args, "id": "c1"}])
    graph = builder.compile()
    if use_async:
        out = asyncio.run(graph.ainvoke({"messages": [ask]}))
    else:
        out = graph.invoke({"messages": [ask]})
    for m in out["messages"][1:]:
        print(repr(m.content), m.status)

for use_async in (False, True):
    run(add, {"a": "3"}, use_async)
    run(add, {"a": "3", "b": "4"}, use_async)
run(aadd, {"a": "3"}, True)  # (LangGraph runs an async tool only in an async run)
run(aadd, {"a": "x"}, True)
run(add, {"a": 3.0})
run(add, {"a": 3.5})
run(add, {"a": "x"})
run(add, {})
run(add, {"a": True})
run(add, {"a": None})
run(kinds, {"f": "1.5", "s": 3, "flag": "yes", "items": ["1", 2]})
run(kinds, {"f": 1, "s": "a", "flag": 1, "items": [1], "opt": "7", "mode": "y"})
run(kinds, {"f": 1, "s": "a", "flag": 1, "items": [1], "mode": "z"})
run(kinds, {"f": 1, "s": "a", "flag": 1, "items": "1"})
run(shapes, {"p": {"x": "1"}, "box": {"w": "2"}})
run(shapes, {"p": {"y": 1}, "box": {}})
run(untyped, {"a": "1"})
run(untyped, {})
run(json, {"json": "4"})
"""


def test_plain_function_arguments_side_by_side() -> None:
    require_langgraph("langgraph.prebuilt")
    theirs, ours = on_both(_SCRIPT)
    assert "'3+5=8' success" in ours
    assert ours == theirs


def _call(node: ToolNode, name: str, args: dict[str, object]) -> list[object]:
    asked = AIMessage("", tool_calls=[{"name": name, "args": args, "id": "c1"}])
    return node([asked])  # type: ignore[no-any-return]


def test_an_argument_the_function_does_not_take_is_an_error() -> None:
    # LangGraph drops it silently; the model is told instead (README: Coming from LangGraph)
    def add(a: int, b: int = 5) -> int:
        return a + b

    (answer,) = _call(ToolNode([add], handle_tool_errors=True), "add", {"a": "x", "c": 2})
    assert answer.status == "error"  # type: ignore[attr-defined]
    assert "a: Input should be a valid integer" in answer.content  # type: ignore[attr-defined]
    assert "c: Unexpected argument" in answer.content  # type: ignore[attr-defined]


def test_a_function_taking_keywords_gets_the_extra_arguments_as_given() -> None:
    # LangGraph calls it with rest=None and drops them (LangChain builds a field for **rest)
    def kw(a: int, **rest: object) -> str:
        return repr((a, rest))

    (answer,) = _call(ToolNode([kw]), "kw", {"a": "1", "z": "3"})
    assert answer.content == "(1, {'z': '3'})"  # type: ignore[attr-defined]


def test_tool_invoke_converts_and_refuses_as_tool_node_does() -> None:
    @tool
    def scale(x: float, times: int = 2) -> float:
        """Scale."""
        return x * times

    assert scale.invoke({"x": "1.5", "times": "3"}) == 4.5
    assert asyncio.run(scale.ainvoke({"x": 2})) == 4.0
    with pytest.raises(ToolInvocationError, match="times: Input should be a valid integer"):
        scale.invoke({"x": 1, "times": "many"})


def test_without_pydantic_only_missing_and_unexpected_arguments_are_caught() -> None:
    code = (
        "import sys; sys.modules['pydantic'] = None\n"
        "from hitlgraph.prebuilt import tool, ToolInvocationError\n"
        "@tool\n"
        "def add(a: int, b: int = 5) -> str:\n"
        "    '''Add.'''\n"
        "    return repr(a)\n"
        "print(add.invoke({'a': '3'}))\n"
        "for args in ({}, {'a': 1, 'c': 2}):\n"
        "    try:\n"
        "        add.invoke(args)\n"
        "    except ToolInvocationError as exc:\n"
        "        print(exc.message.splitlines()[1].strip())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.splitlines() == ["'3'", "a: Field required", "c: Unexpected argument"]
