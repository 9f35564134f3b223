"""Tool reviews in three shapes: asked in hitlgraph's, Agent Inbox's or LangChain's, answered in
any of them when the answer can mean only one thing, refused otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage, ToolMessage
from hitlgraph.prebuilt import (
    InvalidReviewAnswerError,
    ScriptedChatModel,
    ToolReviewNode,
    tools_condition,
    with_approval,
)
from hitlgraph.prebuilt.interrupt import (
    ActionRequest,
    HumanInterrupt,
    HumanInterruptConfig,
    HumanResponse,
)
from hitlgraph.types import Command

ARGS = {"to": "team@example.com", "body": "Picnic at noon"}


def _graph(ran: list[dict[str, Any]], tool_args: dict[str, Any] | None = None,
           **review: Any) -> Any:
    args = tool_args or ARGS
    if tool_args is None:
        def email(to: str, body: str) -> str:
            """Send an email."""
            ran.append({"to": to, "body": body})
            return f"sent to {to}"
        tool: Any = email
    else:
        def email(action: str, args: dict[str, Any]) -> str:  # type: ignore[misc]
            """An email tool whose own parameters are named action and args."""
            ran.append({"action": action, "args": args})
            return "sent"
        tool = email
    model = ScriptedChatModel(responses=[
        AIMessage("Emailing.", id="ask", tool_calls=[{"name": "email", "args": args,
                                                      "id": "call_1"}]),
        AIMessage("Done.", id="done"),
    ])

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node(ToolReviewNode([tool], **review))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver())


def _asked(graph: Any, config: dict[str, Any]) -> Any:
    (question,) = graph.invoke({"messages": [("user", "Plan a picnic")]}, config)["__interrupt__"]
    return question.value


def _answer(graph: Any, config: dict[str, Any], answer: Any) -> ToolMessage:
    result = graph.invoke(Command(resume=answer), config)
    (message,) = [m for m in result["messages"] if m.type == "tool"]
    return message


def test_agent_inbox_format_asks_with_a_list_of_one_human_interrupt() -> None:
    graph = _graph([], request_format="agent-inbox", allowed=["accept", "edit"])
    value = _asked(graph, {"configurable": {"thread_id": "t"}})
    assert value == [{
        "action_request": {"action": "email", "args": ARGS},
        "config": {"allow_accept": True, "allow_edit": True, "allow_respond": False,
                   "allow_ignore": False},
        "description": "The assistant wants to run 'email' with these arguments. The tool: "
                       "Send an email.",
    }]


def test_langchain_format_asks_with_action_requests_and_review_configs() -> None:
    graph = _graph([], request_format="langchain", allowed=["accept", "edit", "ignore"])
    value = _asked(graph, {"configurable": {"thread_id": "t"}})
    assert value["action_requests"] == [{"name": "email", "args": ARGS,
                                         "description": value["action_requests"][0][
                                             "description"]}]
    assert value["review_configs"] == [{"action_name": "email",
                                        "allowed_decisions": ["approve", "edit", "reject"]}]


EDITED = {"to": "boss@example.com", "body": "Picnic moved"}


@pytest.mark.parametrize("request_format", ["hitlgraph", "agent-inbox", "langchain"])
@pytest.mark.parametrize(("answer", "ran", "content"), [
    ([{"type": "accept", "args": None}], [ARGS], "sent to team@example.com"),
    ({"type": "accept", "args": None}, [ARGS], "sent to team@example.com"),
    ([{"type": "accept", "args": {"action": "email", "args": ARGS}}], [ARGS],
     "sent to team@example.com"),  # Agent Chat UI's Accept: the request sent back unchanged
    ([{"type": "edit", "args": {"action": "email", "args": EDITED}}], [EDITED],
     "sent to boss@example.com"),
    ([{"type": "response", "args": "Not today"}], [], "Not today"),
    ([{"type": "ignore", "args": None}], [], None),
    ({"decisions": [{"type": "approve"}]}, [ARGS], "sent to team@example.com"),
    ({"decisions": [{"type": "edit", "edited_action": {"name": "email", "args": EDITED}}]},
     [EDITED], "sent to boss@example.com"),
    ({"decisions": [{"type": "reject", "message": "Too early"}]}, [], "Too early"),
    ({"decisions": [{"type": "respond", "message": "Ask Ana"}]}, [], "Ask Ana"),
    ({"decisions": [{"type": "reject"}]}, [], None),
    ({"type": "edit", "args": EDITED}, [EDITED], "sent to boss@example.com"),
])
def test_an_answer_in_any_shape_is_taken_whatever_shape_asked(
        request_format: str, answer: Any, ran: list[Any], content: str | None) -> None:
    done: list[dict[str, Any]] = []
    graph = _graph(done, request_format=request_format)
    config = {"configurable": {"thread_id": "t"}}
    _asked(graph, config)
    message = _answer(graph, config, answer)
    assert done == ran
    if content is None:
        assert message.status == "error" and "skipped" in message.content
    else:
        assert message.content == content


@pytest.mark.parametrize(("answer", "problem"), [
    ([{"type": "edit", "args": {"action": "other_tool", "args": EDITED}}], "other_tool"),
    ({"decisions": [{"type": "approve"}, {"type": "approve"}]}, "exactly one decision"),
    ({"decisions": [{"type": "edit", "edited_action": {"name": "email"}}]}, "edited_action"),
    ([{"type": "response", "args": None}], "'args' as a str"),
    ({"type": "accept", "args": {"to": "x"}}, "looks like"),
    ({"type": "accept", "args": {"action": "email", "args": EDITED}}, "not the call under"),
    ({"decisions": [{"type": "maybe"}]}, "not a decision"),
])
def test_an_answer_that_is_malformed_is_refused_and_nothing_runs(answer: Any,
                                                                problem: str) -> None:
    done: list[dict[str, Any]] = []
    graph = _graph(done)
    config = {"configurable": {"thread_id": "t"}}
    _asked(graph, config)
    with pytest.raises(InvalidReviewAnswerError, match=problem) as refused:
        graph.invoke(Command(resume=answer), config)
    assert "Agent Inbox:" in str(refused.value) and "LangChain:" in str(refused.value)
    assert done == []


def test_an_inbox_edit_of_a_tool_whose_arguments_are_action_and_args_is_ambiguous() -> None:
    done: list[dict[str, Any]] = []
    graph = _graph(done, tool_args={"action": "send", "args": {"to": "a"}})
    config = {"configurable": {"thread_id": "t"}}
    _asked(graph, config)
    with pytest.raises(InvalidReviewAnswerError, match="could be Agent Inbox's edit"):
        graph.invoke(Command(resume={"type": "edit", "args": {"action": "email",
                                                                "args": {"to": "b"}}}), config)
    assert done == []


def test_with_approval_refuses_an_unknown_request_format() -> None:
    def weather(city: str) -> str:
        """Get the weather."""
        return city

    with pytest.raises(ValueError, match="request_format must be one of"):
        with_approval(weather, request_format="slack")  # type: ignore[arg-type]


def test_agent_inbox_types_have_langgraphs_keys() -> None:
    assert set(HumanInterrupt.__annotations__) == {"action_request", "config", "description"}
    assert set(HumanInterruptConfig.__annotations__) == {
        "allow_ignore", "allow_respond", "allow_edit", "allow_accept"}
    assert set(ActionRequest.__annotations__) == {"action", "args"}
    assert set(HumanResponse.__annotations__) == {"type", "args"}
