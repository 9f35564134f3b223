"""create_react_agent: the loop, its options, tool-call review, and the errors it raises.

Each test runs with the sync and the async API (the `run` fixture of tests/conftest.py). The
side-by-side file checks the same behaviours against LangGraph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.messages import AIMessage
from hitlgraph.prebuilt import (
    AgentState,
    ScriptedChatModel,
    ToolNode,
    ToolReviewNode,
    create_react_agent,
    with_approval,
)
from hitlgraph.runtime import Runtime
from hitlgraph.types import Command

ran: list[tuple[str, dict[str, Any]]] = []


def weather(city: str) -> str:
    """Get the weather."""
    ran.append(("weather", {"city": city}))
    return f"Sunny in {city}"


def email(to: str, body: str) -> str:
    """Send an email."""
    ran.append(("email", {"to": to, "body": body}))
    return f"Sent to {to}"


@pytest.fixture(autouse=True)
def _clear_runs() -> None:
    ran.clear()


def asks(*calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"tool_calls": [{"name": n, "args": a, "id": f"call_{i}"}
                           for i, (n, a) in enumerate(calls)]}


TWO_CALLS = asks(("weather", {"city": "Lisbon"}), ("email", {"to": "ana", "body": "hi"}))
HI = {"messages": [("user", "Plan a picnic")]}


def texts(out: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(m.type, m.content) for m in out["messages"]]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_agent_runs_the_tools_then_answers(run: Any, version: str) -> None:
    model = ScriptedChatModel([TWO_CALLS, "Done."])
    agent = create_react_agent(model, [weather, email], version=version)
    chunks = run.stream(agent, HI, stream_mode="updates")
    assert [next(iter(c)) for c in chunks] == (
        ["agent", "tools", "agent"] if version == "v1" else ["agent", "tools", "tools", "agent"])
    out = run.invoke(create_react_agent(ScriptedChatModel([TWO_CALLS, "Done."]),
                                        [weather, email], version=version), HI)
    assert texts(out)[-3:] == [("tool", "Sunny in Lisbon"), ("tool", "Sent to ana"),
                               ("ai", "Done.")]
    assert [t["function"]["name"] for t in model.bound_tools] == ["weather", "email"]


def test_prompt_kinds_reach_the_model(run: Any) -> None:
    model = ScriptedChatModel(["ok"])
    run.invoke(create_react_agent(model, [], prompt="Be brief."), HI)
    assert [(m.type, m.content) for m in model.calls[0]] == [
        ("system", "Be brief."), ("human", "Plan a picnic")]
    model = ScriptedChatModel(["ok"])
    prompt = lambda state: [("system", "Count."), *state["messages"]]  # noqa: E731
    run.invoke(create_react_agent(model, [], prompt=prompt), HI)
    assert model.calls[0][0] == ("system", "Count.")


def test_interrupt_before_tools_pauses_and_resumes(run: Any, config: dict[str, Any]) -> None:
    agent = create_react_agent(ScriptedChatModel([TWO_CALLS, "Done."]), [weather, email],
                               checkpointer=InMemorySaver(), interrupt_before=["tools"])
    run.invoke(agent, HI, config)
    snap = run.get_state(agent, config)
    assert snap.next == ("tools", "tools") and ran == []
    out = run.invoke(agent, None, config)
    assert texts(out)[-1] == ("ai", "Done.") and len(ran) == 2


def test_review_pauses_before_each_reviewed_call(run: Any, config: dict[str, Any]) -> None:
    agent = create_react_agent(ScriptedChatModel([TWO_CALLS, "Done."]), [weather, email],
                               checkpointer=InMemorySaver(), review=["email"])
    out = run.invoke(agent, HI, config)
    request = out["__interrupt__"][0].value
    assert (request["tool"], request["args"]) == ("email", {"to": "ana", "body": "hi"})
    assert ran == []
    out = run.invoke(agent, Command(resume={"type": "edit", "args": {"to": "bo", "body": "hi"}}),
                     config)
    assert ran == [("weather", {"city": "Lisbon"}), ("email", {"to": "bo", "body": "hi"})]
    ai = next(m for m in out["messages"] if m.type == "ai" and m.tool_calls)
    assert ai.tool_calls[1]["args"] == {"to": "bo", "body": "hi"}
    assert texts(out)[-1] == ("ai", "Done.")


def test_review_rejection_reaches_the_model(run: Any, config: dict[str, Any]) -> None:
    model = ScriptedChatModel([asks(("email", {"to": "ana", "body": "hi"})), "Not sent."])
    agent = create_react_agent(model, [weather, email], checkpointer=InMemorySaver(),
                               review=True)
    run.invoke(agent, HI, config)
    out = run.invoke(agent, Command(resume={"type": "respond", "content": "Do not email."}),
                     config)
    assert ran == []
    assert texts(out)[-2:] == [("tool", "Do not email."), ("ai", "Not sent.")]
    assert model.calls[1][-1].content == "Do not email."


def test_review_survives_a_restart_on_sqlite(tmp_path: Path, config: dict[str, Any]) -> None:
    path = str(tmp_path / "agent.db")

    def agent(saver: Any, answers: list[Any]) -> Any:
        model = ScriptedChatModel(answers)
        return create_react_agent(model, ToolReviewNode([weather, email]), checkpointer=saver)

    with SqliteSaver.from_conn_string(path) as saver:
        out = agent(saver, [TWO_CALLS]).invoke(HI, config)
        assert out["__interrupt__"][0].value["tool"] == "weather"
    with SqliteSaver.from_conn_string(path) as saver:  # as a restarted process would
        graph = agent(saver, ["Done."])
        graph.invoke(Command(resume={"type": "accept"}), config)
        out = graph.invoke(Command(resume={"type": "ignore"}), config)
    assert ran == [("weather", {"city": "Lisbon"})]
    assert [m.type for m in out["messages"]][-3:] == ["tool", "tool", "ai"]


def test_with_approval_tools_are_asked_about(run: Any, config: dict[str, Any]) -> None:
    agent = create_react_agent(ScriptedChatModel([TWO_CALLS, "Done."]),
                               [weather, with_approval(email)], checkpointer=InMemorySaver())
    out = run.invoke(agent, HI, config)
    assert out["__interrupt__"][0].value["tool"] == "email"
    out = run.invoke(agent, Command(resume={"type": "accept"}), config)
    assert len(ran) == 2 and texts(out)[-1] == ("ai", "Done.")


def test_return_direct_ends_after_the_tool(run: Any) -> None:
    from langchain_core.tools import tool

    @tool(return_direct=True)
    def lookup(city: str) -> str:
        """Look it up."""
        return f"found {city}"

    agent = create_react_agent(ScriptedChatModel([asks(("lookup", {"city": "Oslo"}))]),
                               [lookup, weather])
    out = run.invoke(agent, HI)
    assert texts(out)[-1] == ("tool", "found Oslo")


def test_near_the_recursion_limit_the_agent_answers_instead_of_calling_tools(run: Any) -> None:
    model = ScriptedChatModel([AIMessage("", id="a1", tool_calls=[
        {"name": "weather", "args": {"city": "Rome"}, "id": "c1"}])])
    # (remaining_steps is a managed value: one given in the input is dropped, as in LangGraph)
    out = run.invoke(create_react_agent(model, [weather]), {**HI, "remaining_steps": 9},
                     {"recursion_limit": 2})
    last = out["messages"][-1]
    assert (last.content, last.id) == ("Sorry, need more steps to process this request.", "a1")
    assert ran == []


def test_custom_state_schema_and_name(run: Any) -> None:
    class State(AgentState, total=False):
        topic: str

    model = ScriptedChatModel(["ok"])
    agent = create_react_agent(model, [weather], state_schema=State, name="planner",
                               prompt=lambda s: [("system", s["topic"]), *s["messages"]])
    out = run.invoke(agent, {**HI, "topic": "picnics"})
    assert out["topic"] == "picnics" and out["messages"][-1].name == "planner"
    assert model.calls[0][0] == ("system", "picnics")


def test_pre_model_hook_input_messages(run: Any) -> None:
    model = ScriptedChatModel(["ok"])
    agent = create_react_agent(
        model, [], pre_model_hook=lambda s: {"llm_input_messages": [("user", "short")]})
    out = run.invoke(agent, HI)
    assert model.calls[0] == [("user", "short")]  # as written: no reducer on this key
    assert texts(out) == [("human", "Plan a picnic"), ("ai", "ok")]


def test_dynamic_model_picked_from_the_context(run: Any) -> None:
    @dataclass
    class Ctx:
        fast: bool

    fast, slow = ScriptedChatModel(["fast"]), ScriptedChatModel(["slow"])

    def pick(state: Any, runtime: Runtime[Ctx]) -> Any:
        return fast if runtime.context.fast else slow

    agent = create_react_agent(pick, [], context_schema=Ctx)
    out = run.invoke(agent, HI, context=Ctx(fast=False))
    assert texts(out)[-1] == ("ai", "slow") and fast.remaining == 1


def test_store_reaches_the_tools(run: Any) -> None:
    from hitlgraph.runtime import get_runtime
    from hitlgraph.store.memory import InMemoryStore

    def remember(fact: str) -> str:
        """Remember a fact."""
        get_runtime().store.put(("facts",), "1", {"fact": fact})
        return "saved"

    store = InMemoryStore()
    agent = create_react_agent(ScriptedChatModel([asks(("remember", {"fact": "sun"})), "ok"]),
                               [remember], store=store)
    run.invoke(agent, HI)
    item = store.get(("facts",), "1")
    assert item is not None and item.value == {"fact": "sun"}


def test_langchain_model_gets_langchain_messages(run: Any) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage as LCAIMessage

    seen: list[Any] = []

    class Fake(GenericFakeChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

        def _generate(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(messages)
            return super()._generate(messages, *args, **kwargs)

    answers = iter([LCAIMessage("", tool_calls=[
        {"name": "weather", "args": {"city": "Oslo"}, "id": "c1"}]), LCAIMessage("Sunny.")])
    out = run.invoke(create_react_agent(Fake(messages=answers), [weather], prompt="Hi."), HI)
    assert texts(out)[-1] == ("ai", "Sunny.")
    assert [type(m).__module__.split(".")[0] for m in seen[1]] == ["langchain_core"] * 4


def test_refusals_say_what_to_do() -> None:
    model = ScriptedChatModel(["x"])
    with pytest.raises(TypeError, match="model name 'openai:gpt-4o'"):
        create_react_agent("openai:gpt-4o", [])
    with pytest.raises(ValueError, match="'v3'"):
        create_react_agent(model, [], version="v3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="remaining_steps"):
        create_react_agent(model, [], state_schema=dict)
    with pytest.raises(ValueError, match="post_model_hook needs version='v2'"):
        create_react_agent(model, [], version="v1", post_model_hook=lambda s: {})
    with pytest.raises(TypeError, match="with_structured_output"):
        create_react_agent(model, [], response_format={"title": "A"})
    with pytest.raises(ValueError, match="ToolReviewNode"):
        create_react_agent(model, ToolNode([weather]), review=True)
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        create_react_agent(model, [], temperature=0)


def test_unanswered_tool_call_is_refused(run: Any) -> None:
    agent = create_react_agent(ScriptedChatModel(["x"]), [weather])
    stale = AIMessage("", tool_calls=[{"name": "weather", "args": {}, "id": "c9"}])
    with pytest.raises(ValueError, match="ToolMessage"):
        run.invoke(agent, {"messages": [stale, ("user", "and?")]})
