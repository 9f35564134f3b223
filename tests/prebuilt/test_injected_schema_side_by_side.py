"""The tool schemas a model is given, side by side with LangGraph (what a chat model's
bind_tools sends, through LangChain's convert_to_openai_tool): a LangChain `@tool` taking
InjectedState, InjectedStore or a ToolRuntime leaves those arguments out (whether hitlgraph or
langchain_core is imported first) and create_react_agent's ToolNode fills them in; a plain
function is described and typed as LangChain describes it (its whole docstring; nested models,
list items, Literal and Optional arguments; defaults)."""

from __future__ import annotations

import pytest

from _side_by_side import on_both, require_langgraph

_TOOLS = """
from typing import Annotated, Any
from langchain_core.tools import tool

@tool
def whole(x: int, state: Annotated[dict, InjectedState]) -> str:
    "Read the whole state."
    return f"{x} {len(state['messages'])}"

@tool
def one(x: int, topic: Annotated[str, InjectedState("topic")]) -> str:
    "Read one key."
    return f"{x} {topic}"

@tool
def remember(x: int, store: Annotated[Any, InjectedStore()]) -> str:
    "Use the store."
    store.put(("notes",), "x", {"x": x})
    return str(store.get(("notes",), "x").value)

@tool
def aware(x: int, runtime: ToolRuntime) -> str:
    "Read the runtime."
    return f"{x} {runtime.tool_call_id} {runtime.state['topic']} {runtime.context}"

def plain(x: int, state: Annotated[dict, InjectedState], runtime: ToolRuntime) -> str:
    "A plain function with both."
    return f"{x} {runtime.tool_call_id} {state['topic']}"

from typing import Literal, Optional
from pydantic import BaseModel

class Point(BaseModel):
    x: int
    y: int = 0

def add(a: int, b: int = 5) -> str:
    '''Add two numbers.

    Args:
        a: the first
        b: the second
    '''
    return str(a + b)

def kinds(f: float, s: str, flag: bool, items: list[int], opt: Optional[int] = None,
          mode: Literal["x", "y"] = "x", d: dict = {}) -> str:
    "Kinds."
    return ""

def shapes(p: Point, q: "int | None" = None, points: list[Point] = []) -> str:
    "Shapes."
    return repr(p)

def untyped(a, b=2):
    "Untyped."
    return ""
"""

_AGENT = """
import json
import warnings
warnings.simplefilter("ignore")
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.prebuilt import create_react_agent
from langgraph.prebuilt.chat_agent_executor import AgentState
from langgraph.store.memory import InMemoryStore

class Model(GenericFakeChatModel):
    def bind_tools(self, tools, **kwargs):
        for t in tools:
            print(json.dumps(convert_to_openai_tool(t), sort_keys=True))
        return self

class State(AgentState):
    topic: str

tools = [whole, one, remember, aware, plain, add, kinds, shapes, untyped]
for t in tools[:4]:
    print(t.name, sorted(t.args), sorted(t.tool_call_schema.model_json_schema()["properties"]))
asks = AIMessage("", id="m1", tool_calls=[
    {"name": t, "args": {"x": i}, "id": f"c{i}"}
    for i, t in enumerate(["whole", "one", "remember", "aware", "plain"])])
model = Model(messages=iter([asks, AIMessage("done", id="m2")]))
agent = create_react_agent(model, tools, state_schema=State, store=InMemoryStore())
out = agent.invoke({"messages": [HumanMessage("hi", id="h")], "topic": "cats"},
                   context={"who": "me"})
for m in out["messages"]:
    print(m.type, repr(m.content), getattr(m, "status", None))
"""

_MARKERS = "from langgraph.prebuilt import InjectedState, InjectedStore, ToolRuntime\n"


@pytest.mark.parametrize("first", ["hitlgraph", "langchain_core"])
def test_injected_arguments_are_hidden_from_the_model_side_by_side(first: str) -> None:
    require_langgraph("langgraph.prebuilt")
    head = _MARKERS if first == "hitlgraph" else ""
    script = head + _TOOLS.replace("from langchain_core.tools import tool",
                                   "from langchain_core.tools import tool\n"
                                   + ("" if head else _MARKERS)) + _AGENT
    theirs, ours = on_both(script)
    assert '"parameters": {"properties": {"x": {"type": "integer"}}' in ours
    assert ours == theirs
