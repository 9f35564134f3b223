"""create_react_agent on LangGraph and on hitlgraph, side by side: each script is written against
`langgraph.*`, run as it is and then with the import prefix replaced by `hitlgraph`, with the
same LangChain chat model (a small fake with bind_tools); the printed output must be equal.

The runner is tests/_side_by_side.py's."""

from __future__ import annotations

import textwrap

import pytest

from _side_by_side import on_both, require_langgraph

_HEADER = """
import asyncio
import warnings
warnings.simplefilter("ignore")
from typing import Any
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent
from langgraph.types import Command

SEEN = []

class Fake(BaseChatModel):
    answers: list[Any]

    @property
    def _llm_type(self):
        return "fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        SEEN.append([(m.type, m.content) for m in messages])
        answer = self.answers.pop(0)
        if isinstance(answer, str):
            answer = AIMessage(answer)
        return ChatResult(generations=[ChatGeneration(message=answer)])

    def bind_tools(self, tools, **kwargs):
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools])

    def with_structured_output(self, schema, **kwargs):
        return RunnableLambda(lambda messages: {"schema": schema["title"],
                                                "seen": len(messages)})

def calls(*names):
    return AIMessage("", tool_calls=[{"name": n, "args": {"a": i, "b": 2}, "id": f"c{i}"}
                                     for i, n in enumerate(names)])

def add(a: int, b: int) -> int:
    '''Add two numbers.'''
    return a + b

def mul(a: int, b: int) -> int:
    '''Multiply two numbers.'''
    return a * b

def show(m):
    calls = [(c["name"], c["args"], c["id"]) for c in getattr(m, "tool_calls", None) or ()]
    return (m.type, m.content, m.name, calls, getattr(m, "tool_call_id", None))

def updates(agent, value, config=None, **kw):
    # Parallel "tools" tasks finish in any order: their chunks are printed sorted.
    lines = []
    for chunk in agent.stream(value, config, stream_mode="updates", **kw):
        for node, update in chunk.items():
            if node == "__interrupt__":
                line = f"{node} {[i.value for i in update]}"
            elif update is None:
                line = f"{node} None"
            else:
                line = f"{node} " + str({k: [show(m) for m in v] if k.endswith("messages")
                                         else v for k, v in update.items()})
            if lines and node == "tools" and lines[-1][0].startswith("tools"):
                lines[-1].append(line)
            else:
                lines.append([line])
    for group in lines:
        for line in sorted(group):
            print(line)

def final(out):
    print([show(m) for m in out["messages"]], sorted(out))

HI = {"messages": [{"role": "user", "content": "hi"}]}
"""

SCRIPTS = {
    "v2: a Send per tool call, then the answer": """
        agent = create_react_agent(Fake(answers=[calls("add", "mul"), "done"]), [add, mul])
        updates(agent, HI)
        print(SEEN)
    """,
    "v1: one tools task for all calls": """
        agent = create_react_agent(Fake(answers=[calls("add", "mul"), "done"]), [add, mul],
                                   version="v1")
        updates(agent, HI)
    """,
    "ainvoke, both versions": """
        for version in ("v1", "v2"):
            agent = create_react_agent(Fake(answers=[calls("add", "mul"), "done"]), [add, mul],
                                       version=version)
            final(asyncio.run(agent.ainvoke(HI)))
    """,
    "interrupt_before tools, snapshot, then resume": """
        for version in ("v1", "v2"):
            agent = create_react_agent(Fake(answers=[calls("add", "mul"), "done"]), [add, mul],
                                       version=version, checkpointer=InMemorySaver(),
                                       interrupt_before=["tools"])
            config = {"configurable": {"thread_id": version}}
            updates(agent, HI, config)
            snap = agent.get_state(config)
            print(snap.next, [(t.name, t.path, t.interrupts) for t in snap.tasks])
            updates(agent, None, config)
            print(agent.get_state(config).next)
    """,
    "interrupt_after agent": """
        agent = create_react_agent(Fake(answers=[calls("add"), "done"]), [add],
                                   checkpointer=InMemorySaver(), interrupt_after=["agent"])
        config = {"configurable": {"thread_id": "t"}}
        updates(agent, HI, config)
        print(agent.get_state(config).next)
        final(agent.invoke(None, config))
    """,
    "prompts: str, function, and a name on the answers": """
        from langchain_core.messages import SystemMessage
        for prompt in ("Be brief.", SystemMessage("Be kind."),
                       lambda state: [("system", "Count.")] + state["messages"][-1:]):
            agent = create_react_agent(Fake(answers=[calls("add"), "done"]), [add],
                                       prompt=prompt, name="helper")
            final(agent.invoke(HI))
        print(SEEN)
    """,
    "a return_direct tool ends the run": """
        from langchain_core.tools import tool

        @tool(return_direct=True)
        def lookup(a: int, b: int) -> str:
            '''Look it up.'''
            return f"found {a}-{b}"

        for version in ("v1", "v2"):
            agent = create_react_agent(Fake(answers=[calls("lookup")]), [lookup, add],
                                       version=version)
            updates(agent, HI)
            agent = create_react_agent(Fake(answers=[calls("lookup", "add"), "done"]),
                                       [lookup, add], version=version)
            final(agent.invoke(HI))
    """,
    "response_format: one more call once the loop ends": """
        schema = {"title": "Answer", "type": "object", "properties": {"n": {"type": "integer"}}}
        agent = create_react_agent(Fake(answers=[calls("add"), "done"]), [add],
                                   response_format=schema)
        updates(agent, HI)
        agent = create_react_agent(Fake(answers=["done"]), [],
                                   response_format=("Answer in JSON.", schema))
        updates(agent, HI)
    """,
    "pre_model_hook with llm_input_messages, post_model_hook": """
        def trim(state):
            return {"llm_input_messages": state["messages"][-1:]}

        def check(state):
            if state["messages"][-1].tool_calls:
                return {}
            return {"messages": [AIMessage("checked")]}

        agent = create_react_agent(Fake(answers=[calls("add", "mul"), "done"]), [add, mul],
                                   pre_model_hook=trim, post_model_hook=check)
        updates(agent, HI)
        print(SEEN)
    """,
    "no tools: the agent answers once": """
        agent = create_react_agent(Fake(answers=["hello"]), [], prompt="Hi.")
        updates(agent, HI)
    """,
    "a tool call without an answer in the history is refused": """
        agent = create_react_agent(Fake(answers=["x"]), [add])
        try:
            agent.invoke({"messages": [calls("add"), ("user", "and?")]})
        except ValueError as exc:
            print(type(exc).__name__, "ToolMessage" in str(exc))
    """,
    "a custom state schema from chat_agent_executor, read by the prompt": """
        from langgraph.prebuilt.chat_agent_executor import AgentState

        class State(AgentState, total=False):
            topic: str

        agent = create_react_agent(
            Fake(answers=["ok"]), [add], state_schema=State,
            prompt=lambda s: [("system", s["topic"])] + s["messages"])
        out = agent.invoke({**HI, "topic": "sums"})
        final(out)
        print(out["topic"], SEEN)
    """,
    "a model picked per call from the run-time context": """
        from dataclasses import dataclass

        @dataclass
        class Ctx:
            big: bool

        small, big = Fake(answers=[calls("add"), "small"]), Fake(answers=["big"])

        def pick(state, runtime):
            return (big if runtime.context.big else small).bind_tools([add])

        agent = create_react_agent(pick, [add], context_schema=Ctx)
        final(agent.invoke(HI, context=Ctx(big=False)))
        final(agent.invoke(HI, context=Ctx(big=True)))
    """,
    "a model with its tools bound already": """
        model = Fake(answers=[calls("add"), "done"])
        final(create_react_agent(model.bind_tools([add]), [add]).invoke(HI))
        for tools in ([add, mul], [mul]):
            try:
                create_react_agent(model.bind_tools([add]), tools)
            except ValueError as exc:
                print(type(exc).__name__)
    """,
    "stream_mode messages: the model's answers and the tools' results": """
        agent = create_react_agent(Fake(answers=[calls("add"), "done here"]), [add])
        for message, meta in agent.stream(HI, stream_mode="messages"):
            # The metadata key is named after the library (the prefix is replaced).
            node = [v for k, v in meta.items() if k.endswith("graph_node")]
            print(type(message).__name__, repr(message.content), node)
    """,
    "interrupt() inside a tool: one task per call in v2, the first call's question in v1": """
        from langgraph.types import interrupt

        def confirm(a: int, b: int) -> str:
            '''Ask first.'''
            return "yes" if interrupt(f"ok {a}?") else "no"

        for version in ("v1", "v2"):
            agent = create_react_agent(Fake(answers=[calls("confirm", "confirm"), "done"]),
                                       [confirm], version=version, checkpointer=InMemorySaver())
            config = {"configurable": {"thread_id": version}}
            out = agent.invoke(HI, config)
            while "__interrupt__" in out:
                print(sorted(i.value for i in out["__interrupt__"]))
                snap = agent.get_state(config)
                print(snap.next, [(t.name, [i.value for i in t.interrupts]) for t in snap.tasks])
                answers = {i.id: i.value.endswith("0?") for i in out["__interrupt__"]}
                out = agent.invoke(Command(resume=answers), config)
            final(out)
    """,
    "tools as a ToolNode: a tool that fails gives an error message to the model": """
        from langgraph.prebuilt import ToolNode

        def broken(a: int, b: int) -> int:
            '''Fail.'''
            raise RuntimeError("no")

        agent = create_react_agent(Fake(answers=[calls("broken"), "sorry"]),
                                   ToolNode([broken], handle_tool_errors=True))
        out = agent.invoke(HI)
        print([(m.type, getattr(m, "status", None)) for m in out["messages"]])
    """,    "out of steps: the agent says it needs more steps instead of failing": """
        from langgraph.errors import GraphRecursionError

        for limit in (1, 2, 3, 4, 5, 6):
            agent = create_react_agent(
                Fake(answers=[calls("add"), calls("mul"), calls("add"), "done"]), [add, mul])
            try:
                out = agent.invoke(HI, {"recursion_limit": limit})
                print(limit, [show(m) for m in out["messages"]])
            except GraphRecursionError:
                print(limit, "GraphRecursionError")
    """,
    "out of steps with a return_direct tool, and a custom state reading remaining_steps": """
        from langchain_core.tools import tool
        from langgraph.prebuilt.chat_agent_executor import AgentState

        @tool(return_direct=True)
        def stop(a: int, b: int) -> int:
            "Stop here."
            return a

        class State(AgentState):
            seen: list

        def prompt(state):
            print("remaining", state["remaining_steps"])
            return state["messages"]

        for limit in (2, 3, 4, 5):
            agent = create_react_agent(Fake(answers=[calls("add"), calls("stop"), "done"]),
                                       [add, stop], state_schema=State, prompt=prompt)
            try:
                out = agent.invoke({**HI, "seen": []}, {"recursion_limit": limit})
                print(limit, [show(m) for m in out["messages"]], sorted(out))
            except Exception as exc:
                print(limit, type(exc).__name__)
    """,
}


@pytest.fixture(scope="module", autouse=True)
def _langgraph_installed() -> None:
    require_langgraph("langgraph.prebuilt")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_create_react_agent_prints_the_same_on_langgraph_and_hitlgraph(name: str) -> None:
    source = _HEADER + textwrap.dedent(SCRIPTS[name])
    theirs, ours = on_both(source)
    assert ours == theirs
